/**
 * An in-process Langfuse that enforces the published contract of the endpoints clawscope uses:
 * `POST /api/public/otel/v1/traces` (Basic auth; OTLP/HTTP JSON or protobuf, gzip allowed; the whole
 * export rejected on a bad id or a non-array field), `/api/public/otel/v1/metrics` (accepted and
 * dropped), `POST /api/public/scores` (validated against the official OpenAPI spec, upserted by
 * id) and `POST /api/public/ingestion` with the event types Langfuse v4 still takes there
 * (`score-create`, `sdk-log`): the request checked against the spec's `IngestionEvent` union, 207
 * with a result per event (a bad event is an error of its own, not a failed request), the 3.5 MB
 * batch limit, event ids unique per request. Built on the generic HTTP receiver, so it can go down and come back on the same port; it can
 * also answer 500s and 429s with `Retry-After` on demand. Everything it stores is capped.
 */
import { randomUUID } from "node:crypto";
import { createHttpReceiver, type ReceivedRequest, type ReceiverAnswer, waitFor } from "./http-receiver.js";
import { checkLangfuseAuth, type LangfuseCredentials, toLangfuseBasicAuth } from "./langfuse-auth.js";
import { toLangfuseObservations } from "./langfuse-observations.js";
import type { LangfuseValidationIssue } from "./langfuse-openapi-schema.js";
import { createOpenApiBodyValidator } from "./langfuse-openapi-schema.js";
import {
  checkLangfuseTraceExport,
  describeLangfuseExportRejection,
  isRejectedExport,
  type LangfuseExportCheck,
} from "./langfuse-otlp-rules.js";
import type {
  LangfuseEndpoint,
  LangfuseReceiver,
  LangfuseReceiverOptions,
  LangfuseRejectedExport,
  LangfuseRejectedScore,
  LangfuseRequestOutcome,
  LangfuseRequestRecord,
  LangfuseStoredScore,
} from "./langfuse-receiver-types.js";
import { loadLangfuseOpenApi, resolveLangfuseReferenceDir } from "./langfuse-reference.js";
import { checkLangfuseScoreRules, createLangfuseScoreValidator } from "./langfuse-score-validator.js";
import { decodeOtlpRequest, type OtlpSpan, otlpRequestMessage } from "./otlp-decoder.js";

const TRACES_PATH = "/api/public/otel/v1/traces";
const METRICS_PATH = "/api/public/otel/v1/metrics";
const SCORES_PATH = "/api/public/scores";
const INGESTION_PATH = "/api/public/ingestion";
/** "Batch sizes are limited to 3.5 MB in total." */
export const LANGFUSE_INGESTION_LIMIT_BYTES = 3_500_000;
/** The ingestion event types Langfuse v4 still accepts; the rest moved to OTLP. */
const INGESTION_TYPES_V4 = new Set(["score-create", "sdk-log"]);
const HEALTH_PATH = "/api/public/health";
const MAX_KEPT_BODY_CHARS = 64 * 1024;
const JSON_HEADERS = { "content-type": "application/json; charset=utf-8" };

interface Fault {
  answer: ReceiverAnswer;
  remaining: number;
  endpoint?: LangfuseEndpoint;
}

