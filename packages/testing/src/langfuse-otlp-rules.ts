/**
 * Langfuse's rule for `POST /api/public/otel/v1/traces`: the whole export is rejected (400) when any
 * span lacks a valid trace or span id, or when `resourceSpans`, `scopeSpans`, `spans`, `attributes`
 * or `events` are present but not arrays. Checked on the raw request (OTLP/JSON as parsed, protobuf
 * as decoded) before any normalising, because normalising would hide exactly these defects.
 *
 * Ids are held to the OTLP rule (16 / 8 bytes, not all zero), which is stricter than Langfuse's own
 * check (it passes any string through): a client that passes here is valid for Langfuse too.
 */

/** How ids are written in the raw request: OTLP/JSON uses hex, a decoded protobuf base64. */
export type OtlpIdEncoding = "hex" | "base64";

/** What {@link checkLangfuseTraceExport} found. */
export interface LangfuseExportCheck {
  totalSpanCount: number;
  /** Spans with a bad id or a non-array `attributes` / `events`. */
  invalidSpanCount: number;
  /** Non-array collections above the spans (`resourceSpans`, `scopeSpans`, `spans`, resource or scope attributes). */
  malformedCollectionCount: number;
  /** Count per `<field>:<reason>`, e.g. `{ "traceId:absent": 2 }`. */
  reasonCounts: Record<string, number>;
  /** The keys of `reasonCounts`, in the order first seen. */
  reasons: string[];
  /** Instrumentation scope names of the offending spans (at most `maxSamples`). */
  scopeNames: string[];
}

const ID_BYTES = { traceId: 16, spanId: 8, parentSpanId: 8 } as const;

/** Walks a raw `resourceSpans` value and reports everything that makes Langfuse reject the export. */
export function checkLangfuseTraceExport(
  resourceSpans: unknown,
  options: { ids: OtlpIdEncoding; maxSamples?: number },
): LangfuseExportCheck {
  const maxSamples = options.maxSamples ?? 5;
  const check: LangfuseExportCheck = {
    totalSpanCount: 0,
    invalidSpanCount: 0,
    malformedCollectionCount: 0,
    reasonCounts: {},
    reasons: [],
    scopeNames: [],
  };
  const count = (reason: string) => {
    if (!(reason in check.reasonCounts)) check.reasons.push(reason);
    check.reasonCounts[reason] = (check.reasonCounts[reason] ?? 0) + 1;
  };
  const malformed = (reason: string) => {
    check.malformedCollectionCount += 1;
    count(reason);
  };
  const sampleScope = (name: unknown) => {
    if (typeof name === "string" && name !== "" && check.scopeNames.length < maxSamples) {
      if (!check.scopeNames.includes(name)) check.scopeNames.push(name);
    }
  };
  if (!Array.isArray(resourceSpans)) {
    if (isPresent(resourceSpans)) malformed("resourceSpans:not_an_array");
    return check;
  }
  for (const resourceSpan of resourceSpans) {
    const resource = field(field(resourceSpan, "resource"), "attributes");
    if (isMalformedList(resource)) malformed("resource.attributes:not_an_array");
    const scopeSpans = field(resourceSpan, "scopeSpans");
    if (!Array.isArray(scopeSpans)) {
      if (isPresent(scopeSpans)) malformed("scopeSpans:not_an_array");
      continue;
    }
    for (const scopeSpan of scopeSpans) {
      const scope = field(scopeSpan, "scope");
      if (isMalformedList(field(scope, "attributes"))) {
        malformed("scope.attributes:not_an_array");
        sampleScope(field(scope, "name"));
      }
      const spans = field(scopeSpan, "spans");
      if (!Array.isArray(spans)) {
        if (isPresent(spans)) {
          malformed("spans:not_an_array");
          sampleScope(field(scope, "name"));
        }
        continue;
      }
      for (const span of spans) {
        check.totalSpanCount += 1;
        const spanReasons = spanProblems(span, options.ids);
        if (spanReasons.length === 0) continue;
        check.invalidSpanCount += 1;
        spanReasons.forEach(count);
        sampleScope(field(scope, "name"));
      }
    }
  }
  return check;
}

