/**
 * How Langfuse's OTel ingestion reads single fields off a span's attributes (the generic path of
 * its `OtelIngestionProcessor` and `ObservationTypeMapper`; the Vercel AI SDK, Pydantic AI and
 * other framework-specific branches are not modelled). Pure; tolerates any attribute values.
 */
import {
  LANGFUSE_SPAN_ATTRIBUTES as A,
  LANGFUSE_OBSERVATION_TYPES,
  type LangfuseObservationType,
} from "./langfuse-attributes.js";
import type { OtlpAttributes, OtlpValue } from "./otlp-decoder.js";

type Attributes = OtlpAttributes;

/** Collects what Langfuse would silently drop or refuse, so tests can assert there is none. */
export type ProblemSink = (problem: string) => void;

const GEN_AI_OPERATION_TYPES: Record<string, LangfuseObservationType> = {
  chat: "generation",
  completion: "generation",
  text_completion: "generation",
  generate_content: "generation",
  generate: "generation",
  embeddings: "embedding",
  invoke_agent: "agent",
  create_agent: "agent",
  execute_tool: "tool",
};
const OPENINFERENCE_TYPES: Record<string, LangfuseObservationType> = {
  CHAIN: "chain",
  RETRIEVER: "retriever",
  LLM: "generation",
  EMBEDDING: "embedding",
  AGENT: "agent",
  TOOL: "tool",
  GUARDRAIL: "guardrail",
  EVALUATOR: "evaluator",
};
const MODEL_TYPE_KEYS = [
  A.OBSERVATION_MODEL,
  "gen_ai.request.model",
  "gen_ai.response.model",
  "llm.model_name",
  "model",
];
const MODEL_NAME_KEYS = [
  A.OBSERVATION_MODEL,
  "gen_ai.response.model",
  "gen_ai.request.model",
  "llm.response.model",
  "llm.model_name",
  "model",
];
const USAGE_KEY_NAMES: Record<string, string> = {
  prompt_tokens: "input",
  completion_tokens: "output",
  total_tokens: "total",
  input_tokens: "input",
  output_tokens: "output",
  prompt: "input",
  completion: "output",
  "cache_read.input_tokens": "input_cached_tokens",
  "cache_creation.input_tokens": "input_cache_creation",
};

/** Observation type, by Langfuse's mapper priority: explicit type, OpenInference, gen_ai operation, tool, model. */
export function readObservationType(attributes: Attributes, problems: ProblemSink): LangfuseObservationType {
  const explicit = attributes[A.OBSERVATION_TYPE];
  if (hasMeaningfulValue(explicit)) {
    const known = LANGFUSE_OBSERVATION_TYPES.find((type) => type === explicit);
    if (known) return known;
    problems(`${A.OBSERVATION_TYPE} ${JSON.stringify(explicit)} is not a Langfuse observation type`);
  }
  const openInference = own(OPENINFERENCE_TYPES, attributes["openinference.span.kind"]);
  if (openInference) return openInference;
  const operation = own(GEN_AI_OPERATION_TYPES, attributes["gen_ai.operation.name"]);
  if (operation) return operation;
  if (
    hasMeaningfulValue(attributes["gen_ai.tool.name"]) ||
    hasMeaningfulValue(attributes["gen_ai.tool.call.id"])
  ) {
    return "tool";
  }
  if (MODEL_TYPE_KEYS.some((key) => hasMeaningfulValue(attributes[key]))) return "generation";
  return "span";
}

/** Observation name: the gen_ai tool name when set, else the span name. */
export function readObservationName(spanName: string, attributes: Attributes): string {
  const toolName = attributes["gen_ai.tool.name"];
  if (toolName) return typeof toolName === "string" ? toolName : JSON.stringify(toolName);
  return spanName;
}

/** First truthy value among `keys`, as a string (non-strings JSON-encoded, as Langfuse does). */
export function readFirstString(attributes: Attributes, keys: readonly string[]): string | null {
  for (const key of keys) {
    const value = attributes[key];
    if (value) return typeof value === "string" ? value : JSON.stringify(value);
  }
  return null;
}

export function readModelName(attributes: Attributes): string | null {
  return readFirstString(attributes, MODEL_NAME_KEYS);
}

export function readUserId(attributes: Attributes): string | null {
  return readFirstString(attributes, [
    A.TRACE_COMPAT_USER_ID,
    A.TRACE_USER_ID,
    `${A.OBSERVATION_METADATA}.langfuse_user_id`,
    `${A.TRACE_METADATA}.langfuse_user_id`,
  ]);
}