/** Starts a Langfuse receiver on 127.0.0.1; the score schema is compiled before it resolves. */
export async function createLangfuseReceiver(
  options: LangfuseReceiverOptions = {},
): Promise<LangfuseReceiver> {
  const validateScore = createLangfuseScoreValidator({
    ...(options.referenceDir === undefined ? {} : { referenceDir: options.referenceDir }),
    documentedRules: options.documentedScoreRules ?? true,
  });
  const validateIngestion = createOpenApiBodyValidator(
    loadLangfuseOpenApi(options.referenceDir ?? resolveLangfuseReferenceDir()),
    "post",
    INGESTION_PATH,
  );
  const caps = {
    spans: options.maxSpans ?? 100_000,
    scores: options.maxScores ?? 10_000,
    requests: options.maxRequestRecords ?? 10_000,
    rejections: options.maxRejections ?? 1_000,
  };
  let credentials: LangfuseCredentials[] = [
    { publicKey: options.publicKey ?? "pk-lf-test", secretKey: options.secretKey ?? "sk-lf-test" },
    ...(options.extraCredentials ?? []),
  ];
  const spans: OtlpSpan[] = [];
  const scores = new Map<string, LangfuseStoredScore>();
  const rejectedExports: LangfuseRejectedExport[] = [];
  const rejectedScores: LangfuseRejectedScore[] = [];
  const requests: LangfuseRequestRecord[] = [];
  const dropped = { spans: 0, scores: 0, requests: 0, rejections: 0 };
  let duplicateScoreWrites = 0;
  let faults: Fault[] = [];

  const pushCapped = <Item>(list: Item[], item: Item, cap: number, counter: keyof typeof dropped) => {
    list.push(item);
    if (list.length > cap) {
      list.shift();
      dropped[counter] += 1;
    }
  };

  const takeFault = (endpoint: LangfuseEndpoint): ReceiverAnswer | undefined => {
    const fault = faults.find(
      (candidate) => candidate.endpoint === undefined || candidate.endpoint === endpoint,
    );
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) faults = faults.filter((candidate) => candidate !== fault);
    return fault.answer;
  };

  const handleTraces = (request: ReceivedRequest, now: number): Handled => {
    const reject = (message: string, reasons: string[], check?: LangfuseExportCheck): Handled => {
      pushCapped(
        rejectedExports,
        { receivedAt: now, message, reasons, ...(check ? { check } : {}) },
        caps.rejections,
        "rejections",
      );
      return { answer: jsonAnswer(400, { error: message }), outcome: "rejected", message };
    };
    if (request.decodeError?.startsWith("gunzip"))
      return reject("Failed to decompress request body", ["gzip"]);
    const contentType = (request.headers["content-type"] ?? "").toLowerCase();
    const isProtobuf = contentType.includes("application/x-protobuf");
    if (!isProtobuf && !contentType.includes("application/json")) {
      return reject("Invalid content type", ["content-type"]);
    }
    let resourceSpans: unknown;
    try {
      resourceSpans = isProtobuf
        ? decodeProtobufResourceSpans(request.body)
        : parseJsonResourceSpans(request.body);
    } catch {
      return reject(`Failed to parse OTel ${isProtobuf ? "Protobuf" : "JSON"} Trace`, ["parse"]);
    }
    // an empty export is a success that stores nothing, as in Langfuse
    if (
      resourceSpans === undefined ||
      resourceSpans === null ||
      (Array.isArray(resourceSpans) && resourceSpans.length === 0)
    ) {
      return { answer: jsonAnswer(200, {}), outcome: "accepted", spanCount: 0 };
    }
    const check = checkLangfuseTraceExport(resourceSpans, { ids: isProtobuf ? "base64" : "hex" });
    if (isRejectedExport(check)) return reject(describeLangfuseExportRejection(check), check.reasons, check);
    const ingestionVersion = request.headers["x-langfuse-ingestion-version"];
    if (ingestionVersion !== undefined && !(Number.parseInt(ingestionVersion, 10) <= 4)) {
      const message = `Unsupported x-langfuse-ingestion-version: "${ingestionVersion}". Maximum supported: "4".`;
      return reject(message, ["ingestion-version"]);
    }
    const decoded = isProtobuf
      ? decodeOtlpRequest("traces", request.body, contentType)
      : decodeOtlpRequest("traces", { resourceSpans }, contentType);
    for (const span of decoded.spans) pushCapped(spans, span, caps.spans, "spans");
    return { answer: jsonAnswer(200, {}), outcome: "accepted", spanCount: decoded.spans.length };
  };

  const handleScores = (request: ReceivedRequest, now: number): Handled => {
    let body: unknown;
    try {
      body = request.body.length === 0 ? undefined : (JSON.parse(request.body.toString("utf8")) as unknown);
    } catch (error) {
      body = request.body.toString("utf8").slice(0, 1000);
      const issues: LangfuseValidationIssue[] = [
        { path: "", message: `not JSON: ${(error as Error).message}`, keyword: "json", source: "openapi" },
      ];
      return rejectScore(body, issues, now);
    }
    const result = validateScore(body);
    if (!result.valid) return rejectScore(body, result.issues, now);
    const id = storeScore(body as Record<string, unknown>, now);
    return { answer: jsonAnswer(200, { id }), outcome: "accepted", scoreId: id };
  };

  /** Stores a valid score body, upserting on its id; returns the id. */
  const storeScore = (score: Record<string, unknown>, now: number): string => {
    const id = typeof score.id === "string" && score.id !== "" ? score.id : randomUUID();
    const existing = scores.get(id);
    if (existing) {
      duplicateScoreWrites += 1;
      existing.body = score;
      existing.writes += 1;
      existing.lastReceivedAt = now;
    } else {
      scores.set(id, { id, body: score, writes: 1, firstReceivedAt: now, lastReceivedAt: now });
      if (scores.size > caps.scores) {
        const oldest = scores.keys().next().value;
        if (oldest !== undefined) scores.delete(oldest);
        dropped.scores += 1;
      }
    }
    return id;
  };

  const handleIngestion = (request: ReceivedRequest, now: number): Handled => {
    if (request.rawBody.length > LANGFUSE_INGESTION_LIMIT_BYTES)
      return messageAnswer(413, "Request body exceeds the batch size limit of 3.5 MB", "rejected");
    let body: unknown;
    try {
      body = JSON.parse(request.body.toString("utf8")) as unknown;
    } catch (error) {
      const issues: LangfuseValidationIssue[] = [
        { path: "", message: `not JSON: ${(error as Error).message}`, keyword: "json", source: "openapi" },
      ];
      return rejectScore(request.body.toString("utf8").slice(0, 1000), issues, now);
    }
    const checked = validateIngestion(body);
    const perEvent = new Map<number, LangfuseValidationIssue[]>();
    const requestIssues: LangfuseValidationIssue[] = [];
    for (const issue of checked.issues) {
      const match = /^\/batch\/(\d+)(?:\/|$)/.exec(issue.path);
      if (!match) requestIssues.push(issue);
      else perEvent.set(Number(match[1]), [...(perEvent.get(Number(match[1])) ?? []), issue]);
    }
    // the envelope itself is wrong: the whole request is refused
    if (requestIssues.length > 0) return rejectScore(body, requestIssues, now);
    const batch = (body as { batch: unknown[] }).batch;
    const successes: { id: string; status: number }[] = [];
    const errors: { id: string; status: number; message: string; error?: unknown }[] = [];
    const seen = new Set<string>();
    let stored = 0;
    for (const [index, raw] of batch.entries()) {
      const event = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
      const id = typeof event.id === "string" ? event.id : "";
      const fail = (message: string, issues: LangfuseValidationIssue[]) => {
        errors.push({ id, status: 400, message, error: issues });
        pushCapped(rejectedScores, { receivedAt: now, body: event, issues }, caps.rejections, "rejections");
      };
      const schemaIssues = perEvent.get(index);
      if (schemaIssues) {
        fail("Invalid request data", schemaIssues);
        continue;
      }
      if (seen.has(id)) {
        fail("Duplicate event id in the batch", [
          {
            path: `/batch/${index}/id`,
            message: "event ids must be unique per request",
            keyword: "unique-event-id",
            source: "documented-rule",
          },
        ]);
        continue;
      }
      seen.add(id);
      if (!INGESTION_TYPES_V4.has(String(event.type))) {
        fail(
          `Event type ${String(event.type)} is not accepted by Langfuse v4 ingestion; send it through OTLP`,
          [
            {
              path: `/batch/${index}/type`,
              message: "only score-create and sdk-log",
              keyword: "v4-event-type",
              source: "documented-rule",
            },
          ],
        );
        continue;
      }
      if (event.type === "score-create") {
        const rules = checkLangfuseScoreRules(event.body);
        if (rules.length > 0) {
          fail("Invalid request data", rules);
          continue;
        }
        storeScore(event.body as Record<string, unknown>, now);
        stored += 1;
      }
      successes.push({ id, status: 201 });
    }
    return {
      answer: jsonAnswer(207, { successes, errors }),
      outcome: "accepted",
      eventCount: batch.length,
      scoreCount: stored,
    };
  };

  const rejectScore = (body: unknown, issues: LangfuseValidationIssue[], now: number): Handled => {
    const kept =
      JSON.stringify(body ?? null).length <= MAX_KEPT_BODY_CHARS ? body : "(body too large to keep)";
    pushCapped(rejectedScores, { receivedAt: now, body: kept, issues }, caps.rejections, "rejections");
    const message = "Invalid request data";
    return { answer: jsonAnswer(400, { message, error: issues }), outcome: "rejected", message };
  };

  const route = (request: ReceivedRequest, endpoint: LangfuseEndpoint, now: number): Handled => {
    const fault = takeFault(endpoint);
    if (fault) return { answer: fault, outcome: "fault", message: String(fault.body ?? "") };
    if (endpoint === "health")
      return { answer: jsonAnswer(200, { status: "OK", version: "4.16.0" }), outcome: "accepted" };
    if (endpoint === "other") return messageAnswer(404, "Not found", "not_found");
    if (request.method !== "POST") return messageAnswer(405, "Method not allowed", "method_not_allowed");
    const auth = checkLangfuseAuth(request.headers.authorization, credentials);
    if (!auth.ok) return messageAnswer(401, auth.message, "unauthorized");
    if (endpoint === "traces") return handleTraces(request, now);
    if (endpoint === "scores") return handleScores(request, now);
    if (endpoint === "ingestion") return handleIngestion(request, now);
    // metrics: accepted and dropped, answered in the request's encoding as Langfuse does
    return (request.headers["content-type"] ?? "").includes("protobuf")
      ? {
          answer: { status: 200, headers: { "content-type": "application/x-protobuf" }, body: "" },
          outcome: "accepted",
        }
      : { answer: jsonAnswer(200, {}), outcome: "accepted" };
  };

  const base = await createHttpReceiver({
    ...(options.port === undefined ? {} : { port: options.port }),
    // the base keeps raw bodies; this receiver keeps its own capped records instead
    maxRecorded: 1,
  });
  base.setDefaultAnswer((request) => {
    const now = Date.now();
    const endpoint = endpointOf(request.path);
    let handled: Handled;
    try {
      handled = route(request, endpoint, now);
    } catch (error) {
      const message = `receiver error: ${error instanceof Error ? error.message : String(error)}`;
      handled = { answer: jsonAnswer(500, { message }), outcome: "receiver_error", message };
    }
    pushCapped(requests, toRecord(request, endpoint, handled, now), caps.requests, "requests");
    return handled.answer;
  });

  const receiver: LangfuseReceiver = {
    get port() {
      return base.port;
    },
    get url() {
      return base.url;
    },
    get isUp() {
      return base.isUp;
    },
    get credentials() {
      return credentials[0] as LangfuseCredentials;
    },
    get authorizationHeader() {
      return toLangfuseBasicAuth(credentials[0] as LangfuseCredentials);
    },
    spans,
    get scores() {
      return [...scores.values()];
    },
    get duplicateScoreWrites() {
      return duplicateScoreWrites;
    },
    rejectedExports,
    rejectedScores,
    requests,
    dropped,
    observations: () => toLangfuseObservations(spans),
    score: (id) => scores.get(id),
    async waitForSpans(count, timeoutMs = 5000) {
      await waitFor(() => spans.length >= count, timeoutMs, {
        message: `${count} span(s) at the Langfuse receiver (have ${spans.length})`,
      });
      return spans;
    },
    async waitForScores(count, timeoutMs = 5000) {
      await waitFor(() => scores.size >= count, timeoutMs, {
        message: `${count} score(s) at the Langfuse receiver (have ${scores.size})`,
      });
      return [...scores.values()];
    },
    failNext(times, faultOptions = {}) {
      const status = faultOptions.status ?? 500;
      const body = faultOptions.body ?? JSON.stringify({ message: "Internal Server Error" });
      addFault({ status, headers: JSON_HEADERS, body }, times, faultOptions.endpoint);
    },
    throttleNext(times, retryAfterSeconds, faultOptions = {}) {
      const answer = {
        status: 429,
        headers: { ...JSON_HEADERS, "retry-after": String(retryAfterSeconds) },
        body: JSON.stringify({ message: "Rate limit exceeded" }),
      };
      addFault(answer, times, faultOptions.endpoint);
    },
    clearFaults() {
      faults = [];
    },
    setCredentials(next) {
      const list = Array.isArray(next) ? [...next] : [next as LangfuseCredentials];
      if (list.length === 0) throw new Error("setCredentials: at least one key pair is required");
      credentials = list;
    },
    setDelay: (ms) => base.setDelay(ms),
    clear() {
      spans.length = 0;
      scores.clear();
      rejectedExports.length = 0;
      rejectedScores.length = 0;
      requests.length = 0;
      duplicateScoreWrites = 0;
      Object.assign(dropped, { spans: 0, scores: 0, requests: 0, rejections: 0 });
    },
    down: () => base.down(),
    up: () => base.up(),
    close: () => base.close(),
  };

  function addFault(answer: ReceiverAnswer, times: number, endpoint: LangfuseEndpoint | undefined): void {
    const remaining = Math.floor(times);
    if (remaining > 0) faults.push({ answer, remaining, ...(endpoint === undefined ? {} : { endpoint }) });
  }

  return receiver;
}