/** True when the export must be rejected. */
export function isRejectedExport(check: LangfuseExportCheck): boolean {
  return check.invalidSpanCount > 0 || check.malformedCollectionCount > 0;
}

/** The 400 message, worded like Langfuse's so a client's log line reads the same. */
export function describeLangfuseExportRejection(check: LangfuseExportCheck): string {
  const problems: string[] = [];
  if (check.invalidSpanCount > 0) {
    problems.push(`${check.invalidSpanCount} of ${check.totalSpanCount} span(s) cannot be processed`);
  }
  if (check.malformedCollectionCount > 0) {
    problems.push(
      `${check.malformedCollectionCount} resource- or scope-level field(s) are present but not arrays`,
    );
  }
  const hints: string[] = [];
  if (check.reasons.some((reason) => /^(traceId|spanId|parentSpanId):/.test(reason))) {
    hints.push(
      "traceId (16 bytes) and spanId (8 bytes) are required on every span, not all zero, hex-encoded in OTLP/JSON.",
    );
  }
  if (check.reasons.some((reason) => reason.endsWith(":not_an_array"))) {
    hints.push(
      "resourceSpans, scopeSpans, spans, attributes and events must all be arrays — OTLP attributes are a list of {key, value} entries, not a JSON object.",
    );
  }
  return (
    `Invalid OTLP trace export: ${problems.join("; ")} (${check.reasons.join(", ")}). ${hints.join(" ")} ` +
    "The entire export was rejected and no spans were ingested. " +
    `Instrumentation scopes: ${check.scopeNames.join(", ") || "unknown"}.`
  );
}

function spanProblems(span: unknown, ids: OtlpIdEncoding): string[] {
  const reasons: string[] = [];
  for (const kind of ["traceId", "spanId"] as const) {
    const reason = idRejectionReason(field(span, kind), ID_BYTES[kind], ids, true);
    if (reason) reasons.push(`${kind}:${reason}`);
  }
  const parent = field(span, "parentSpanId");
  // a root span has no parent: absent and empty are both fine
  if (isPresent(parent) && parent !== "") {
    const reason = idRejectionReason(parent, ID_BYTES.parentSpanId, ids, false);
    if (reason) reasons.push(`parentSpanId:${reason}`);
  }
  if (isMalformedList(field(span, "attributes"))) reasons.push("attributes:not_an_array");
  const events = field(span, "events");
  if (isMalformedList(events)) reasons.push("events:not_an_array");
  else if (Array.isArray(events) && events.some((event) => isMalformedList(field(event, "attributes")))) {
    reasons.push("event.attributes:not_an_array");
  }
  return reasons;
}

/** Why an id is unusable, or undefined when it is fine. */
function idRejectionReason(
  value: unknown,
  bytes: number,
  encoding: OtlpIdEncoding,
  rejectAllZero: boolean,
): string | undefined {
  if (value === undefined || value === null || value === "") return "absent";
  if (typeof value !== "string") return "not_an_id";
  let decoded: Buffer;
  if (encoding === "hex") {
    if (!/^[0-9a-fA-F]*$/.test(value)) return "not_hex";
    if (value.length !== bytes * 2) return "wrong_length";
    decoded = Buffer.from(value, "hex");
  } else {
    decoded = Buffer.from(value, "base64");
    if (decoded.length !== bytes) return "wrong_length";
  }
  if (rejectAllZero && decoded.every((byte) => byte === 0)) return "all_zero";
  return undefined;
}

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

function isPresent(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function isMalformedList(value: unknown): boolean {
  return isPresent(value) && !Array.isArray(value);
}
