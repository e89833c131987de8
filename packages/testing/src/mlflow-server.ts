/**
 * A real MLflow tracking server for tests (integration and e2e): installed once by
 * `scripts/mlflow/setup.sh` (cached virtualenv under `.cache/mlflow/`), run on 127.0.0.1 with a
 * SQLite store in the test's folder, stopped by the process group it started (the server forks
 * uvicorn/gunicorn workers).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { findFreePort } from "./free-port.js";
import { runSetupScriptOnce } from "./setup-script.js";

// packages/testing/src → repository root
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const SETUP_SCRIPT = path.join(REPO_ROOT, "scripts", "mlflow", "setup.sh");
/** A cold install took about 2.5 minutes on 2 cores; leave room for a slow registry. */
const DEFAULT_INSTALL_TIMEOUT_MS = 15 * 60_000;
/** The first start runs the database migrations (10–30 s); later starts take a few seconds. */
const DEFAULT_START_TIMEOUT_MS = 180_000;
const STOP_GRACE_MS = 10_000;

/** HTTP Basic credentials of the `basic-auth` app's admin user. */
export interface MlflowBasicAuth {
  username: string;
  password: string;
}

/** Options of {@link startMlflowServer}. */
export interface StartMlflowServerOptions {
  /** Folder for `mlflow.db`, `artifacts/` and `mlflow-server.log` (created if missing). */
  dir: string;
  /** Port (default: a free one; kept across restarts). */
  port?: number;
  /**
   * Start with `--app-name basic-auth`. `true` makes up an admin password; MLflow 3.17+ ships no
   * default password and refuses the old `password1234`.
   */
  basicAuth?: boolean | Partial<MlflowBasicAuth>;
  startTimeoutMs?: number;
  /** Extra environment for the server process. */
  env?: Record<string, string>;
}

/** A running server. */
export interface MlflowServer {
  /** `http://127.0.0.1:<port>` — what `MLFLOW_TRACKING_URI` would hold. */
  readonly trackingUri: string;
  readonly port: number;
  /** PID of the current server process (the leader of its process group). */
  readonly pid: number;
  /** The admin credentials when started with `basicAuth`. */
  readonly basicAuth?: MlflowBasicAuth;
  /** SIGTERM to the process group, SIGKILL after 10 s. Idempotent. */
  stop(): Promise<void>;
  /** Stops and starts again on the same port and store. */
  restart(): Promise<void>;
  /** The last `lines` lines of the server's log, for failure messages. */
  logTail(lines?: number): string;
}

/**
 * Installs MLflow if the cache misses (minutes), else returns at once. Resolves to the `mlflow`
 * executable's absolute path. The script's progress goes to this process's stderr.
 */
export async function ensureMlflowInstalled(options: { timeoutMs?: number } = {}): Promise<string> {
  return await runSetupScriptOnce(SETUP_SCRIPT, {
    cwd: REPO_ROOT,
    timeoutMs: options.timeoutMs ?? DEFAULT_INSTALL_TIMEOUT_MS,
  });
}

/**
 * Starts `mlflow server` on 127.0.0.1 with a SQLite store in `dir` and resolves once
 * `GET /health` answers "OK". Installs MLflow first if needed.
 */
