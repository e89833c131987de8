/**
 * The Langfuse extension (`extensions/langfuse`, plugin id `clawscope-langfuse`) as seen from an e2e
 * test: its plugin spec pointed at a Langfuse receiver (refusing a missing or stale bundle), its
 * health through the status RPC, its log lines, and the batch files of its spool.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import type { HealthSnapshot } from "@clawscope/kit";
import type { LangfuseReceiver } from "@clawscope/testing";
import { REPO_ROOT } from "./gateway.js";
import { callGatewayMethod, type GatewayAddress } from "./gateway-client.js";
import type { GatewayPluginSpec } from "./gateway-config.js";
import { type GatewayLogLine, readGatewayLog } from "./probe.js";

/** The extension's plugin id. */
export const LANGFUSE_ID = "clawscope-langfuse";
/** The extension's folder; the gateway loads `dist/index.js` (its `runtimeExtensions`). */
export const LANGFUSE_DIR = path.join(REPO_ROOT, "extensions", "langfuse");
/** The file the gateway loads. */
export const LANGFUSE_ENTRY = path.join(LANGFUSE_DIR, "dist", "index.js");
/** `beforeAll` timeout of the Langfuse files: gateway starts and a slow first turn on a busy machine. */
export const LANGFUSE_SETUP_TIMEOUT_MS = 5 * 60_000;

/**
 * The extension's plugin spec, sending to `receiver` with its key pair, `config` merged over that.
 * Fails at once when `dist/index.js` is missing or older than the extension's or the kit's sources:
 * a stale bundle would test old code and pass or fail for the wrong reason.
 */
export function langfusePlugin(
  receiver: Pick<LangfuseReceiver, "url" | "credentials">,
  config: Record<string, unknown> = {},
): GatewayPluginSpec {
  assertLangfuseBuilt();
  return {
    dir: LANGFUSE_DIR,
    id: LANGFUSE_ID,
    config: {
      publicKey: receiver.credentials.publicKey,
      secretKey: receiver.credentials.secretKey,
      baseUrl: receiver.url,
      ...config,
    },
    allowConversationAccess: true,
  };
}

/** Throws a one-line instruction when the extension's bundle is missing or stale. */
export function assertLangfuseBuilt(): void {
  const rebuild = "run `pnpm --filter @clawscope/langfuse build` (or `pnpm build`)";
  if (!existsSync(LANGFUSE_ENTRY)) throw new Error(`${LANGFUSE_ENTRY} is missing: ${rebuild}`);
  const builtAt = statSync(LANGFUSE_ENTRY).mtimeMs;
  const sources = [
    ...listSources(path.join(LANGFUSE_DIR, "src")),
    ...listSources(path.join(REPO_ROOT, "packages", "kit", "src")),
  ];
  const newer = sources.filter((file) => statSync(file).mtimeMs > builtAt);
  if (newer.length > 0) {
    const shown = newer.slice(0, 3).map((file) => path.relative(REPO_ROOT, file));
    throw new Error(`${LANGFUSE_ENTRY} is older than ${shown.join(", ")}: ${rebuild}`);
  }
}

function listSources(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".ts") && !name.endsWith(".test.ts"))
    .map((name) => path.join(dir, name));
}

/** The extension's health, through the kit's status RPC. */
export async function readLangfuseStatus(gateway: GatewayAddress): Promise<HealthSnapshot> {
  return (await callGatewayMethod(gateway, `${LANGFUSE_ID}.status`)) as HealthSnapshot;
}

/** Log lines the extension wrote through the kit's logger (`clawscope-langfuse: ...`). */
export function langfuseLogLines(gateway: { readLogFile(): string }): GatewayLogLine[] {
  return readGatewayLog(gateway).filter((line) => line.message.startsWith(`${LANGFUSE_ID}: `));
}

/** Where the extension's pipelines spool: `<stateDir>/plugins/clawscope-langfuse/spool/<pipeline>/`. */
export function langfuseSpoolDir(gateway: { pluginStateDir(id: string): string }): string {
  return path.join(gateway.pluginStateDir(LANGFUSE_ID), "spool");
}

/**
 * Files under the spool, as paths relative to it (`langfuse-traces/batch-….jsonl`), split into live
 * batch files and dead-lettered ones. Temp files of a write in progress count as live.
 */
export function listLangfuseSpool(gateway: { pluginStateDir(id: string): string }): {
  live: string[];
  deadLettered: string[];
} {
  const root = langfuseSpoolDir(gateway);
  const live: string[] = [];
  const deadLettered: string[] = [];
  if (!existsSync(root)) return { live, deadLettered };
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true, encoding: "utf8" })) {
    if (!entry.isFile()) continue;
    const relative = path.relative(root, path.join(entry.parentPath, entry.name));
    if (relative.split(path.sep).includes("dead-letter")) deadLettered.push(relative);
    else live.push(relative);
  }
  return { live: live.sort(), deadLettered: deadLettered.sort() };
}
