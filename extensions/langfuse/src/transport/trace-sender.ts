/**
 * Spans to Langfuse's OTLP endpoint: one OTLP/HTTP JSON request per pipeline batch to
 * `<baseUrl>/api/public/otel/v1/traces`, with the headers the official SDK sends (Basic auth,
 * `x-langfuse-sdk-name`, `x-langfuse-sdk-version`, `x-langfuse-public-key`) and its instrumentation
 * scope, encoded by the kit with the official OpenTelemetry serializer. Statuses are classified by
 * the kit; a refused key becomes one clear line through the shared auth gate.
 */
import type { KitLogger, PackLogger, SendBatch } from "@clawscope/kit";
import {
  createOtlpEncoder,
  createOtlpSender,
  type OtlpSignalStats,
  type TurnExport,
} from "@clawscope/kit/otlp";
import { LANGFUSE_SDK_NAME, LANGFUSE_SDK_VERSION, LANGFUSE_TRACER_NAME } from "@langfuse/core";
import type { AuthGate } from "./auth-failure.js";

/** Options of {@link createTraceSender}. */
export interface TraceSenderOptions {
  baseUrl: string;
  publicKey: string;
  secretKey: string;
  authGate: AuthGate;
  timeoutMs: number;
  resourceAttributes: Record<string, string>;
  userAgent: string;
  logger?: KitLogger | PackLogger;
  /** Test seam. */
  fetchImpl?: typeof fetch;
}

/** The pipeline's send function and its counters. */
export interface TraceSender {
  send: SendBatch<TurnExport>;
  readonly endpoint: string;
  stats(): OtlpSignalStats;
}

/** The path of Langfuse's OTLP traces endpoint under the base URL. */
export const LANGFUSE_OTLP_TRACES_PATH = "/api/public/otel/v1/traces";

/** Creates the trace sender. */
export function createTraceSender(options: TraceSenderOptions): TraceSender {
  const endpoint = `${options.baseUrl}${LANGFUSE_OTLP_TRACES_PATH}`;
  const sender = createOtlpSender({
    signals: ["traces"],
    endpoints: { traces: endpoint },
    headers: toLangfuseHeaders(options.publicKey, options.secretKey),
    encoder: createOtlpEncoder({
      protocol: "http/json",
      resourceAttributes: options.resourceAttributes,
      // the SDK's scope: Langfuse treats these spans as its SDK's own
      scopeName: LANGFUSE_TRACER_NAME,
      scopeVersion: LANGFUSE_SDK_VERSION,
    }),
    timeoutMs: options.timeoutMs,
    name: "clawscope-langfuse",
    userAgent: options.userAgent,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.fetchImpl ? { fetchImpl: options.fetchImpl } : {}),
  });
  return {
    endpoint,
    async send(items, signal) {
      const waiting = options.authGate.waiting();
      if (waiting) return waiting;
      const result = await sender.sendTraces(items, signal);
      if (result.kind === "ok") options.authGate.accepted();
      if (result.kind !== "auth") return result;
      return options.authGate.refused(result.failure?.status ?? 401, result.failure?.bodyExcerpt ?? "");
    },
    stats: () => sender.stats().traces,
  };
}

/** The headers of every request to Langfuse, as the official SDK sets them. */
export function toLangfuseHeaders(publicKey: string, secretKey: string): Record<string, string> {
  return {
    authorization: `Basic ${Buffer.from(`${publicKey}:${secretKey}`).toString("base64")}`,
    "x-langfuse-sdk-name": LANGFUSE_SDK_NAME,
    "x-langfuse-sdk-version": LANGFUSE_SDK_VERSION,
    "x-langfuse-public-key": publicKey,
  };
}
