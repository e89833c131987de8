/**
 * Encodes the mapping stage's plain records as OTLP/HTTP request bodies. Records are adapted to the
 * `ReadableSpan` and `ReadableLogRecord` shapes the official serializers of
 * `@opentelemetry/otlp-transformer` read, so the bytes are what the SDK itself would send, without a
 * tracer (and without touching any global provider). Protobuf spans and logs are written by the
 * kit's one-pass writer (`protobuf-writer.ts`, byte for byte the official serializer's output, and
 * tested so); JSON and metrics go through the official serializers.
 */
import {
  type Attributes as ApiAttributes,
  type AttributeValue as ApiAttributeValue,
  type HrTime,
  SeverityNumber,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
} from "@opentelemetry/api";
import type { InstrumentationScope } from "@opentelemetry/core";
import {
  JsonLogsSerializer,
  JsonMetricsSerializer,
  JsonTraceSerializer,
  ProtobufMetricsSerializer,
} from "@opentelemetry/otlp-transformer";
import { type Resource, resourceFromAttributes } from "@opentelemetry/resources";
import type { ReadableLogRecord } from "@opentelemetry/sdk-logs";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import { serializeLogsRequest, serializeSpansRequest } from "./protobuf-writer.js";
import type { Attributes, LogRecordData, SpanRecord } from "./records.js";

/** The instrumentation scope name used when the extension names none. */
export const DEFAULT_OTLP_SCOPE_NAME = "clawscope";

/**
 * What the metrics serializer reads (the SDK's `ResourceMetrics`), taken from the serializer itself
 * so the kit needs no dependency on `@opentelemetry/sdk-metrics`.
 */
export type OtlpResourceMetrics = Parameters<typeof ProtobufMetricsSerializer.serializeRequest>[0];

/** OTLP/HTTP encodings (the values of `OTEL_EXPORTER_OTLP_PROTOCOL` that HTTP supports). */
export type OtlpProtocol = "http/protobuf" | "http/json";

/** One encoded request body. */
export interface OtlpBody {
  body: Uint8Array;
  contentType: string;
}

/** An encoded body plus what went into it. */
export interface EncodedRecords extends OtlpBody {
  /** Records in the body. */
  count: number;
  /** Records left out because they could not be valid OTLP (bad ids, no start time). */
  dropped: number;
}

/** An encoded body in a form the pipeline can spool (JSON-safe). */
export interface SpooledOtlpBody {
  /** The body, base64. */
  body: string;
  contentType: string;
  /** Data points or records in it, for accounting. */
  count: number;
}

/** Options for {@link createOtlpEncoder}. */
export interface OtlpEncoderOptions {
  /** Default `http/protobuf`. */
  protocol?: OtlpProtocol;
  /** Resource attributes (`service.name`, `service.version`, `host.name`...). */
  resourceAttributes?: Attributes;
  /** Name of the instrumentation scope (the extension's name, e.g. `clawscope-otel`); default {@link DEFAULT_OTLP_SCOPE_NAME}. */
  scopeName?: string;
  /** Version of the instrumentation scope (the extension's version). */
  scopeVersion?: string;
}

/** Encodes records of one resource and scope. */
export interface OtlpEncoder {
  readonly protocol: OtlpProtocol;
  readonly contentType: string;
  /** The resource, shared with a private MeterProvider so all signals agree. */
  readonly resource: Resource;
  readonly scope: InstrumentationScope;
  encodeSpans(spans: readonly SpanRecord[]): EncodedRecords;
  encodeLogs(logs: readonly LogRecordData[]): EncodedRecords;
  encodeMetrics(resourceMetrics: OtlpResourceMetrics): OtlpBody;
}