interface Handled {
  answer: ReceiverAnswer;
  outcome: LangfuseRequestOutcome;
  message?: string;
  spanCount?: number;
  scoreId?: string;
  eventCount?: number;
  scoreCount?: number;
}

function endpointOf(path: string): LangfuseEndpoint {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, "") : path;
  if (trimmed === TRACES_PATH) return "traces";
  if (trimmed === METRICS_PATH) return "metrics";
  if (trimmed === SCORES_PATH) return "scores";
  if (trimmed === INGESTION_PATH) return "ingestion";
  if (trimmed === HEALTH_PATH) return "health";
  return "other";
}

function jsonAnswer(status: number, body: unknown): ReceiverAnswer {
  return { status, headers: JSON_HEADERS, body: JSON.stringify(body) };
}

function messageAnswer(status: number, message: string, outcome: LangfuseRequestOutcome): Handled {
  return { answer: jsonAnswer(status, { message }), outcome, message };
}

function parseJsonResourceSpans(body: Buffer): unknown {
  const parsed: unknown = JSON.parse(body.toString("utf8"));
  // Langfuse reads `.resourceSpans` of whatever parsed: null fails, other shapes read as empty
  if (parsed === null) throw new Error("null body");
  return typeof parsed === "object" ? (parsed as Record<string, unknown>).resourceSpans : undefined;
}

