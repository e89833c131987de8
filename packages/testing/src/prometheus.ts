/**
 * A real Prometheus (Debian's 2.42, installed by `scripts/prometheus/setup.sh` when missing) for
 * tests: scrapes the given jobs every second from 127.0.0.1, loads rule files, and answers queries
 * through its HTTP API. Stopped by its own PID.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { findFreePort } from "./free-port.js";
import { runSetupScriptOnce } from "./setup-script.js";
import { stopChild } from "./stop-child.js";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const SETUP_SCRIPT = path.join(REPO_ROOT, "scripts", "prometheus", "setup.sh");

export interface ScrapeJob {
  name: string;
  /** `host:port`. */
  target: string;
  metricsPath?: string;
  bearerToken?: string;
}

export interface PrometheusServer {
  url: string;
  /** An instant query's result vector. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** The loaded rule groups, as `/api/v1/rules` says. */
  rules(): Promise<{ name: string; rules: { name: string; health: string; lastError?: string }[] }[]>;
  stop(): Promise<void>;
}

/** The binaries' folder after setup: `prometheus` and `promtool` from Debian. */
export async function ensurePrometheusInstalled(): Promise<string> {
  return await runSetupScriptOnce(SETUP_SCRIPT, { cwd: REPO_ROOT, timeoutMs: 300_000 });
}

/** Runs `promtool <args>` and returns its exit code and output. */
export async function runPromtool(
  args: string[],
  cwd?: string,
): Promise<{ status: number | null; output: string }> {
  const bin = await ensurePrometheusInstalled();
  const result = spawnSync(path.join(bin, "promtool"), args, { cwd, encoding: "utf8" });
  return { status: result.status, output: `${result.stdout ?? ""}${result.stderr ?? ""}` };
}

export async function startPrometheus(options: {
  jobs: ScrapeJob[];
  ruleFiles?: string[];
}): Promise<PrometheusServer> {
  const bin = await ensurePrometheusInstalled();
  const dir = mkdtempSync(path.join(tmpdir(), "clawscope-prometheus-"));
  const port = await findFreePort();
  const config = [
    "global:",
    "  scrape_interval: 1s",
    "  evaluation_interval: 1s",
    ...(options.ruleFiles?.length
      ? ["rule_files:", ...options.ruleFiles.map((file) => `  - ${JSON.stringify(file)}`)]
      : []),
    "scrape_configs:",
    ...options.jobs.flatMap((job) => [
      `  - job_name: ${JSON.stringify(job.name)}`,
      `    metrics_path: ${JSON.stringify(job.metricsPath ?? "/metrics")}`,
      ...(job.bearerToken
        ? ["    authorization:", `      credentials: ${JSON.stringify(job.bearerToken)}`]
        : []),
      "    static_configs:",
      `      - targets: [${JSON.stringify(job.target)}]`,
    ]),
  ].join("\n");
  writeFileSync(path.join(dir, "prometheus.yml"), `${config}\n`);
  const log = createWriteStream(path.join(dir, "prometheus.log"));
  const child: ChildProcess = spawn(
    path.join(bin, "prometheus"),
    [
      `--config.file=${path.join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${path.join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`Prometheus exited (${child.exitCode}) at start (log: ${dir}/prometheus.log)`);
    if (
      await fetch(`${url}/-/ready`).then(
        (response) => response.ok,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline)
      throw new Error(`Prometheus was not ready within 30 s (log: ${dir}/prometheus.log)`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const api = async <T>(route: string): Promise<T> => {
    const response = await fetch(`${url}${route}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== "success") throw new Error(`Prometheus ${route}: ${body.error ?? response.status}`);
    return body.data;
  };
  return {
    url,
    query: async (expr) =>
      (
        await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
          `/api/v1/query?query=${encodeURIComponent(expr)}`,
        )
      ).result,
    rules: async () =>
      (
        await api<{
          groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[];
        }>("/api/v1/rules")
      ).groups,
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
