/**
 * The `send` of the metrics pipeline: each item is one interval's points, addressed to the run of
 * the process that recorded them. Items queued before the run existed (MLflow down at start, or
 * spooled by an earlier process that never got a run) go to the current run, created here first
 * if need be. Re-sending is safe: MLflow stores identical metric points once.
 */
import type { SendBatch, SendResult } from "@clawscope/kit";
import type { MetricPoint } from "../domain/metric-aggregator.js";
import { describeError } from "./describe-error.js";
import { type MlflowClient, toSendResult } from "./mlflow-client.js";
import type { RunLifecycle } from "./run-lifecycle.js";

/** One pipeline item: an interval's points and, when known at enqueue time, their run. */
export interface MetricBatch {
  runId?: string;
  points: MetricPoint[];
}

/** Creates the pipeline's send for metric batches. */
export function createMetricSender(options: {
  client: MlflowClient;
  lifecycle: Pick<RunLifecycle, "ensureRun">;
}): SendBatch<MetricBatch> {
  return async (items, signal): Promise<SendResult> => {
    try {
      const byRun = new Map<string | undefined, MetricPoint[]>();
      for (const item of items) {
        const payload = item.payload ?? ({} as MetricBatch);
        const runId = typeof payload.runId === "string" && payload.runId ? payload.runId : undefined;
        const points = byRun.get(runId) ?? [];
        if (Array.isArray(payload.points)) points.push(...payload.points);
        byRun.set(runId, points);
      }
      const unaddressed = byRun.get(undefined);
      if (unaddressed) {
        const run = await options.lifecycle.ensureRun();
        if (!run) return { kind: "retry", reason: "the MLflow run is not created yet" };
        byRun.delete(undefined);
        byRun.set(run.runId, [...(byRun.get(run.runId) ?? []), ...unaddressed]);
      }
      for (const [runId, points] of byRun) {
        if (!runId || points.length === 0) continue;
        await options.client.runs.logBatch(runId, { metrics: points }, { signal });
      }
      return { kind: "ok" };
    } catch (error) {
      try {
        return toSendResult(error);
      } catch {
        return { kind: "retry", reason: describeError(error) };
      }
    }
  };
}
