/**
 * Setup scripts that install or build a real backend for tests (the OpenTelemetry Collector, MLflow):
 * run once per process, bounded in time, killed with their whole process group on timeout, and
 * retried by the next caller after a failure. A script prints the artifact's path as its last stdout line.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";

const running = new Map<string, Promise<string>>();

/** Runs `bash <script>` once per process (concurrent callers share it) and resolves to the path it printed. */
export async function runSetupScriptOnce(
  script: string,
  options: { cwd: string; timeoutMs: number },
): Promise<string> {
  let pending = running.get(script);
  if (!pending) {
    const started = runSetupScript(script, options);
    pending = started;
    running.set(script, started);
    // a failed setup is retried by the next caller instead of failing forever
    started.catch(() => {
      if (running.get(script) === started) running.delete(script);
    });
  }
  return await pending;
}

async function runSetupScript(script: string, options: { cwd: string; timeoutMs: number }): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    const child = spawn("bash", [script], {
      cwd: options.cwd,
      stdio: ["ignore", "pipe", "inherit"],
      detached: true,
    });
    let stdout = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      stdout += chunk;
    });
    const timer = setTimeout(() => {
      // detached: the script leads its own process group, so compilers and pip stop with it
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGTERM");
      } catch {}
      reject(new Error(`${script} did not finish within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${script}: ${error.message}`));
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      const artifact = stdout.trim().split("\n").at(-1)?.trim() ?? "";
      if (code === 0 && artifact !== "" && existsSync(artifact)) resolve(artifact);
      else reject(new Error(`${script} failed (${signal ?? `exit ${code}`}); see its output above`));
    });
  });
}