const CONTENT_TYPES: Record<OtlpProtocol, string> = {
  "http/protobuf": "application/x-protobuf",
  "http/json": "application/json",
};
const SPAN_KINDS: Record<SpanRecord["kind"], SpanKind> = {
  internal: SpanKind.INTERNAL,
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
};
const STATUS_CODES: Record<SpanRecord["status"]["code"], SpanStatusCode> = {
  unset: SpanStatusCode.UNSET,
  ok: SpanStatusCode.OK,
  error: SpanStatusCode.ERROR,
};
const SEVERITIES: Record<LogRecordData["severity"], SeverityNumber> = {
  DEBUG: SeverityNumber.DEBUG,
  INFO: SeverityNumber.INFO,
  WARN: SeverityNumber.WARN,
  ERROR: SeverityNumber.ERROR,
};
const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;

/** Creates an encoder; the resource and scope objects are built once (the serializers group by identity). */
export function createOtlpEncoder(options: OtlpEncoderOptions = {}): OtlpEncoder {
  const protocol: OtlpProtocol = options.protocol === "http/json" ? "http/json" : "http/protobuf";
  const json = protocol === "http/json";
  const contentType = CONTENT_TYPES[protocol];
  const resource = resourceFromAttributes(toApiAttributes(options.resourceAttributes));
  const scope: InstrumentationScope = {
    name:
      typeof options.scopeName === "string" && options.scopeName !== ""
        ? options.scopeName
        : DEFAULT_OTLP_SCOPE_NAME,
    ...(typeof options.scopeVersion === "string" && options.scopeVersion !== ""
      ? { version: options.scopeVersion }
      : {}),
  };
  return {
    protocol,
    contentType,
    resource,
    scope,
    encodeSpans(spans) {
      const serialize = json
        ? (items: ReadableSpan[]) => JsonTraceSerializer.serializeRequest(items)
        : serializeSpansRequest;
      const adapt = (span: SpanRecord) => toReadableSpan(span, resource, scope);
      return encodeRecords(spans, adapt, serialize, contentType);
    },
    encodeLogs(logs) {
      const serialize = json
        ? (items: ReadableLogRecord[]) => JsonLogsSerializer.serializeRequest(items)
        : serializeLogsRequest;
      const adapt = (log: LogRecordData) => toReadableLogRecord(log, resource, scope);
      return encodeRecords(logs, adapt, serialize, contentType);
    },
    encodeMetrics(resourceMetrics) {
      const serializer = json ? JsonMetricsSerializer : ProtobufMetricsSerializer;
      return { body: serializer.serializeRequest(resourceMetrics) ?? new Uint8Array(0), contentType };
    },
  };
}

/**
 * Adapts one span record to what the trace serializers read. Returns `undefined` for a record that
 * cannot be valid OTLP (ids not hex of the right length or all zero, no usable start time): one bad
 * span must not get the whole request rejected (Langfuse, for one, rejects the lot).
 */