export function readSessionId(attributes: Attributes): string | null {
  return readFirstString(attributes, [
    A.TRACE_COMPAT_SESSION_ID,
    A.TRACE_SESSION_ID,
    "gen_ai.conversation.id",
    `${A.OBSERVATION_METADATA}.langfuse_session_id`,
    `${A.TRACE_METADATA}.langfuse_session_id`,
  ]);
}

/** Environment from the span, then the resource; `default` when neither sets one. */
export function readEnvironment(attributes: Attributes, resource: Attributes): string {
  for (const key of [A.ENVIRONMENT, "deployment.environment.name", "deployment.environment"]) {
    if (attributes[key]) return String(attributes[key]);
    if (resource[key]) return String(resource[key]);
  }
  return "default";
}

/** Tags: a string array, a JSON array string, a comma-separated string or one string. */
export function readTags(attributes: Attributes): string[] {
  const value =
    attributes[A.TRACE_TAGS] ||
    attributes["langfuse.tags"] ||
    attributes[`${A.OBSERVATION_METADATA}.langfuse_tags`] ||
    attributes[`${A.TRACE_METADATA}.langfuse_tags`];
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value.map((tag) => String(tag));
  if (typeof value === "string" && value.trim().startsWith("[")) {
    const parsed = parseJson(value);
    if (Array.isArray(parsed)) return parsed.map((tag) => String(tag));
  }
  if (typeof value === "string" && value.includes(",")) return value.split(",").map((tag) => tag.trim());
  return typeof value === "string" ? [value] : [];
}

/** Metadata of one domain: the whole-object attribute (JSON) overlaid with `<prefix>.<key>` attributes. */
export function readMetadata(
  attributes: Attributes,
  domain: "trace" | "observation",
): Record<string, unknown> {
  const prefix = domain === "trace" ? A.TRACE_METADATA : A.OBSERVATION_METADATA;
  let topLevel: Record<string, unknown> = {};
  const whole = attributes[prefix] || attributes["langfuse.metadata"];
  if (typeof whole === "string") {
    const parsed = parseJson(whole);
    if (isRecord(parsed)) topLevel = parsed;
  } else if (isRecord(whole)) {
    topLevel = whole;
  }
  const nested: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(attributes)) {
    for (const candidate of [prefix, "langfuse.metadata"]) {
      if (key.startsWith(`${candidate}.`)) nested[key.slice(candidate.length + 1)] = value;
    }
  }
  return { ...topLevel, ...nested };
}

/**
 * Usage details: `langfuse.observation.usage_details` (JSON), else `gen_ai.usage.*` with the
 * semconv cache counts moved out of `input` (Langfuse bills them separately).
 */
export function readUsageDetails(attributes: Attributes, problems: ProblemSink): Record<string, number> {
  const explicit = attributes[A.OBSERVATION_USAGE_DETAILS];
  if (explicit) {
    const parsed = typeof explicit === "string" ? parseJson(explicit) : undefined;
    // an unparsable value falls through to gen_ai.usage.*, as in Langfuse
    if (parsed !== undefined) return numberRecord(parsed, A.OBSERVATION_USAGE_DETAILS, problems, true);
  }
  const usage: Record<string, number> = {};
  for (const [key, raw] of Object.entries(attributes)) {
    const isUsage = key.startsWith("gen_ai.usage.") && key !== "gen_ai.usage.cost";
    if (!isUsage && !key.startsWith("llm.token_count.")) continue;
    const name = key.replace("gen_ai.usage.", "").replace("llm.token_count.", "");
    const value = Number(raw);
    if (!Number.isNaN(value)) usage[own(USAGE_KEY_NAMES, name) ?? name] = value;
  }
  if (usage.input_cached_tokens !== undefined || usage.input_cache_creation !== undefined) {
    usage.input = Math.max(
      (usage.input ?? 0) - (usage.input_cached_tokens ?? 0) - (usage.input_cache_creation ?? 0),
      0,
    );
  }
  return numberRecord(usage, "gen_ai.usage.*", problems, true);
}

/** Cost details: `langfuse.observation.cost_details` (JSON), else `gen_ai.usage.cost` as `total` (a 0 is dropped, as in Langfuse). */
export function readCostDetails(attributes: Attributes, problems: ProblemSink): Record<string, number> {
  const explicit = attributes[A.OBSERVATION_COST_DETAILS];
  if (explicit) {
    const parsed = typeof explicit === "string" ? parseJson(explicit) : undefined;
    if (parsed !== undefined) return numberRecord(parsed, A.OBSERVATION_COST_DETAILS, problems, false);
  }
  const cost = attributes["gen_ai.usage.cost"];
  if (cost) return numberRecord({ total: cost }, "gen_ai.usage.cost", problems, false);
  return {};
}

