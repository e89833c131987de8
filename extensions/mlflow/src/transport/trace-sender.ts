/**
 * The `send` of the traces pipeline: a batch of turns' spans as one OTLP/HTTP protobuf request to
 * MLflow's `{trackingUri}/v1/traces` (server root, not `/api`). MLflow requires the header
 * `x-mlflow-experiment-id` and links the traces to the run named by `x-mlflow-run-id`; both come from
 * the run lifecycle, so the batch waits (retry) until the experiment is known. Re-sending is safe:
 * span ids are stable per turn and MLflow keys spans by trace and span id.
 */
import type { KitLogger, PackLogger, SendBatch, SendResult } from "@clawscope/kit";
import {
  createOtlpEncoder,
  createOtlpSender,
  type OtlpEncoder,
  type OtlpSender,
  type OtlpSignalStats,
  type TurnExport,
} from "@clawscope/kit/otlp";
import { describeError } from "./describe-error.js";
import type { RunLifecycle } from "./run-lifecycle.js";

/** Options of {@link createTraceSender}. */
export interface TraceSenderOptions {
  /** The server's base URL, without credentials (the client's `trackingUri`). */
  trackingUri: string;
  /** `Authorization` header value of the tracking server, if any. Never logged. */
  authorization?: string;
  lifecycle: Pick<RunLifecycle, "ensureRun">;
  timeoutMs?: number;
  /** The pack version, stamped on the instrumentation scope. */
  scopeVersion?: string;
  resourceAttributes?: Record<string, string>;
  logger?: KitLogger | PackLogger;
  /** Test seam. */
  fetchImpl?: typeof fetch;
}

/** The pipeline's send and the request counters. */
export interface TraceSender {
  send: SendBatch<TurnExport>;
  /** `{trackingUri}/v1/traces`. */
  readonly endpoint: string;
  stats(): OtlpSignalStats | undefined;
}

/** MLflow's OTLP header naming the experiment the spans go to (mlflow/tracing/utils/otlp.py). */
export const MLFLOW_EXPERIMENT_ID_HEADER = "x-mlflow-experiment-id";
/** MLflow's OTLP header naming the run the finished traces are linked to. */
export const MLFLOW_RUN_ID_HEADER = "x-mlflow-run-id";

/** Creates the traces pipeline's send. */
export function createTraceSender(options: TraceSenderOptions): TraceSender {
  const endpoint = `${options.trackingUri.replace(/\/+$/, "")}/v1/traces`;
  const encoder: OtlpEncoder = createOtlpEncoder({
    // MLflow's endpoint takes protobuf (and, in recent versions, JSON); protobuf works in every 3.6+
    protocol: "http/protobuf",
    scopeName: "clawscope-mlflow",
    ...(options.scopeVersion ? { scopeVersion: options.scopeVersion } : {}),
    ...(options.resourceAttributes ? { resourceAttributes: options.resourceAttributes } : {}),
  });
  // one OTLP sender per experiment and run: the headers are fixed at creation
  let current: { key: string; sender: OtlpSender } | undefined;
  const senderFor = (experimentId: string, runId: string): OtlpSender => {
    const key = `${experimentId}/${runId}`;
    if (current?.key === key) return current.sender;
    const headers: Record<string, string> = {
      [MLFLOW_EXPERIMENT_ID_HEADER]: experimentId,
      [MLFLOW_RUN_ID_HEADER]: runId,
    };
    if (options.authorization) headers.authorization = options.authorization;
    const sender = createOtlpSender({
      signals: ["traces"],
      endpoints: { traces: endpoint },
      headers,
      encoder,
      name: "clawscope-mlflow",
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.fetchImpl ? { fetchImpl: options.fetchImpl } : {}),
    });
    current = { key, sender };
    return sender;
  };
  const send: SendBatch<TurnExport> = async (items, signal): Promise<SendResult> => {
    let run: Awaited<ReturnType<RunLifecycle["ensureRun"]>>;
    try {
      run = await options.lifecycle.ensureRun();
    } catch (error) {
      return { kind: "retry", reason: `MLflow traces: ${describeError(error)}` };
    }
    if (!run?.experimentId) return { kind: "retry", reason: "the MLflow experiment is not known yet" };
    return senderFor(run.experimentId, run.runId).sendTraces(items, signal);
  };
  return { send, endpoint, stats: () => current?.sender.stats().traces };
}
