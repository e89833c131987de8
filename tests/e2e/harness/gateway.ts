/**
 * Boots the real `openclaw gateway run` in an isolated folder (HOME, state, config, TMPDIR, log file)
 * against the mock provider, waits until it is ready, and stops it by the PID it started.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { findFreePort } from "@clawscope/testing";
import {
  createGatewayConfig,
  type GatewayPluginSpec,
  type JsonObject,
  type MockProviderApi,
} from "./gateway-config.js";
import { type MockProvider, type MockProviderOptions, startMockProvider } from "./mock-provider.js";

/** Options of {@link startGateway}. */
export interface StartGatewayOptions {
  plugins?: GatewayPluginSpec[];
  /** Deep-merged over the generated config (objects merge, arrays replace). */
  extraConfig?: JsonObject;
  /** Extra environment for the gateway process (after isolation variables, so it can override them). */
  env?: Record<string, string>;
  /** Use this provider instead of starting one (it is then not closed by `close()`). */
  provider?: MockProvider;
  providerOptions?: MockProviderOptions;
  /** Model API of the mock provider (default `openai-completions`). */
  providerApi?: MockProviderApi;
  /** How long to wait for readiness (default 90 s). */
  readyTimeoutMs?: number;
  /** Run in this folder (kept by `close()`) instead of a fresh one under `.e2e-tmp/` (the demo uses it). */
  rootDir?: string;
}

/** Exit of the gateway process. */
export interface GatewayExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running (or stopped) test gateway. */
export interface GatewayHandle {
  readonly port: number;
  readonly token: string;
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  /** `ws://127.0.0.1:<port>` */
  readonly wsUrl: string;
  readonly rootDir: string;
  readonly homeDir: string;
  readonly stateDir: string;
  readonly configPath: string;
  readonly logFile: string;
  readonly provider: MockProvider;
  /** PID of the current gateway process (undefined once stopped). */
  readonly pid: number | undefined;
  /** Config written at start (the gateway may migrate the file itself). */
  readonly config: JsonObject;
  /** Environment of the gateway process; run `openclaw` CLI commands with it to reach the same state. */
  readonly env: NodeJS.ProcessEnv;
  /** Gateway output lines naming the plugin (`plugin=<id>`): registration errors, load warnings. */
  pluginDiagnostics(pluginId: string): string[];
  /** Where a plugin keeps its own files: `<stateDir>/plugins/<id>`. */
  pluginStateDir(pluginId: string): string;
  /** Captured stdout and stderr since the first start (bounded). */
  logs(): { stdout: string; stderr: string };
  /** Contents of `logging.file` ("" while it does not exist). */
  readLogFile(): string;
  /** SIGTERM the gateway's PID, wait for exit (SIGKILL after `timeoutMs`, default 20 s); returns the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
  /** SIGKILL the gateway's PID (a crash: no shutdown hook runs) and wait for the exit. */
  kill(): Promise<GatewayExit | undefined>;
  /** Last exit, once the process has exited. */
  readonly lastExit: GatewayExit | undefined;
  /** Stop, then start again with the same folders, port, token and config. */
  restart(): Promise<void>;
  /** Stop if running, close an owned provider, delete the folder (kept when CLAWSCOPE_E2E_KEEP=1). */
  close(): Promise<void>;
}

const HARNESS_DIR = path.dirname(fileURLToPath(import.meta.url));
/** Repository root (tests/e2e/harness → ../../..). */
export const REPO_ROOT = path.resolve(HARNESS_DIR, "../../..");
const TEMP_ROOT = path.join(REPO_ROOT, ".e2e-tmp");
const COMPILE_CACHE_DIR = path.join(REPO_ROOT, ".cache", "node-compile-cache");
const OUTPUT_CAP_CHARS = 4 * 1024 * 1024;
const READY_LINE = "[gateway] ready";

/** Gateways started by this process: killed (by PID) if the test process exits without stopping them. */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackChild(child: ChildProcess): void {
  liveChildren.add(child);
  child.once("exit", () => liveChildren.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const running of liveChildren) {
      // the launcher's re-spawned child first: it is the gateway proper
      for (const pid of running.pid ? listDescendants(running.pid).reverse() : []) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      running.kill("SIGKILL");
    }
  });
}

/** The openclaw CLI entry installed for the repo. */
export function resolveOpenClawEntry(): string {
  const candidates = [
    path.join(REPO_ROOT, "node_modules", "openclaw", "openclaw.mjs"),
    path.join(REPO_ROOT, "tests", "e2e", "node_modules", "openclaw", "openclaw.mjs"),
  ];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) throw new Error(`openclaw is not installed (looked for ${candidates.join(", ")})`);
  return found;
}

