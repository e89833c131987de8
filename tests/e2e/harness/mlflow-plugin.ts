/**
 * The MLflow extension (`extensions/mlflow`, plugin id `clawscope-mlflow`) as seen from an e2e test:
 * its plugin spec (refusing a missing or stale bundle), its health through the status RPC, its log
 * lines, and the batch files of its spool.
 */
import type { HealthSnapshot } from "@clawscope/kit";
import { describeExtension, type LogHolder } from "./extension-under-test.js";
import type { GatewayPluginSpec } from "./gateway-config.js";

// mlflow-client is bundled too: its sources count when checking the bundle is fresh
const mlflow = describeExtension("mlflow", ["mlflow-client"]);

/** The extension's plugin id. */
export const MLFLOW_ID = mlflow.id;
/** The extension's folder. */
export const MLFLOW_DIR = mlflow.dir;
/** The file the gateway loads. */
export const MLFLOW_ENTRY = mlflow.entry;
/**
 * `beforeAll` timeout of the MLflow files: a cold MLflow install (`ensureMlflowInstalled`, 1–3
 * minutes, 15 allowed), the first server start with its migrations (up to 3 minutes) and gateway starts.
 * Cached, the install returns at once.
 */
export const MLFLOW_SETUP_TIMEOUT_MS = 20 * 60_000;

/** The extension's plugin spec; fails at once when `dist/index.js` is missing or stale. */
export const mlflowPlugin = (config: Record<string, unknown>): GatewayPluginSpec => mlflow.spec(config);
export const assertMlflowBuilt = mlflow.assertBuilt;
export const readMlflowStatus = mlflow.readStatus;
export const mlflowLogLines = mlflow.logLines;
export const mlflowSpoolDir = mlflow.spoolDir;
export const listMlflowSpool = mlflow.listSpool;

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

/** The run lifecycle part of the health (undefined when the service reports none). */
export function readRunStatus(status: HealthSnapshot): MlflowRunStatus | undefined {
  return status.details.run as MlflowRunStatus | undefined;
}

/** The extension's ERROR and WARN lines, as `LEVEL message` (for an `toEqual([])` that shows them). */
export function mlflowProblems(gateway: LogHolder, levels: readonly string[] = ["ERROR", "WARN"]): string[] {
  return mlflowLogLines(gateway)
    .filter((line) => levels.includes(line.level))
    .map((line) => `${line.level} ${line.message}`);
}