export function toReadableSpan(
  record: SpanRecord,
  resource: Resource,
  scope: InstrumentationScope,
): ReadableSpan | undefined {
  if (!isObject(record)) return undefined;
  const traceId = toId(record.traceId, TRACE_ID);
  const spanId = toId(record.spanId, SPAN_ID);
  const startTimeMs = record.startTimeMs;
  if (
    !traceId ||
    !spanId ||
    typeof startTimeMs !== "number" ||
    !Number.isFinite(startTimeMs) ||
    startTimeMs < 0
  ) {
    return undefined;
  }
  const endTimeMs =
    typeof record.endTimeMs === "number" &&
    Number.isFinite(record.endTimeMs) &&
    record.endTimeMs >= startTimeMs
      ? record.endTimeMs
      : startTimeMs;
  const parentSpanId = toId(record.parentSpanId, SPAN_ID);
  const context: SpanContext = { traceId, spanId, traceFlags: TraceFlags.SAMPLED };
  const status = isObject(record.status) ? record.status : { code: "unset" as const };
  const statusCode = STATUS_CODES[status.code] ?? SpanStatusCode.UNSET;
  return {
    name: typeof record.name === "string" ? record.name : String(record.name ?? ""),
    kind: SPAN_KINDS[record.kind] ?? SpanKind.INTERNAL,
    spanContext: () => context,
    ...(parentSpanId
      ? {
          parentSpanContext: {
            traceId,
            spanId: parentSpanId,
            traceFlags: TraceFlags.SAMPLED,
            isRemote: false,
          },
        }
      : {}),
    startTime: toHrTime(startTimeMs),
    endTime: toHrTime(endTimeMs),
    duration: toHrTime(endTimeMs - startTimeMs),
    ended: true,
    status:
      statusCode === SpanStatusCode.ERROR && typeof status.message === "string" && status.message !== ""
        ? { code: statusCode, message: status.message }
        : { code: statusCode },
    attributes: toApiAttributes(record.attributes),
    events: (Array.isArray(record.events) ? record.events : []).filter(isObject).map((event) => ({
      name: String(event.name ?? ""),
      time: toHrTime(Number.isFinite(event.timeMs) && event.timeMs >= 0 ? event.timeMs : startTimeMs),
      attributes: toApiAttributes(event.attributes),
      droppedAttributesCount: 0,
    })),
    links: (Array.isArray(record.links) ? record.links : []).flatMap((link) => {
      const linkTraceId = isObject(link) ? toId(link.traceId, TRACE_ID) : undefined;
      const linkSpanId = isObject(link) ? toId(link.spanId, SPAN_ID) : undefined;
      if (!linkTraceId || !linkSpanId) return [];
      return [
        {
          context: { traceId: linkTraceId, spanId: linkSpanId, traceFlags: TraceFlags.SAMPLED },
          attributes: toApiAttributes(link.attributes),
          droppedAttributesCount: 0,
        },
      ];
    }),
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

/**
 * Adapts one log record to what the logs serializers read. Bad trace/span ids lose the correlation,
 * not the record; a record without a usable time is left out.
 */
export function toReadableLogRecord(
  record: LogRecordData,
  resource: Resource,
  scope: InstrumentationScope,
): ReadableLogRecord | undefined {
  if (!isObject(record)) return undefined;
  if (typeof record.timeMs !== "number" || !Number.isFinite(record.timeMs) || record.timeMs < 0)
    return undefined;
  const time = toHrTime(record.timeMs);
  const traceId = toId(record.traceId, TRACE_ID);
  const spanId = toId(record.spanId, SPAN_ID);
  // a log without a span id still belongs to its trace; the serializers skip an absent span id
  const spanContext = traceId
    ? ({ traceId, traceFlags: TraceFlags.SAMPLED, ...(spanId ? { spanId } : {}) } as SpanContext)
    : undefined;
  const severityNumber = SEVERITIES[record.severity] ?? SeverityNumber.INFO;
  return {
    hrTime: time,
    // the observed time is the record's own time so a retried request carries identical bytes
    hrTimeObserved: time,
    ...(spanContext ? { spanContext } : {}),
    severityNumber,
    severityText:
      typeof record.severity === "string" && record.severity in SEVERITIES ? record.severity : "INFO",
    body: typeof record.body === "string" ? record.body : String(record.body ?? ""),
    resource,
    instrumentationScope: scope,
    attributes: toApiAttributes(record.attributes),
    droppedAttributesCount: 0,
  };
}

/** Epoch milliseconds (fractions kept to the microsecond) as `[seconds, nanoseconds]`. */
export function toHrTime(epochMs: number): HrTime {
  const micros = Math.round(epochMs * 1000);
  const seconds = Math.floor(micros / 1_000_000);
  return [seconds, (micros - seconds * 1_000_000) * 1000];
}

/** The body as the pipeline can spool it. */
export function toSpooledBody(body: OtlpBody, count: number): SpooledOtlpBody {
  const bytes = Buffer.from(body.body.buffer, body.body.byteOffset, body.body.byteLength);
  return { body: bytes.toString("base64"), contentType: body.contentType, count };
}

/**
 * Joins several request bodies of one signal into one request. Protobuf: concatenation, which the
 * protobuf wire format defines as merging (the request's only field is repeated). JSON: the
 * top-level arrays (`resourceSpans`, `resourceMetrics`, `resourceLogs`) are concatenated, and a
 * body that does not parse is left out and counted in `skipped`.
 */
export function mergeOtlpBodies(
  bodies: readonly Uint8Array[],
  contentType: string,
): { body: Uint8Array; skipped: number } {
  if (!/json/i.test(contentType)) return { body: Buffer.concat(bodies), skipped: 0 };
  if (bodies.length === 1 && bodies[0]) return { body: bodies[0], skipped: 0 };
  const merged: Record<string, unknown[]> = {};
  let skipped = 0;
  for (const body of bodies) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(body).toString("utf8"));
    } catch {
      parsed = undefined;
    }
    if (!isObject(parsed)) {
      skipped += 1;
      continue;
    }
    for (const [key, value] of Object.entries(parsed)) {
      if (Array.isArray(value)) merged[key] = (merged[key] ?? []).concat(value);
    }
  }
  const empty = Object.keys(merged).length === 0;
  return { body: empty ? new Uint8Array(0) : new TextEncoder().encode(JSON.stringify(merged)), skipped };
}

