/**
 * A real SMTP server for the digest tests: Mailpit v1.33.1, built once by `scripts/mailpit/build.sh`
 * (cached), started on 127.0.0.1 with SMTP login accepted over plain connections (so the client's
 * AUTH path runs), and read back through its HTTP API. Stopped by its PID only.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { findFreePort } from "./free-port.js";
import { runSetupScriptOnce } from "./setup-script.js";
import { stopChild } from "./stop-child.js";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const BUILD_SCRIPT = path.join(REPO_ROOT, "scripts", "mailpit", "build.sh");

export interface MailpitSummary {
  ID: string;
  MessageID: string;
  Subject: string;
  From: { Address: string };
  To: { Address: string }[];
}

export interface MailpitMessage extends MailpitSummary {
  Text: string;
  HTML: string;
}

export interface MailpitServer {
  smtpPort: number;
  apiUrl: string;
  /** Every message received, newest first. */
  messages(): Promise<MailpitSummary[]>;
  message(id: string): Promise<MailpitMessage>;
  /** The message's headers, by name (values as lists). */
  headers(id: string): Promise<Record<string, string[]>>;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s); its mailbox stays for `start`. */
  stop(): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

/** Builds Mailpit (first call only; minutes cold) and resolves the binary's path. */
export async function ensureMailpitBuilt(): Promise<string> {
  return await runSetupScriptOnce(BUILD_SCRIPT, { cwd: REPO_ROOT, timeoutMs: 900_000 });
}

export async function startMailpit(): Promise<MailpitServer> {
  const binary = await ensureMailpitBuilt();
  const smtpPort = await findFreePort();
  const httpPort = await findFreePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), "clawscope-mailpit-"));
  const logFile = path.join(dataDir, "mailpit.log");
  const apiUrl = `http://127.0.0.1:${httpPort}`;
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) return;
    const log = createWriteStream(logFile, { flags: "a" });
    const started = spawn(
      binary,
      [
        "--listen",
        `127.0.0.1:${httpPort}`,
        "--smtp",
        `127.0.0.1:${smtpPort}`,
        "--database",
        path.join(dataDir, "mailpit.db"),
        "--disable-version-check",
        "--smtp-auth-accept-any",
        "--smtp-auth-allow-insecure",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child = started;
    started.stdout?.pipe(log);
    started.stderr?.pipe(log);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (started.exitCode !== null)
        throw new Error(`Mailpit exited (${started.exitCode}) at start (log: ${logFile})`);
      const ready = await fetch(`${apiUrl}/readyz`).then(
        (response) => response.ok,
        () => false,
      );
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`Mailpit was not ready within 30 s (log: ${logFile})`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const stop = (): Promise<void> => stopChild(child);

  const getJson = async <T>(route: string): Promise<T> => {
    const response = await fetch(`${apiUrl}${route}`);
    if (!response.ok) throw new Error(`Mailpit ${route}: HTTP ${response.status}`);
    return (await response.json()) as T;
  };

  await start();
  return {
    smtpPort,
    apiUrl,
    messages: async () =>
      (await getJson<{ messages: MailpitSummary[] }>("/api/v1/messages?limit=500")).messages,
    message: (id) => getJson<MailpitMessage>(`/api/v1/message/${encodeURIComponent(id)}`),
    headers: (id) => getJson<Record<string, string[]>>(`/api/v1/message/${encodeURIComponent(id)}/headers`),
    stop,
    start,
    async dispose() {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
