/**
 * The MLflow extension (`extensions/mlflow`, plugin id `clawscope-mlflow`) as seen from an e2e test:
 * its plugin spec (refusing a missing or stale bundle), its health through the status RPC, its log
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
export const MLFLOW_ID = "clawscope-mlflow";
/** The extension's folder; the gateway loads `dist/index.js` (its `runtimeExtensions`). */
export const MLFLOW_DIR = path.join(REPO_ROOT, "extensions", "mlflow");
/** The file the gateway loads. */
export const MLFLOW_ENTRY = path.join(MLFLOW_DIR, "dist", "index.js");
/**
 * `beforeAll` timeout of the MLflow files: a cold MLflow install (`ensureMlflowInstalled`, 1–3
 * minutes, 15 allowed), the first server start with its migrations (up to 3 minutes) and gateway starts.
 * Cached, the install returns at once.
 */
export const MLFLOW_SETUP_TIMEOUT_MS = 20 * 60_000;

/**
 * The extension's plugin spec with `config` as its `plugins.entries` config. Fails at once when
 * `dist/index.js` is missing or older than the extension's or the kit's sources.
 */
export function mlflowPlugin(config: Record<string, unknown>): GatewayPluginSpec {
  assertMlflowBuilt();
  return { dir: MLFLOW_DIR, id: MLFLOW_ID, config, allowConversationAccess: true };
}

/** Throws a one-line instruction when the extension's bundle is missing or stale. */
export function assertMlflowBuilt(): void {
  const rebuild = "run `pnpm --filter @clawscope/mlflow build` (or `pnpm build`)";
  if (!existsSync(MLFLOW_ENTRY)) throw new Error(`${MLFLOW_ENTRY} is missing: ${rebuild}`);
  const builtAt = statSync(MLFLOW_ENTRY).mtimeMs;
  const sources = [
    ...listSources(path.join(MLFLOW_DIR, "src")),
    ...listSources(path.join(REPO_ROOT, "packages", "kit", "src")),
    ...listSources(path.join(REPO_ROOT, "packages", "mlflow-client", "src")),
  ];
  const newer = sources.filter((file) => statSync(file).mtimeMs > builtAt);
  if (newer.length > 0) {
    const shown = newer.slice(0, 3).map((file) => path.relative(REPO_ROOT, file));
    throw new Error(`${MLFLOW_ENTRY} is older than ${shown.join(", ")}: ${rebuild}`);
  }
}

function listSources(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".ts") && !name.endsWith(".test.ts"))
    .map((name) => path.join(dir, name));
}

/** The extension's run lifecycle figures, as its `status()` reports them (`details.run`). */
export interface MlflowRunStatus {
  experimentId?: string;
  runId?: string;
  ready: boolean;
  failures: number;
  attempts: number;
  staleRunsClosed: number;
  lastError?: string;
}

/** The extension's health, through the kit's status RPC. */
export async function readMlflowStatus(gateway: GatewayAddress): Promise<HealthSnapshot> {
  return (await callGatewayMethod(gateway, `${MLFLOW_ID}.status`)) as HealthSnapshot;
}

/** The run lifecycle part of the health (undefined when the service reports none). */
export function readRunStatus(status: HealthSnapshot): MlflowRunStatus | undefined {
  return status.details.run as MlflowRunStatus | undefined;
}

/** Log lines the extension wrote through the kit's logger (`clawscope-mlflow: ...`). */
export function mlflowLogLines(gateway: { readLogFile(): string }): GatewayLogLine[] {
  return readGatewayLog(gateway).filter((line) => line.message.startsWith(`${MLFLOW_ID}: `));
}

/** The extension's ERROR and WARN lines, as `LEVEL message` (for an `toEqual([])` that shows them). */
export function mlflowProblems(
  gateway: { readLogFile(): string },
  levels: readonly string[] = ["ERROR", "WARN"],
): string[] {
  return mlflowLogLines(gateway)
    .filter((line) => levels.includes(line.level))
    .map((line) => `${line.level} ${line.message}`);
}

/** Where the extension's pipelines spool: `<stateDir>/plugins/clawscope-mlflow/spool/<pipeline>/`. */
export function mlflowSpoolDir(gateway: { pluginStateDir(id: string): string }): string {
  return path.join(gateway.pluginStateDir(MLFLOW_ID), "spool");
}

/**
 * Files under the spool, as paths relative to it (`mlflow-metrics/batch-….jsonl`), split into live
 * batch files and dead-lettered ones. Temp files of a write in progress count as live.
 */
export function listMlflowSpool(gateway: { pluginStateDir(id: string): string }): {
  live: string[];
  deadLettered: string[];
} {
  const root = mlflowSpoolDir(gateway);
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