/** Adapts what can be sent (counting the rest as dropped) and serializes it in one request. */
function encodeRecords<Record, Readable>(
  records: readonly Record[],
  adapt: (record: Record) => Readable | undefined,
  serialize: (items: Readable[]) => Uint8Array | undefined,
  contentType: string,
): EncodedRecords {
  const readable: Readable[] = [];
  const list = Array.isArray(records) ? records : [];
  for (const record of list) {
    const adapted = adapt(record);
    if (adapted) readable.push(adapted);
  }
  const body = readable.length > 0 ? serialize(readable) : undefined;
  return {
    body: body ?? new Uint8Array(0),
    contentType,
    count: readable.length,
    dropped: list.length - readable.length,
  };
}

/** Our attribute map as the SDK's; values that OTLP cannot carry (nested objects, NaN) are left out. */
export function toApiAttributes(attributes: unknown): ApiAttributes {
  // no prototype: a "__proto__" key from spooled JSON stays a plain key
  const result: ApiAttributes = Object.create(null);
  if (!isObject(attributes)) return result;
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "") continue;
    const clean = toAttributeValue(value);
    if (clean !== undefined) result[key] = clean;
  }
  return result;
}

function toAttributeValue(value: unknown): ApiAttributeValue | undefined {
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (isObject(value) && !Array.isArray(value)) return toAttributeMap(value);
  if (!Array.isArray(value)) return undefined;
  // OTLP arrays are homogeneous: keep the items of the first item's type
  const first = value.find((item) => toAttributeValue(item) !== undefined && !Array.isArray(item));
  if (first === undefined) return [];
  const kind = typeof first;
  return value.filter(
    (item) => typeof item === kind && toAttributeValue(item) !== undefined,
  ) as ApiAttributeValue;
}

/** A flat map of primitives (the serializer sends it as a kvlist); nested values are dropped. */
function toAttributeMap(value: object): ApiAttributeValue | undefined {
  const result: Record<string, string | number | boolean> = Object.create(null);
  let count = 0;
  for (const [key, item] of Object.entries(value)) {
    if (key === "") continue;
    if (typeof item === "string" || typeof item === "boolean") result[key] = item;
    else if (typeof item === "number" && Number.isFinite(item)) result[key] = item;
    else continue;
    count += 1;
  }
  // the API type has no maps; the OTLP serializer encodes plain objects as kvlistValue
  return count === 0 ? undefined : (result as unknown as ApiAttributeValue);
}

function toId(value: unknown, pattern: RegExp): string | undefined {
  if (typeof value !== "string") return undefined;
  const id = value.toLowerCase();
  return pattern.test(id) && !/^0+$/.test(id) ? id : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