export async function startMlflowServer(options: StartMlflowServerOptions): Promise<MlflowServer> {
  const mlflow = await ensureMlflowInstalled();
  const dir = path.resolve(options.dir);
  mkdirSync(path.join(dir, "artifacts"), { recursive: true });
  const port = options.port ?? (await findFreePort());
  const logFile = path.join(dir, "mlflow-server.log");
  const trackingUri = `http://127.0.0.1:${port}`;
  const basicAuth = options.basicAuth ? resolveBasicAuth(options.basicAuth) : undefined;

  const args = [
    "server",
    "--backend-store-uri",
    `sqlite:///${path.join(dir, "mlflow.db")}`,
    "--default-artifact-root",
    path.join(dir, "artifacts"),
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--workers",
    "1",
  ];
  const env: Record<string, string | undefined> = {
    ...process.env,
    // no usage reporting from test servers (MLflow reads both)
    MLFLOW_DISABLE_TELEMETRY: "true",
    DO_NOT_TRACK: "true",
    PYTHONUNBUFFERED: "1",
    // the server must not act as a client of some other tracking server
    MLFLOW_TRACKING_URI: undefined,
    MLFLOW_TRACKING_TOKEN: undefined,
    MLFLOW_TRACKING_USERNAME: undefined,
    MLFLOW_TRACKING_PASSWORD: undefined,
    ...options.env,
  };
  if (basicAuth) {
    args.push("--app-name", "basic-auth");
    Object.assign(env, writeBasicAuthConfig(dir, basicAuth));
  }

  let child: ChildProcess | undefined;
  let exitHook: (() => void) | undefined;

  const launch = async (): Promise<void> => {
    const logFd = openSync(logFile, "a");
    try {
      // detached: the server leads its own process group, so its workers stop with it
      child = spawn(mlflow, args, { cwd: dir, env, stdio: ["ignore", logFd, logFd], detached: true });
    } finally {
      closeSync(logFd);
    }
    const started = child;
    let spawnError: Error | undefined;
    // without a listener a failed spawn (ENOENT, EACCES) would crash the test process
    started.once("error", (error) => {
      spawnError = error;
    });
    const pid = started.pid;
    if (pid === undefined)
      throw new Error(`could not spawn ${mlflow}${spawnError ? `: ${spawnError.message}` : ""}`);
    // if the test process dies without stop(), do not leave a server behind
    exitHook = () => killGroup(pid, "SIGKILL");
    process.once("exit", exitHook);
    try {
      await waitForHealth(trackingUri, started, options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
    } catch (error) {
      await stopChild();
      throw new Error(`${(error as Error).message}\n--- mlflow-server.log (tail) ---\n${tail(logFile, 40)}`);
    }
  };

  const stopChild = async (): Promise<void> => {
    const current = child;
    child = undefined;
    if (exitHook) process.removeListener("exit", exitHook);
    exitHook = undefined;
    if (!current?.pid) return;
    const pid = current.pid;
    const exited =
      current.exitCode !== null || current.signalCode !== null
        ? Promise.resolve()
        : new Promise<void>((resolve) => current.once("exit", () => resolve()));
    killGroup(pid, "SIGTERM");
    const clean = await Promise.race([exited.then(() => true), delay(STOP_GRACE_MS).then(() => false)]);
    // workers can outlive the leader: whatever is left in the group is killed
    if (!clean || groupAlive(pid)) killGroup(pid, "SIGKILL");
    await Promise.race([exited, delay(STOP_GRACE_MS)]);
  };

  await launch();
  return {
    trackingUri,
    port,
    get pid() {
      return child?.pid ?? -1;
    },
    ...(basicAuth ? { basicAuth } : {}),
    stop: stopChild,
    async restart() {
      await stopChild();
      await launch();
    },
    logTail: (lines = 40) => tail(logFile, lines),
  };
}

function resolveBasicAuth(option: true | Partial<MlflowBasicAuth>): MlflowBasicAuth {
  const given = option === true ? {} : option;
  return {
    username: given.username ?? "admin",
    password: given.password ?? `pw-${randomBytes(12).toString("hex")}`,
  };
}

/**
 * The auth app reads an ini file whose default `database_uri` is relative to the working folder;
 * give it one in `dir`, and the admin credentials and CSRF secret it demands since 3.x.
 */
function writeBasicAuthConfig(dir: string, auth: MlflowBasicAuth): Record<string, string> {
  const configPath = path.join(dir, "basic_auth.ini");
  writeFileSync(
    configPath,
    [
      "[mlflow]",
      "default_permission = READ",
      `database_uri = sqlite:///${path.join(dir, "basic_auth.db")}`,
      `admin_username = ${auth.username}`,
      `admin_password = ${auth.password}`,
      "authorization_function = mlflow.server.auth:authenticate_request_basic_auth",
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  return {
    MLFLOW_AUTH_CONFIG_PATH: configPath,
    MLFLOW_AUTH_ADMIN_USERNAME: auth.username,
    MLFLOW_AUTH_ADMIN_PASSWORD: auth.password,
    MLFLOW_FLASK_SERVER_SECRET_KEY: randomBytes(16).toString("hex"),
  };
}

async function waitForHealth(trackingUri: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = "no answer yet";
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`mlflow server exited early (${child.signalCode ?? `exit ${child.exitCode}`})`);
    }
    try {
      const response = await fetch(`${trackingUri}/health`, { signal: AbortSignal.timeout(2_000) });
      const text = (await response.text()).trim();
      if (response.status === 200 && text === "OK") return;
      lastProblem = `HTTP ${response.status} ${text.slice(0, 80)}`;
    } catch (error) {
      lastProblem = (error as Error).message;
    }
    await delay(250);
  }
  throw new Error(`mlflow server at ${trackingUri} not healthy within ${timeoutMs} ms (${lastProblem})`);
}

/** Signals the whole process group led by `pid` (never anything by name). */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, "utf8")
      .split("\n")
      .slice(-lines - 1)
      .join("\n");
  } catch {
    return "(no log)";
  }
}

async function delay(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}
