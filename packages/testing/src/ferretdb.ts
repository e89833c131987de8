/**
 * A real MongoDB wire-protocol server for the store's tests: FerretDB v1.24.2 with its SQLite
 * handler, built once by `scripts/ferretdb/build.sh` (cached) and started on 127.0.0.1. It is
 * stopped by its PID only. FerretDB implements less than MongoDB (no TTL indexes, one accumulator
 * per `$group`): the store's contract suite is what says the adapter copes.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { findFreePort } from "./free-port.js";
import { runSetupScriptOnce } from "./setup-script.js";
import { stopChild } from "./stop-child.js";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const BUILD_SCRIPT = path.join(REPO_ROOT, "scripts", "ferretdb", "build.sh");

export interface FerretDbServer {
  /** `mongodb://127.0.0.1:<port>/`. */
  uri: string;
  port: number;
  dataDir: string;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s); the data stays for `start`. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and removes its data. */
  dispose(): Promise<void>;
}

/** Builds the server (first call only; minutes cold) and resolves the binary's path. */
export async function ensureFerretDbBuilt(): Promise<string> {
  return await runSetupScriptOnce(BUILD_SCRIPT, { cwd: REPO_ROOT, timeoutMs: 900_000 });
}

export async function startFerretDb(options: { port?: number } = {}): Promise<FerretDbServer> {
  const binary = await ensureFerretDbBuilt();
  const port = options.port ?? (await findFreePort());
  const dataDir = mkdtempSync(path.join(tmpdir(), "clawscope-ferretdb-"));
  mkdirSync(dataDir, { recursive: true });
  const logFile = path.join(dataDir, "ferretdb.log");
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    if (child && child.exitCode === null) return;
    const log = createWriteStream(logFile, { flags: "a" });
    const started = spawn(binary, ["-listen", `127.0.0.1:${port}`, "-dir", path.join(dataDir, "data")], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = started;
    started.stderr?.pipe(log);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`FerretDB did not listen on ${port} within 30 s (log: ${logFile})`)),
        30_000,
      );
      let seen = "";
      started.stdout?.setEncoding("utf8");
      started.stdout?.on("data", (text: string) => {
        seen += text;
        if (seen.includes("listening")) {
          clearTimeout(timer);
          resolve();
        }
      });
      started.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`FerretDB exited (${code}) before it listened (log: ${logFile})`));
      });
    });
  };

  const stop = (): Promise<void> => stopChild(child);

  await start();
  return {
    uri: `mongodb://127.0.0.1:${port}/`,
    port,
    dataDir,
    stop,
    start,
    async dispose() {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
