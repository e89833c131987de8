/**
 * The OTel extension (`extensions/otel`, plugin id `clawscope-otel`) as seen from an e2e test: its
 * plugin spec (refusing a missing or stale bundle), its health through the status RPC, its log
 * lines, and the batch files of its spool.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import type { HealthSnapshot } from "@clawscope/kit";
import { REPO_ROOT } from "./gateway.js";
import { callGatewayMethod, type GatewayAddress } from "./gateway-client.js";
import type { GatewayPluginSpec } from "./gateway-config.js";
import { type GatewayLogLine, readGatewayLog } from "./probe.js";

/** The extension's plugin id. */
export const OTEL_ID = "clawscope-otel";
/** The extension's folder; the gateway loads `dist/index.js` (its `runtimeExtensions`). */
export const OTEL_DIR = path.join(REPO_ROOT, "extensions", "otel");
/** The file the gateway loads. */
export const OTEL_ENTRY = path.join(OTEL_DIR, "dist", "index.js");
/**
 * `beforeAll` timeout of the OTel files: a cold collector build (`ensureCollectorBinary`, about 6
 * minutes on 2 cores, 30 allowed) plus a gateway start. Cached, the build returns at once.
 */
export const OTEL_SETUP_TIMEOUT_MS = 35 * 60_000;

/**
 * The extension's plugin spec with `config` as its `plugins.entries` config. Fails at once when
 * `dist/index.js` is missing or older than the extension's or the kit's sources: a stale bundle
 * would test old code and pass or fail for the wrong reason.
 */
export function otelPlugin(config: Record<string, unknown>): GatewayPluginSpec {
  assertOtelBuilt();
  return { dir: OTEL_DIR, id: OTEL_ID, config, allowConversationAccess: true };
}

/** Throws a one-line instruction when the extension's bundle is missing or stale. */
export function assertOtelBuilt(): void {
  const rebuild = "run `pnpm --filter @clawscope/otel build` (or `pnpm build`)";
  if (!existsSync(OTEL_ENTRY)) throw new Error(`${OTEL_ENTRY} is missing: ${rebuild}`);
  const builtAt = statSync(OTEL_ENTRY).mtimeMs;
  const sources = [
    ...listSources(path.join(OTEL_DIR, "src")),
    ...listSources(path.join(REPO_ROOT, "packages", "kit", "src")),
  ];
  const newer = sources.filter((file) => statSync(file).mtimeMs > builtAt);
  if (newer.length > 0) {
    const shown = newer.slice(0, 3).map((file) => path.relative(REPO_ROOT, file));
    throw new Error(`${OTEL_ENTRY} is older than ${shown.join(", ")}: ${rebuild}`);
  }
}

function listSources(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".ts") && !name.endsWith(".test.ts"))
    .map((name) => path.join(dir, name));
}

/** The extension's health, through the kit's status RPC. */
export async function readOtelStatus(gateway: GatewayAddress): Promise<HealthSnapshot> {
  return (await callGatewayMethod(gateway, `${OTEL_ID}.status`)) as HealthSnapshot;
}

/** Log lines the extension wrote through the kit's logger (`clawscope-otel: ...`). */
export function otelLogLines(gateway: { readLogFile(): string }): GatewayLogLine[] {
  return readGatewayLog(gateway).filter((line) => line.message.startsWith(`${OTEL_ID}: `));
}

/** Where the extension's pipelines spool: `<stateDir>/plugins/clawscope-otel/spool/<pipeline>/`. */
export function otelSpoolDir(gateway: { pluginStateDir(id: string): string }): string {
  return path.join(gateway.pluginStateDir(OTEL_ID), "spool");
}

/**
 * Files under the spool, as paths relative to it (`otlp-traces/batch-….jsonl`), split into live
 * batch files and dead-lettered ones. Temp files of a write in progress count as live.
 */
export function listOtelSpool(gateway: { pluginStateDir(id: string): string }): {
  live: string[];
  deadLettered: string[];
} {
  const root = otelSpoolDir(gateway);
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
