/**
 * A real OpenTelemetry Collector for tests: built once by `scripts/otelcol/build.sh` (ocb, cached
 * under `.cache/otelcol/`), run on 127.0.0.1 with `deploy/collector/test-config.yaml` (OTLP/HTTP
 * receiver → one JSON-lines file per signal), stopped by the PID it started.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  decodeOtlpRequest,
  findFreePort,
  type OtlpRequest,
  type OtlpSpan,
  runSetupScriptOnce,
} from "@clawscope/testing";

/** A metric as the collector wrote it, flattened with its resource and scope. */
export type CollectedMetric = Extract<OtlpRequest, { signal: "metrics" }>["metrics"][number];
/** A log record as the collector wrote it, flattened with its resource and scope. */
export type CollectedLogRecord = Extract<OtlpRequest, { signal: "logs" }>["logs"][number];
/** A span as the collector wrote it, flattened with its resource and scope. */
export type CollectedSpan = OtlpSpan;

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const BUILD_SCRIPT = path.join(REPO_ROOT, "scripts", "otelcol", "build.sh");
/** The config the collector runs with; ports and paths come from its environment. */
export const COLLECTOR_TEST_CONFIG = path.join(REPO_ROOT, "deploy", "collector", "test-config.yaml");
/** A cold build (module downloads + compile) took about 6 minutes on 2 cores; leave room. */
const DEFAULT_BUILD_TIMEOUT_MS = 30 * 60_000;

/**
 * Builds the collector if the cache misses (minutes), else returns at once. Resolves to the
 * binary's absolute path. The build's progress goes to this process's stderr. One build per process.
 */
export async function ensureCollectorBinary(options: { timeoutMs?: number } = {}): Promise<string> {
  return await runSetupScriptOnce(BUILD_SCRIPT, {
    cwd: REPO_ROOT,
    timeoutMs: options.timeoutMs ?? DEFAULT_BUILD_TIMEOUT_MS,
  });
}

/** Options of {@link startCollector}. */
export interface StartCollectorOptions {
  /** Folder for the output files and `collector.log` (created if missing). */
  dir: string;
  /** Port of the OTLP/HTTP receiver (default: a free one). */
  port?: number;
  /** Binary to run (default: {@link ensureCollectorBinary}). */
  binary?: string;
  /**
   * Collector config (default {@link COLLECTOR_TEST_CONFIG}). It gets `CLAWSCOPE_OTELCOL_PORT` and
   * `CLAWSCOPE_OTELCOL_DIR` in its environment and must serve OTLP/HTTP on that port.
   */
  config?: string;
  /** How long to wait until the receiver answers (default 30 s). */
  readyTimeoutMs?: number;
}

/** A running (or stopped) collector. */
export interface CollectorHandle {
  /** `http://127.0.0.1:<port>`; exporters append `/v1/traces` etc. */
  readonly endpoint: string;
  readonly port: number;
  readonly dir: string;
  /** The collector's own stdout and stderr. */
  readonly logFile: string;
  /** PID of the current process (undefined once stopped). */
  readonly pid: number | undefined;
  /** Every span written so far (complete lines only), in file order. */
  readTraces(): CollectedSpan[];
  readMetrics(): CollectedMetric[];
  readLogs(): CollectedLogRecord[];
  /** SIGTERM its own PID (flushes the files), SIGKILL after `timeoutMs` (default 10 s). */
  stop(timeoutMs?: number): Promise<void>;
  /** Stop, then start again on the same port with the same files (they are appended to). */
  restart(): Promise<void>;
  /** The tail of `collector.log`, for failure messages. */
  logTail(lines?: number): string;
}

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Starts the collector on 127.0.0.1 and resolves once `POST /v1/traces` with an empty OTLP/JSON
 * export answers 200. Output goes to `<dir>/traces.jsonl`, `metrics.jsonl` and `logs.jsonl`.
 */