function decodeProtobufResourceSpans(body: Buffer): unknown {
  const message = otlpRequestMessage("traces");
  const decoded = message.toObject(message.decode(body), { longs: String, bytes: String, defaults: false });
  return decoded.resourceSpans;
}

function toRecord(
  request: ReceivedRequest,
  endpoint: LangfuseEndpoint,
  handled: Handled,
  now: number,
): LangfuseRequestRecord {
  const { authorization, ...headers } = request.headers;
  const record: LangfuseRequestRecord = {
    method: request.method,
    path: request.path,
    endpoint,
    status: handled.answer.status,
    outcome: handled.outcome,
    headers,
    bodyBytes: request.rawBody.length,
    receivedAt: now,
  };
  if (authorization !== undefined) record.authorization = describeAuthorization(authorization);
  if (handled.message !== undefined && handled.answer.status >= 300) record.message = handled.message;
  if (handled.spanCount !== undefined) record.spanCount = handled.spanCount;
  if (handled.scoreId !== undefined) record.scoreId = handled.scoreId;
  if (handled.eventCount !== undefined) record.eventCount = handled.eventCount;
  if (handled.scoreCount !== undefined) record.scoreCount = handled.scoreCount;
  return record;
}

function describeAuthorization(header: string): { scheme: string; publicKey?: string } {
  const [scheme = "", value = ""] = header.split(" ", 2);
  if (scheme !== "Basic") return { scheme };
  const decoded = Buffer.from(value, "base64").toString("utf8");
  const separator = decoded.indexOf(":");
  const publicKey = separator < 0 ? decoded : decoded.slice(0, separator);
  return publicKey === "" ? { scheme } : { scheme, publicKey };
}