/**
 * A Node >= 24 binary. The `node_modules/.bin/node` shim is a shell script that does not exec,
 * so a SIGTERM to its PID would not reach Node; use the real binary behind it.
 */
export function resolveNodeBinary(): string {
  const major = Number(process.versions.node.split(".")[0]);
  if (major >= 24) return process.execPath;
  const bundled = path.join(REPO_ROOT, "node_modules", "node", "bin", "node");
  if (existsSync(bundled)) return bundled;
  throw new Error(`openclaw needs Node >= 24; running ${process.version} and ${bundled} is missing`);
}

/** PIDs below `pid` in the process tree, parents before their children (Linux `/proc`). */
function listDescendants(pid: number): number[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter((text) => text !== "")
      .map(Number);
  } catch {
    return [];
  }
  return children.flatMap((child) => [child, ...listDescendants(child)]);
}

/** Removes colour codes so log matching works whatever the gateway decides about TTY colours. */
export function stripAnsi(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
  return text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, "");
}

/** Environment of the gateway: the parent's minus anything OpenClaw- or Node-loader-specific. */
function createIsolatedEnv(dirs: {
  home: string;
  state: string;
  config: string;
  tmp: string;
}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (
      key.startsWith("OPENCLAW_") ||
      key === "NODE_OPTIONS" ||
      key === "NODE_PATH" ||
      key.startsWith("VITEST")
    ) {
      continue;
    }
    env[key] = value;
  }
  return {
    ...env,
    HOME: dirs.home,
    USERPROFILE: dirs.home,
    OPENCLAW_STATE_DIR: dirs.state,
    OPENCLAW_CONFIG_PATH: dirs.config,
    TMPDIR: dirs.tmp,
    NODE_COMPILE_CACHE: COMPILE_CACHE_DIR,
    NO_COLOR: "1",
    FORCE_COLOR: "0",
  };
}

function appendCapped(current: string, chunk: string): string {
  const next = current + chunk;
  return next.length > OUTPUT_CAP_CHARS ? next.slice(next.length - OUTPUT_CAP_CHARS) : next;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function isHealthy(baseUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
    if (!response.ok) return false;
    const body = (await response.json()) as { ok?: unknown };
    return body.ok === true;
  } catch {
    return false;
  }
}

/**
 * Starts a mock provider (unless given) and the real gateway with the given plugins, and resolves
 * once `GET /healthz` answers ok and stdout shows `[gateway] ready`.
 */
