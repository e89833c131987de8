/**
 * `pnpm demo`, the newcomer's first command, as it runs on a fresh clone (after the build `pnpm test`
 * does first): the real gateway with the whole pack, its turns, the gateway's figures equal to the
 * pack's, and the closing "ask the pack" command run exactly as printed, from the repository root.
 */
import { spawn, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { REPO_ROOT, resolveNodeBinary } from "./harness/gateway.js";

/** The environment of a newcomer's shell: nothing of the test's own gateway or tooling. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith("OPENCLAW_") || key.startsWith("VITEST") || key === "NODE_OPTIONS") continue;
    env[key] = value;
  }
  return env;
}

async function runDemo(): Promise<{ code: number | null; output: string }> {
  return await new Promise((resolve, reject) => {
    const child = spawn(resolveNodeBinary(), ["--import", "tsx", "scripts/demo.ts"], {
      cwd: REPO_ROOT,
      env: cleanEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 8 * 60_000);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe("pnpm demo", () => {
  it(
    "runs the gateway with the pack, its figures equal the gateway's, and what it prints works",
    async () => {
      const { code, output } = await runDemo();
      expect(code, output.slice(-3000)).toBe(0);
      expect(output).toMatch(/The gateway's own figures \(sessions\.usage\): .* \(equal\)/);
      const asked = /Ask the pack any time: (.+)$/m.exec(output)?.[1];
      expect(asked, "the demo prints a status command").toBeDefined();
      const status = spawnSync("sh", ["-c", asked as string], {
        cwd: REPO_ROOT,
        env: cleanEnv(),
        encoding: "utf8",
        timeout: 120_000,
      });
      expect(status.status, `${asked}\n${status.stdout}\n${status.stderr}`).toBe(0);
      expect(status.stdout).not.toContain("does not know the command");
      for (const id of ["clawscope-otel", "clawscope-mlflow", "clawscope-langfuse"]) {
        expect(status.stdout, `${asked} names ${id}`).toMatch(new RegExp(`^${id}: stopped`, "m"));
      }
    },
    10 * 60_000,
  );
});