/** Model parameters: the JSON attribute, else `gen_ai.request.*` but the model; non-scalars JSON-encoded. */
export function readModelParameters(attributes: Attributes): Record<string, string | number> {
  const explicit = attributes[A.OBSERVATION_MODEL_PARAMETERS];
  if (typeof explicit === "string") {
    const parsed = parseJson(explicit);
    if (isRecord(parsed)) return sanitizeModelParameters(parsed);
  }
  const parameters: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (key.startsWith("gen_ai.request.") && key !== "gen_ai.request.model") {
      parameters[key.slice("gen_ai.request.".length)] = value;
    }
  }
  return sanitizeModelParameters(parameters);
}

/** Completion start time as ISO, from the attribute (plain or double-encoded ISO string). */
export function readCompletionStartTime(attributes: Attributes): string | null {
  const value = attributes[A.OBSERVATION_COMPLETION_START_TIME];
  if (typeof value !== "string") return null;
  for (const candidate of [value, parseJson(value)]) {
    if (typeof candidate === "string" && !Number.isNaN(Date.parse(candidate))) {
      return new Date(candidate).toISOString();
    }
  }
  return null;
}

/** Input and output from Langfuse's own attributes, else the gen_ai message and tool attributes. */
export function readInputOutput(
  attributes: Attributes,
  domain: "trace" | "observation",
): { input: unknown; output: unknown } {
  const traceInput = domain === "trace" ? attributes[A.TRACE_INPUT] : undefined;
  const traceOutput = domain === "trace" ? attributes[A.TRACE_OUTPUT] : undefined;
  const input = traceInput || attributes[A.OBSERVATION_INPUT];
  const output = traceOutput || attributes[A.OBSERVATION_OUTPUT];
  if (isPresent(input) || isPresent(output))
    return { input: readPayload(input), output: readPayload(output) };
  for (const [inputKey, outputKey] of [
    ["gen_ai.input.messages", "gen_ai.output.messages"],
    ["gen_ai.tool.call.arguments", "gen_ai.tool.call.result"],
  ] as const) {
    if (attributes[inputKey] || attributes[outputKey]) {
      return { input: readPayload(attributes[inputKey]), output: readPayload(attributes[outputKey]) };
    }
  }
  return { input: null, output: null };
}

/** A payload as Langfuse's API returns it: JSON strings parsed, other strings kept. */
export function readPayload(value: OtlpValue | undefined): unknown {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") return value;
  const parsed = parseJson(value);
  return parsed === undefined ? value : parsed;
}

/** Langfuse's "meaningful": not null, undefined, empty string, empty array or empty object. */
export function hasMeaningfulValue(value: unknown): boolean {
  if (value === null || value === undefined || value === "") return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object") return Object.keys(value).length > 0;
  return true;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function sanitizeModelParameters(parameters: Record<string, unknown>): Record<string, string | number> {
  const result: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(parameters)) {
    result[key] = typeof value === "string" || typeof value === "number" ? value : JSON.stringify(value);
  }
  return result;
}

/** A record of non-negative numbers (integers for usage), or `{}` with a problem, as Langfuse's schema drops it whole. */
function numberRecord(
  value: unknown,
  source: string,
  problems: ProblemSink,
  integers: boolean,
): Record<string, number> {
  if (!isRecord(value)) {
    problems(`${source} is not an object: Langfuse drops it`);
    return {};
  }
  const result: Record<string, number> = {};
  for (const [key, entry] of Object.entries(value)) {
    const valid = typeof entry === "number" && Number.isFinite(entry) && entry >= 0;
    if (!valid || (integers && !Number.isInteger(entry))) {
      const kind = integers ? "non-negative integer" : "non-negative number";
      problems(
        `${source}.${key} = ${JSON.stringify(entry)} is not a ${kind}: Langfuse drops the whole record`,
      );
      return {};
    }
    result[key] = entry;
  }
  return result;
}

/** `map[key]` for own keys only: attribute values must not reach `Object.prototype`. */
function own<Value>(map: Record<string, Value>, key: unknown): Value | undefined {
  return typeof key === "string" && Object.hasOwn(map, key) ? map[key] : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isPresent(value: unknown): boolean {
  return value !== undefined && value !== null;
}