export async function startGateway(options: StartGatewayOptions = {}): Promise<GatewayHandle> {
  const ownsProvider = options.provider === undefined;
  const provider = options.provider ?? (await startMockProvider(options.providerOptions));
  mkdirSync(TEMP_ROOT, { recursive: true });
  mkdirSync(COMPILE_CACHE_DIR, { recursive: true });
  const rootDir =
    options.rootDir ?? path.join(TEMP_ROOT, `gateway-${Date.now()}-${randomBytes(3).toString("hex")}`);
  const homeDir = path.join(rootDir, "home");
  const stateDir = path.join(rootDir, "state");
  const tmpDir = path.join(rootDir, "tmp");
  const logFile = path.join(rootDir, "logs", "openclaw.log");
  const configPath = path.join(rootDir, "openclaw.json");
  for (const dir of [homeDir, stateDir, tmpDir, path.dirname(logFile)]) mkdirSync(dir, { recursive: true });

  const port = await findFreePort();
  const token = randomBytes(24).toString("hex");
  const baseUrl = `http://127.0.0.1:${port}`;
  const config = createGatewayConfig({
    port,
    token,
    logFile,
    providerBaseUrl: provider.baseUrl,
    providerApi: options.providerApi ?? "openai-completions",
    plugins: options.plugins ?? [],
    extraConfig: options.extraConfig,
  });
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  const env: NodeJS.ProcessEnv = {
    ...createIsolatedEnv({ home: homeDir, state: stateDir, config: configPath, tmp: tmpDir }),
    ...options.env,
  };
  const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;

  let stdout = "";
  let stderr = "";
  let child: ChildProcess | undefined;
  let exitPromise: Promise<GatewayExit> | undefined;
  let lastExit: GatewayExit | undefined;

  const spawnGateway = async (): Promise<void> => {
    const startOffset = stdout.length;
    const process_ = spawn(
      resolveNodeBinary(),
      [resolveOpenClawEntry(), "gateway", "run", "--port", String(port)],
      {
        cwd: rootDir,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    child = process_;
    trackChild(process_);
    lastExit = undefined;
    process_.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout = appendCapped(stdout, chunk);
    });
    process_.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      stderr = appendCapped(stderr, chunk);
    });
    exitPromise = new Promise<GatewayExit>((resolve) => {
      process_.once("exit", (code, signal) => {
        lastExit = { code, signal };
        if (child === process_) child = undefined;
        resolve(lastExit);
      });
    });
    const deadline = Date.now() + readyTimeoutMs;
    while (Date.now() < deadline) {
      // set by the exit listener; TS cannot see that across the await
      const exitedEarly = lastExit as GatewayExit | undefined;
      if (exitedEarly) {
        throw new Error(
          `gateway exited before ready (code ${exitedEarly.code}, signal ${exitedEarly.signal})\n` +
            `--- stdout tail ---\n${stdout.slice(-4000)}\n--- stderr tail ---\n${stderr.slice(-4000)}`,
        );
      }
      // The ready line is searched only in output of this start (restart reuses the buffer).
      if (stripAnsi(stdout.slice(startOffset)).includes(READY_LINE) && (await isHealthy(baseUrl))) {
        await assertPluginsLoaded(startOffset);
        return;
      }
      await sleep(250);
    }
    await stop(5_000);
    throw new Error(
      `gateway not ready after ${readyTimeoutMs} ms\n--- stdout tail ---\n${stdout.slice(-4000)}`,
    );
  };

  const stop = async (timeoutMs = 20_000): Promise<number | null> => {
    const running = child;
    const exited = exitPromise;
    if (!running || !exited) return lastExit?.code ?? null;
    running.kill("SIGTERM");
    // SIGKILL only if SIGTERM did not end it in time; the timer must not outlive the stop
    const killTimer = setTimeout(() => running.kill("SIGKILL"), timeoutMs);
    const exit = await exited;
    clearTimeout(killTimer);
    return exit.code;
  };

  const kill = async (): Promise<GatewayExit | undefined> => {
    const running = child;
    const exited = exitPromise;
    if (!running?.pid || !exited) return lastExit;
    // openclaw.mjs may re-spawn itself (a compile-cache child): the gateway proper is then our
    // child's child, and killing only the launcher would leave it running. Kill the tree by PID,
    // deepest first, so the gateway dies without any shutdown hook.
    for (const pid of [...listDescendants(running.pid)].reverse()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    running.kill("SIGKILL");
    return exited;
  };

  /** A requested plugin missing from "http server listening (N plugins: a, b; …)" failed to load. */
  const assertPluginsLoaded = async (startOffset: number): Promise<void> => {
    const match = /http server listening \(\d+ plugins: ([^;)]*)/.exec(stripAnsi(stdout.slice(startOffset)));
    if (!match) return;
    const loaded = new Set((match[1] ?? "").split(",").map((id) => id.trim()));
    const missing = (options.plugins ?? []).map((plugin) => plugin.id).filter((id) => !loaded.has(id));
    if (missing.length === 0) return;
    await stop(5_000);
    throw new Error(
      `plugins not loaded: ${missing.join(", ")}\n` +
        missing.map((id) => pluginDiagnostics(id).join("\n")).join("\n") +
        `\n--- stderr tail ---\n${stderr.slice(-4000)}`,
    );
  };

  const pluginDiagnostics = (pluginId: string): string[] =>
    stripAnsi(`${stdout}\n${stderr}`)
      .split("\n")
      .filter((line) => line.includes(`plugin=${pluginId}`) || line.includes(`plugin ${pluginId}`));

  try {
    await spawnGateway();
  } catch (error) {
    if (ownsProvider) await provider.close();
    throw error;
  }

  return {
    port,
    token,
    baseUrl,
    wsUrl: `ws://127.0.0.1:${port}`,
    rootDir,
    homeDir,
    stateDir,
    configPath,
    logFile,
    provider,
    config,
    get pid() {
      return child?.pid;
    },
    get lastExit() {
      return lastExit;
    },
    env,
    pluginStateDir: (pluginId) => path.join(stateDir, "plugins", pluginId),
    pluginDiagnostics,
    logs: () => ({ stdout, stderr }),
    readLogFile: () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : ""),
    stop,
    kill,
    restart: async () => {
      await stop();
      await spawnGateway();
    },
    close: async () => {
      await stop();
      if (ownsProvider) await provider.close();
      if (process.env.CLAWSCOPE_E2E_KEEP !== "1" && options.rootDir === undefined)
        rmSync(rootDir, { recursive: true, force: true });
    },
  };
}
