/**
 * What Langfuse makes of OTLP spans: per trace, the trace record and its observations, following
 * Langfuse's documented attribute mapping (BACKENDS.md, the Fern OpenTelemetry source, the server's
 * OTel ingestion). Contract tests apply it to what a client sent and compare with the official
 * SDK's export. Usage and cost are the *provided* details, before Langfuse infers prices or totals;
 * Langfuse's additions to metadata (resource and scope attributes) are left out.
 */
import {
  LANGFUSE_SPAN_ATTRIBUTES as A,
  LANGFUSE_OBSERVATION_LEVELS,
  type LangfuseObservationLevel,
  type LangfuseObservationType,
} from "./langfuse-attributes.js";
import {
  type ProblemSink,
  readCompletionStartTime,
  readCostDetails,
  readEnvironment,
  readFirstString,
  readInputOutput,
  readMetadata,
  readModelName,
  readModelParameters,
  readObservationName,
  readObservationType,
  readSessionId,
  readTags,
  readUsageDetails,
  readUserId,
} from "./langfuse-span-fields.js";
import type { OtlpSpan } from "./otlp-decoder.js";

/** A Langfuse trace as its ingestion would record it. */
export interface LangfuseTrace {
  id: string;
  /** `langfuse.trace.name`, else the root span's name. */
  name: string | null;
  userId: string | null;
  sessionId: string | null;
  /** Union of the tags every span set, in first-seen order. */
  tags: string[];
  environment: string;
  release: string | null;
  version: string | null;
  public: boolean | null;
  metadata: Record<string, unknown>;
  input: unknown;
  output: unknown;
}

/** A Langfuse observation (one per span). */
export interface LangfuseObservation {
  id: string;
  traceId: string;
  parentObservationId: string | null;
  type: LangfuseObservationType;
  name: string;
  environment: string;
  model: string | null;
  usageDetails: Record<string, number>;
  costDetails: Record<string, number>;
  modelParameters: Record<string, string | number>;
  level: LangfuseObservationLevel;
  statusMessage: string | null;
  /** ISO time. */
  completionStartTime: string | null;
  /** ISO time (millisecond precision). */
  startTime: string;
  endTime: string;
  input: unknown;
  output: unknown;
  metadata: Record<string, unknown>;
  promptName: string | null;
  promptVersion: number | null;
  /** What Langfuse would drop or refuse on this span (bad usage record, unknown type or level…); empty when clean. */
  problems: string[];
}

/** One trace with its observations in the order their spans came. */
export interface LangfuseTraceView {
  trace: LangfuseTrace;
  observations: LangfuseObservation[];
}

const TRACE_UPDATE_KEYS = [
  A.TRACE_NAME,
  A.TRACE_INPUT,
  A.TRACE_OUTPUT,
  A.TRACE_METADATA,
  A.TRACE_USER_ID,
  A.TRACE_SESSION_ID,
  A.TRACE_PUBLIC,
  A.TRACE_TAGS,
  A.TRACE_COMPAT_USER_ID,
  A.TRACE_COMPAT_SESSION_ID,
];

/**
 * Applies Langfuse's mapping to normalised spans (from `decodeOtlpRequest` or a Langfuse
 * receiver). Pure; traces in order of first appearance. Trace fields merge as Langfuse's upserts
 * do: a later non-null value wins, tags are united, metadata is merged.
 */
export function toLangfuseObservations(spans: readonly OtlpSpan[]): LangfuseTraceView[] {
  const views = new Map<string, LangfuseTraceView>();
  for (const span of spans) {
    if (typeof span !== "object" || span === null) continue;
    const traceId = String(span.traceId ?? "");
    let view = views.get(traceId);
    if (!view) {
      view = { trace: emptyTrace(traceId), observations: [] };
      views.set(traceId, view);
    }
    const attributes = span.attributes ?? {};
    const resource = span.resource ?? {};
    mergeTrace(view.trace, traceUpdate(span, attributes, resource));
    view.observations.push(toObservation(span, attributes, resource));
  }
  return [...views.values()];
}

function emptyTrace(id: string): LangfuseTrace {
  return {
    id,
    name: null,
    userId: null,
    sessionId: null,
    tags: [],
    environment: "default",
    release: null,
    version: null,
    public: null,
    metadata: {},
    input: null,
    output: null,
  };
}

function isRootSpan(span: OtlpSpan, attributes: OtlpSpan["attributes"]): boolean {
  return !span.parentSpanId || String(attributes[A.AS_ROOT]) === "true";
}

function hasTraceUpdates(attributes: OtlpSpan["attributes"]): boolean {
  if (TRACE_UPDATE_KEYS.some((key) => Boolean(attributes[key]))) return true;
  return Object.keys(attributes).some((key) => key.startsWith(A.TRACE_METADATA));
}

