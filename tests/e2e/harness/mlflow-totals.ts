/**
 * The figures the MLflow e2e tests compare: a run's metric histories summed, against the gateway's
 * own totals (the host's `model.usage` events and the turns the probe recorded).
 */
import type { MlflowMetricPoint, MlflowReader } from "./mlflow-rest.js";
import { sumHistory } from "./mlflow-rest.js";
import type { ProbeRecords } from "./probe.js";

/** Token, cost and turn totals; `costUsd` is compared with a tolerance, the rest exactly. */
export interface RunTotals {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  costUsd: number;
  turns: number;
  errors: number;
}

/** The gateway's own totals: token and cost sums of its `model.usage` events, turns and failed turns. */
export function toHostTotals(records: ProbeRecords): RunTotals {
  const sum = (pick: (usage: ProbeRecords["modelUsage"][number]) => number | undefined) =>
    records.modelUsage.reduce((total, event) => total + (pick(event) ?? 0), 0);
  return {
    input: sum((event) => event.usage.input),
    output: sum((event) => event.usage.output),
    cacheRead: sum((event) => event.usage.cacheRead),
    cacheWrite: sum((event) => event.usage.cacheWrite),
    costUsd: sum((event) => event.costUsd),
    turns: records.turns.length,
    errors: records.turns.filter((turn) => turn.outcome === "error").length,
  };
}

/** A run's totals: the sums of its metric histories. */
export function toRunTotals(histories: ReadonlyMap<string, readonly MlflowMetricPoint[]>): RunTotals {
  const sum = (key: string) => sumHistory(histories.get(key));
  return {
    input: sum("tokens.input"),
    output: sum("tokens.output"),
    cacheRead: sum("tokens.cache_read"),
    cacheWrite: sum("tokens.cache_write"),
    costUsd: sum("cost_usd"),
    turns: sum("turns"),
    errors: sum("outcomes.error"),
  };
}

/** Reads every history of the run and sums it. */
export async function readRunTotals(
  reader: MlflowReader,
  runId: string,
): Promise<{ totals: RunTotals; histories: Map<string, MlflowMetricPoint[]> }> {
  const histories = await reader.allHistories(runId);
  return { totals: toRunTotals(histories), histories };
}

/**
 * The two totals side by side with cost rounded to 1e-12: equal exactly when every token and turn
 * count matches and the cost sums differ only by float rounding (summed in another grouping).
 */
export function toComparable(totals: RunTotals): RunTotals {
  return { ...totals, costUsd: Math.round(totals.costUsd * 1e12) / 1e12 };
}