export async function startCollector(options: StartCollectorOptions): Promise<CollectorHandle> {
  const binary = options.binary ?? (await ensureCollectorBinary());
  const port = options.port ?? (await findFreePort());
  const dir = path.resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const logFile = path.join(dir, "collector.log");
  const endpoint = `http://127.0.0.1:${port}`;
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const configPath = path.resolve(options.config ?? COLLECTOR_TEST_CONFIG);
  let child: ChildProcess | undefined;

  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // A crashed test run must not leave collectors holding ports.
    process.once("exit", () => {
      for (const live of liveChildren) live.kill("SIGKILL");
    });
  }

  const launch = async (): Promise<void> => {
    const logFd = openSync(logFile, "a");
    const started = spawn(binary, [`--config=file:${configPath}`], {
      cwd: dir,
      env: { ...process.env, CLAWSCOPE_OTELCOL_PORT: String(port), CLAWSCOPE_OTELCOL_DIR: dir },
      stdio: ["ignore", logFd, logFd],
    });
    closeSync(logFd);
    child = started;
    liveChildren.add(started);
    started.once("exit", () => liveChildren.delete(started));
    await waitUntilReady(started, endpoint, readyTimeoutMs, () => logTail(20));
  };

  const logTail = (lines = 40): string =>
    existsSync(logFile) ? readFileSync(logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n") : "";

  const stop = async (timeoutMs = 10_000): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once("exit", () => resolve()));
    running.kill("SIGTERM");
    const timer = setTimeout(() => running.kill("SIGKILL"), timeoutMs);
    await exited;
    clearTimeout(timer);
  };

  await launch();
  return {
    endpoint,
    port,
    dir,
    logFile,
    get pid() {
      return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    readTraces: () => readSignalFile(path.join(dir, "traces.jsonl"), "traces").flatMap((r) => r.spans),
    readMetrics: () => readSignalFile(path.join(dir, "metrics.jsonl"), "metrics").flatMap((r) => r.metrics),
    readLogs: () => readSignalFile(path.join(dir, "logs.jsonl"), "logs").flatMap((r) => r.logs),
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    logTail,
  };
}

async function waitUntilReady(
  child: ChildProcess,
  endpoint: string,
  timeoutMs: number,
  logTail: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = "no attempt yet";
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `collector exited (${child.signalCode ?? `code ${child.exitCode}`}) before it was ready:\n${logTail()}`,
      );
    }
    try {
      const response = await fetch(`${endpoint}/v1/traces`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ resourceSpans: [] }),
        signal: AbortSignal.timeout(2_000),
      });
      await response.arrayBuffer();
      if (response.status === 200) return;
      lastProblem = `HTTP ${response.status}`;
    } catch (error) {
      lastProblem =
        error instanceof Error
          ? ((error.cause as Error | undefined)?.message ?? error.message)
          : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill("SIGKILL");
  throw new Error(`collector on ${endpoint} not ready after ${timeoutMs} ms (${lastProblem}):\n${logTail()}`);
}

type SignalRequest<Signal extends "traces" | "metrics" | "logs"> = Extract<OtlpRequest, { signal: Signal }>;

/**
 * Parses the file exporter's JSON lines. A last line without its newline is still being written
 * (the writer is buffered), so only complete lines count.
 */
function readSignalFile<Signal extends "traces" | "metrics" | "logs">(
  file: string,
  signal: Signal,
): SignalRequest<Signal>[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, "utf8");
  const complete = text.slice(0, text.lastIndexOf("\n") + 1);
  const requests: SignalRequest<Signal>[] = [];
  for (const [index, line] of complete.split("\n").entries()) {
    if (line.trim() === "") continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      throw new Error(`${file}:${index + 1} is not JSON: ${(error as Error).message}`);
    }
    requests.push(decodeOtlpRequest(signal, parsed as Record<string, unknown>) as SignalRequest<Signal>);
  }
  return requests;
}
