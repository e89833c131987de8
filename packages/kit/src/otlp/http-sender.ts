/**
 * OTLP/HTTP delivery: one POST per pipeline batch and signal, classified by the kit's
 * `classifyHttpResponse` so the pipeline retries, splits, pauses or dead-letters alike for every
 * backend. A 200 that reports partial success (`rejected_spans` and the like) is counted and logged
 * but is success: the backend already decided, and resending would only duplicate what it kept.
 */

import { promisify } from "node:util";
import { gzip } from "node:zlib";
import {
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from "@opentelemetry/otlp-transformer";
import { toExcerpt, toHttpSendResult, toNetworkSendResult } from "../export/http-result.js";
import { readBoundedBody } from "../export/read-body.js";
import type { ExportItem, SendBatch, SendResult } from "../export/types.js";
import { describeError } from "../runtime/describe-error.js";
import { createPackLogger, type KitLogger, type PackLogger } from "../runtime/logger.js";
import {
  createOtlpEncoder,
  type EncodedRecords,
  mergeOtlpBodies,
  type OtlpEncoder,
  type OtlpEncoderOptions,
  type SpooledOtlpBody,
} from "./encoding.js";
import type { TurnExport } from "./records.js";

/** The three OTLP signals. */
export type OtlpSignal = "traces" | "metrics" | "logs";

/** Options for {@link createOtlpSender}. */
export interface OtlpSenderOptions {
  /** Base endpoint, e.g. `http://127.0.0.1:4318`; `/v1/<signal>` is appended (OTLP/HTTP spec). */
  url?: string;
  /** Per-signal endpoints, used as given (like `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`); they win over `url`. */
  endpoints?: Partial<Record<OtlpSignal, string>>;
  /**
   * The signals this sender serves (default all three). Only their endpoints are checked at
   * creation; a signal left out has no endpoint, and sending it is rejected.
   */
  signals?: readonly OtlpSignal[];
  /** Extra request headers (auth). Values are never logged. */
  headers?: Record<string, string>;
  /** Encodes traces and logs; defaults to one built from `protocol` and `resourceAttributes`. */
  encoder?: OtlpEncoder;
  protocol?: OtlpEncoderOptions["protocol"];
  resourceAttributes?: OtlpEncoderOptions["resourceAttributes"];
  scopeName?: string;
  scopeVersion?: string;
  /**
   * Who sends: the log prefix when `logger` is a plain host logger, and the default `User-Agent`
   * (default `clawscope-otlp`).
   */
  name?: string;
  /** One request is aborted after this long (default 10 000 ms); the pipeline's own timeout also applies. */
  timeoutMs?: number;
  /** `gzip` (default) compresses bodies above {@link GZIP_MIN_BYTES}; `none` never does. */
  compression?: "gzip" | "none";
  /** `User-Agent` of the requests. */
  userAgent?: string;
  logger?: KitLogger | PackLogger;
  /** Test seam. */
  fetchImpl?: typeof fetch;
}

/** Counters of one signal. */
export interface OtlpSignalStats {
  requests: number;
  /** Requests the backend answered 2xx. */
  accepted: number;
  /** Spans, log records or data points in accepted requests (including partially rejected ones). */
  exportedRecords: number;
  /** Records the backend reported as rejected inside a 2xx (OTLP partial success). */
  partiallyRejected: number;
  /** Records left out before sending because they could not be valid OTLP. */
  invalidDropped: number;
  bytesSent: number;
  lastPartialError?: string;
}

/** The `SendBatch` functions for the pipelines, and their counters. */
export interface OtlpSender {
  /** All spans of the batch's turns in one request to the traces endpoint. */
  sendTraces: SendBatch<TurnExport>;
  /** All log records of the batch's turns in one request to the logs endpoint. */
  sendLogs: SendBatch<TurnExport>;
  /** Already encoded metric collections, merged into one request to the metrics endpoint. */
  sendMetrics: SendBatch<SpooledOtlpBody>;
  readonly endpoints: Readonly<Record<OtlpSignal, string>>;
  stats(): Record<OtlpSignal, OtlpSignalStats>;
}

/** Bodies at or below this size are sent uncompressed: gzip would not pay for itself. */
export const GZIP_MIN_BYTES = 1024;
const DEFAULT_TIMEOUT_MS = 10_000;
/** Response bodies are read up to this size (a partial-success answer is tiny). */
const MAX_RESPONSE_BYTES = 64 * 1024;
const SIGNALS: readonly OtlpSignal[] = ["traces", "metrics", "logs"];
const RECORD_NOUNS: Record<OtlpSignal, string> = {
  traces: "spans",
  metrics: "data points",
  logs: "log records",
};
const REJECTED_KEYS: Record<OtlpSignal, readonly string[]> = {
  traces: ["rejectedSpans", "rejected_spans"],
  metrics: ["rejectedDataPoints", "rejected_data_points"],
  logs: ["rejectedLogRecords", "rejected_log_records"],
};
const RESPONSE_DECODERS: Record<OtlpSignal, (bytes: Uint8Array) => unknown> = {
  traces: (bytes) => ProtobufTraceSerializer.deserializeResponse(bytes),
  metrics: (bytes) => ProtobufMetricsSerializer.deserializeResponse(bytes),
  logs: (bytes) => ProtobufLogsSerializer.deserializeResponse(bytes),
};
const gzipAsync = promisify(gzip);

/** Creates the senders of the three signals over one endpoint configuration. */
export function createOtlpSender(options: OtlpSenderOptions): OtlpSender {
  const senderName =
    typeof options.name === "string" && options.name !== "" ? options.name : "clawscope-otlp";
  const baseLogger = options.logger ?? {
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
  };
  const logger: PackLogger =
    typeof (baseLogger as PackLogger).limited === "function"
      ? (baseLogger as PackLogger)
      : createPackLogger(baseLogger, senderName);
  const encoder =
    options.encoder ??
    createOtlpEncoder({
      ...(options.protocol ? { protocol: options.protocol } : {}),
      ...(options.resourceAttributes ? { resourceAttributes: options.resourceAttributes } : {}),
      ...(options.scopeName ? { scopeName: options.scopeName } : {}),
      ...(options.scopeVersion ? { scopeVersion: options.scopeVersion } : {}),
    });
  const fetchImpl = options.fetchImpl ?? fetch;
  const timeoutMs =
    typeof options.timeoutMs === "number" && options.timeoutMs > 0 ? options.timeoutMs : DEFAULT_TIMEOUT_MS;
  const compress = options.compression !== "none";
  const userAgent = options.userAgent ?? senderName;
  const stats = Object.fromEntries(
    SIGNALS.map((signal) => [
      signal,
      { requests: 0, accepted: 0, exportedRecords: 0, partiallyRejected: 0, invalidDropped: 0, bytesSent: 0 },
    ]),
  ) as Record<OtlpSignal, OtlpSignalStats>;

  const extraHeaders = toSafeHeaders(options.headers, logger);
  const served = new Set(Array.isArray(options.signals) ? options.signals : SIGNALS);
  const targets = {} as Record<OtlpSignal, Target>;
  for (const signal of SIGNALS) {
    // a signal another sender serves is not this one's problem: no error line for it
    if (!served.has(signal)) {
      targets[signal] = { error: "not served by this sender" };
      continue;
    }
    targets[signal] = resolveTarget(
      options.endpoints?.[signal] ?? options.url,
      signal,
      options.endpoints?.[signal] !== undefined,
    );
    const target = targets[signal];
    if ("error" in target) logger.error(`OTLP ${signal} endpoint is not usable: ${target.error}`);
  }

  const post = async (
    signal: OtlpSignal,
    body: Uint8Array,
    contentType: string,
    count: number,
    abortSignal: AbortSignal,
  ): Promise<SendResult> => {
    const target = targets[signal];
    if ("error" in target)
      return {
        kind: "reject",
        reason: `OTLP ${signal} endpoint is not usable: ${target.error}`,
        failure: { cause: target.error },
      };
    const headers = new Headers(extraHeaders);
    if (target.authorization && !headers.has("authorization"))
      headers.set("authorization", target.authorization);
    headers.set("content-type", contentType);
    headers.set("user-agent", userAgent);
    let payload = body;
    if (compress && body.byteLength > GZIP_MIN_BYTES) {
      // zlib's async API runs on the thread pool: the gateway's event loop is not held up
      payload = await gzipAsync(body);
      headers.set("content-encoding", "gzip");
    }
    const timeout = AbortSignal.timeout(timeoutMs);
    const signals = abortSignal instanceof AbortSignal ? [abortSignal, timeout] : [timeout];
    const entry = stats[signal];
    entry.requests += 1;
    entry.bytesSent += payload.byteLength;
    let response: Response;
    try {
      response = await fetchImpl(target.url, {
        method: "POST",
        headers,
        body: payload,
        signal: AbortSignal.any(signals),
      });
    } catch (error) {
      const why = timeout.aborted ? `timed out after ${timeoutMs} ms` : describeError(error);
      return toNetworkSendResult(`OTLP ${signal}`, why);
    }
    const answer = await readBoundedBody(response, MAX_RESPONSE_BYTES);
    const answerText = answer.byteLength > 0 ? Buffer.from(answer).toString("utf8") : "";
    const result = toHttpSendResult(`OTLP ${signal}`, response.status, response.headers, answerText);
    if (result.kind !== "ok") return result;
    entry.accepted += 1;
    entry.exportedRecords += count;
    // backends answer in the request's encoding; an answer without a content type is read as that
    const partial = readPartialSuccess(signal, answer, response.headers.get("content-type") || contentType);
    if (partial && (partial.rejected > 0 || partial.message)) {
      entry.partiallyRejected += partial.rejected;
      if (partial.message) entry.lastPartialError = partial.message;
      logger.limited(
        "warn",
        `partial-${signal}`,
        `OTLP ${signal}: the backend accepted the request but rejected ${partial.rejected} of ${count} ${RECORD_NOUNS[signal]}${partial.message ? `: ${partial.message}` : ""}`,
      );
    }
    return result;
  };

  /** Never throws: a failure before the answer (gzip, fetch) is transient and retried. */
  const send = (
    signal: OtlpSignal,
    body: Uint8Array,
    contentType: string,
    count: number,
    abortSignal: AbortSignal,
  ): Promise<SendResult> =>
    post(signal, body, contentType, count, abortSignal).catch((error: unknown) =>
      toNetworkSendResult(`OTLP ${signal}`, describeError(error)),
    );

  const sendTurns =
    (signal: "traces" | "logs"): SendBatch<TurnExport> =>
    async (items, abortSignal) => {
      let encoded: EncodedRecords;
      try {
        const records = collectRecords(items, signal);
        encoded =
          signal === "traces"
            ? encoder.encodeSpans(records as TurnExport["spans"])
            : encoder.encodeLogs(records as TurnExport["logs"]);
      } catch (error) {
        // encoding fails the same way every time: retrying would block the ordered pipeline for good
        const cause = `could not encode the batch: ${describeError(error)}`;
        return { kind: "reject", reason: `OTLP ${signal}: ${cause}`, failure: { cause } };
      }
      stats[signal].invalidDropped += encoded.dropped;
      if (encoded.dropped > 0) {
        logger.limited(
          "warn",
          `invalid-${signal}`,
          `OTLP ${signal}: left out ${encoded.dropped} invalid ${RECORD_NOUNS[signal]} (bad ids or times)`,
        );
      }
      // nothing to say (turns without logs, or only invalid records): done, no empty request
      if (encoded.count === 0) return { kind: "ok" };
      return send(signal, encoded.body, encoded.contentType, encoded.count, abortSignal);
    };

  const sendMetrics: SendBatch<SpooledOtlpBody> = async (items, abortSignal) => {
    // a protocol change across a restart can leave spooled bodies of both encodings: one request each
    const groups = new Map<string, { bodies: Uint8Array[]; count: number }>();
    for (const item of Array.isArray(items) ? items : []) {
      const payload = item?.payload;
      if (!payload || typeof payload.body !== "string" || typeof payload.contentType !== "string") continue;
      const group = groups.get(payload.contentType) ?? { bodies: [], count: 0 };
      group.bodies.push(Buffer.from(payload.body, "base64"));
      group.count += typeof payload.count === "number" ? payload.count : 0;
      groups.set(payload.contentType, group);
    }
    for (const [contentType, group] of groups) {
      const merged = mergeOtlpBodies(group.bodies, contentType);
      if (merged.skipped > 0) {
        stats.metrics.invalidDropped += merged.skipped;
        logger.limited(
          "warn",
          "invalid-metrics",
          `OTLP metrics: left out ${merged.skipped} unreadable collections`,
        );
      }
      if (merged.body.byteLength === 0) continue;
      const result = await send("metrics", merged.body, contentType, group.count, abortSignal);
      if (result.kind !== "ok") return result;
    }
    return { kind: "ok" };
  };

  return {
    sendTraces: sendTurns("traces"),
    sendLogs: sendTurns("logs"),
    sendMetrics,
    endpoints: Object.fromEntries(
      SIGNALS.map((signal) => {
        const target = targets[signal];
        return [signal, "error" in target ? "" : target.url];
      }),
    ) as Record<OtlpSignal, string>,
    stats: () =>
      Object.fromEntries(SIGNALS.map((signal) => [signal, { ...stats[signal] }])) as Record<
        OtlpSignal,
        OtlpSignalStats
      >,
  };
}

type Target = { url: string; authorization?: string } | { error: string };

/**
 * The URL of one signal. A base endpoint gets `/v1/<signal>`; a per-signal one is used as given.
 * Credentials in the URL (`https://user:pass@host`) become a Basic `Authorization` header, since
 * fetch refuses URLs that carry them.
 */
function resolveTarget(raw: string | undefined, signal: OtlpSignal, asGiven: boolean): Target {
  if (typeof raw !== "string" || raw.trim() === "") return { error: "no endpoint configured" };
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return { error: "not a valid URL" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return { error: `unsupported scheme ${url.protocol}` };
  let authorization: string | undefined;
  if (url.username || url.password) {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    authorization = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
    url.username = "";
    url.password = "";
  }
  if (!asGiven) url.pathname = `${url.pathname.replace(/\/+$/, "")}/v1/${signal}`;
  return authorization ? { url: url.toString(), authorization } : { url: url.toString() };
}

/** Headers fetch accepts; a bad one is left out with a line that names it (never its value). */
function toSafeHeaders(headers: Record<string, string> | undefined, logger: PackLogger): Headers {
  const safe = new Headers();
  if (typeof headers !== "object" || headers === null) return safe;
  for (const [name, value] of Object.entries(headers)) {
    try {
      safe.set(name, String(value));
    } catch {
      logger.once(
        "warn",
        `bad-header-${name}`,
        `OTLP header "${name.slice(0, 64)}" is not a valid HTTP header; left out`,
      );
    }
  }
  return safe;
}

function collectRecords(items: ExportItem<TurnExport>[], signal: "traces" | "logs"): unknown[] {
  const records: unknown[] = [];
  for (const item of Array.isArray(items) ? items : []) {
    const list = (item?.payload as Partial<TurnExport> | undefined)?.[signal === "traces" ? "spans" : "logs"];
    if (Array.isArray(list)) for (const record of list) records.push(record);
  }
  return records;
}

/** Partial success from a 2xx body, protobuf or JSON; `undefined` when there is none or it does not parse. */
function readPartialSuccess(
  signal: OtlpSignal,
  body: Uint8Array,
  contentType: string,
): { rejected: number; message?: string } | undefined {
  if (body.byteLength === 0) return undefined;
  const json = /json/i.test(contentType);
  if (!json && !/protobuf/i.test(contentType)) return undefined;
  let decoded: unknown;
  try {
    decoded = json ? JSON.parse(Buffer.from(body).toString("utf8")) : RESPONSE_DECODERS[signal](body);
  } catch {
    return undefined;
  }
  const record = (value: unknown) =>
    typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  const response = record(decoded);
  const partial = record(response?.partialSuccess ?? response?.partial_success);
  if (!partial) return undefined;
  let rejected = 0;
  for (const key of REJECTED_KEYS[signal]) {
    const value = Number(partial[key]);
    if (Number.isFinite(value) && value > 0) rejected = value;
  }
  const rawMessage = partial.errorMessage ?? partial.error_message;
  const message = typeof rawMessage === "string" ? toExcerpt(rawMessage) : "";
  return message ? { rejected, message } : { rejected };
}