/** The trace fields one span contributes: all of them from a root, the explicit ones from others. */
function traceUpdate(
  span: OtlpSpan,
  attributes: OtlpSpan["attributes"],
  resource: OtlpSpan["resource"],
): Partial<LangfuseTrace> {
  const environment = readEnvironment(attributes, resource);
  const root = isRootSpan(span, attributes);
  if (!root && !hasTraceUpdates(attributes)) return { environment };
  const resourceMetadata = readMetadata(resource, "trace");
  const io = root
    ? readInputOutput(attributes, "trace")
    : { input: attributes[A.TRACE_INPUT] ?? null, output: attributes[A.TRACE_OUTPUT] ?? null };
  const explicitName = attributes[A.TRACE_NAME];
  const name =
    typeof explicitName === "string" && explicitName !== ""
      ? explicitName
      : root
        ? readObservationName(String(span.name ?? ""), attributes)
        : null;
  const publicValue = attributes[A.TRACE_PUBLIC] ?? attributes["langfuse.public"];
  return {
    name,
    userId: readUserId(attributes),
    sessionId: readSessionId(attributes),
    tags: readTags(attributes),
    environment,
    release: readFirstString(attributes, [A.RELEASE]) ?? readFirstString(resource, [A.RELEASE]),
    version: readFirstString(attributes, [A.VERSION]) ?? readFirstString(resource, ["service.version"]),
    public:
      publicValue === undefined || publicValue === null
        ? null
        : publicValue === true || publicValue === "true",
    metadata: {
      ...resourceMetadata,
      ...readMetadata(attributes, "trace"),
      ...(root ? readMetadata(attributes, "observation") : {}),
    },
    input: io.input,
    output: io.output,
  };
}

function mergeTrace(trace: LangfuseTrace, update: Partial<LangfuseTrace>): void {
  for (const tag of update.tags ?? []) if (!trace.tags.includes(tag)) trace.tags.push(tag);
  if (update.metadata) trace.metadata = { ...trace.metadata, ...update.metadata };
  const scalars = ["name", "userId", "sessionId", "release", "version", "public", "input", "output"] as const;
  for (const key of scalars) {
    const value = update[key];
    if (value !== undefined && value !== null) (trace as unknown as Record<string, unknown>)[key] = value;
  }
  if (update.environment !== undefined && update.environment !== "default")
    trace.environment = update.environment;
}

function toObservation(
  span: OtlpSpan,
  attributes: OtlpSpan["attributes"],
  resource: OtlpSpan["resource"],
): LangfuseObservation {
  const problems: string[] = [];
  const sink: ProblemSink = (problem) => {
    if (problems.length < 20) problems.push(problem);
  };
  const { input, output } = readInputOutput(attributes, "observation");
  const rawVersion = attributes[A.OBSERVATION_PROMPT_VERSION] ?? attributes["langfuse.prompt.version"];
  const promptVersion =
    rawVersion === undefined || rawVersion === null || rawVersion === "" ? Number.NaN : Number(rawVersion);
  return {
    id: String(span.spanId ?? ""),
    traceId: String(span.traceId ?? ""),
    parentObservationId: span.parentSpanId ? String(span.parentSpanId) : null,
    type: readObservationType(attributes, sink),
    name: readObservationName(String(span.name ?? ""), attributes),
    environment: readEnvironment(attributes, resource),
    model: readModelName(attributes),
    usageDetails: readUsageDetails(attributes, sink),
    costDetails: readCostDetails(attributes, sink),
    modelParameters: readModelParameters(attributes),
    level: readLevel(span, attributes, sink),
    statusMessage:
      readFirstString(attributes, [A.OBSERVATION_STATUS_MESSAGE]) ?? (span.status?.message || null),
    completionStartTime: readCompletionStartTime(attributes),
    startTime: toIsoTime(span.startTimeUnixNano),
    endTime: toIsoTime(span.endTimeUnixNano),
    input,
    output,
    metadata: { ...readMetadata(resource, "trace"), ...readMetadata(attributes, "observation") },
    promptName: readFirstString(attributes, [A.OBSERVATION_PROMPT_NAME, "langfuse.prompt.name"]),
    promptVersion: Number.isFinite(promptVersion) ? promptVersion : null,
    problems,
  };
}

/** `langfuse.observation.level`, else ERROR for an error status, else DEFAULT. */
function readLevel(
  span: OtlpSpan,
  attributes: OtlpSpan["attributes"],
  problems: ProblemSink,
): LangfuseObservationLevel {
  const explicit = attributes[A.OBSERVATION_LEVEL];
  if (explicit !== undefined && explicit !== null) {
    const known = LANGFUSE_OBSERVATION_LEVELS.find((level) => level === explicit);
    if (known) return known;
    problems(
      `${A.OBSERVATION_LEVEL} ${JSON.stringify(explicit)} is not one of ${LANGFUSE_OBSERVATION_LEVELS.join(", ")}`,
    );
  }
  return span.status?.code === 2 ? "ERROR" : "DEFAULT";
}

function toIsoTime(unixNano: unknown): string {
  const milliseconds =
    typeof unixNano === "number" && Number.isFinite(unixNano) ? Math.floor(unixNano / 1e6) : 0;
  const date = new Date(milliseconds);
  return Number.isNaN(date.getTime()) ? new Date(0).toISOString() : date.toISOString();
}
