/**
 * A turn as one MLflow trace: an AGENT root, a CHAT_MODEL span per model call and a TOOL span per
 * tool call, as OTLP span records for MLflow's `/v1/traces` endpoint. Pure: same turn, same spans.
 *
 * What MLflow 3.18 reads on ingest (mlflow/server/otel_api.py, sqlalchemy_store.log_spans and
 * tracing/otel/translation): every OTLP attribute value is stored JSON-encoded once, so plain strings
 * and numbers are what we send (a JSON *string* for `mlflow.chat.tokenUsage` would be stored
 * double-encoded and not aggregated). `mlflow.spanType` fills the span's type column;
 * `gen_ai.usage.*` become `mlflow.chat.tokenUsage`, and trace token totals are summed tree-aware (a
 * span's usage hides its descendants'), so the root carries the turn's own totals; `session.id`
 * becomes the trace's session (`mlflow.trace.session` metadata) and `user.id` its
 * `mlflow.trace.user`; `mlflow.llm.cost` (a map) the trace's cost, tree-aware like usage; root attributes `mlflow.traceTag.<key>` become trace tags.
 */
import {
  type Cost,
  type ModelCall,
  type ToolCall,
  type Turn,
  toCallFailureText,
  toErrorText,
  toTurnFailureText,
  type Usage,
} from "@clawscope/kit";
import {
  type AttributeValue,
  definedAttributes,
  type SpanRecord,
  toCallTiming,
  toGenAiUsageAttributes,
  toTurnSpanIds,
  toTurnTraceId,
} from "@clawscope/kit/otlp";

/** Options of {@link toTraceSpans}. */
export interface TraceSpanOptions {
  /** Keyed hash of ids (the start context's `hashId`): raw session and user ids never leave. */
  hashId: (id: string | undefined) => string | undefined;
  /** Put captured content (span inputs and outputs). The kit fills `content` only when capture is on. */
  captureContent: boolean;
  /** The end user; by default the turn's sender (`message_received`), when the channel names one. Hashed like the session. */
  userId?: string;
}

/** MLflow span types we produce. */
export type MlflowSpanType = "AGENT" | "CHAT_MODEL" | "TOOL";

const NAMESPACE = "clawscope-mlflow";
/** Longest text put in a span's inputs or outputs (the kit already truncates; this bounds the span). */
const MAX_CONTENT_CHARS = 32_000;
/** Longest error message on a span status. */
const MAX_STATUS_CHARS = 256;

/** The trace id of a turn: `sha256("clawscope-mlflow:trace:" + turnId)`, 32 hex. */
export function toMlflowTraceId(turnId: string): string {
  return toTurnTraceId(NAMESPACE, turnId);
}

/**
 * Maps a turn to its spans, root first. Model and tool spans are children of the root (the host
 * does not say which model call asked for a tool). Calls still pending when the turn closed end with
 * the turn. Never throws on a well-typed turn; ids are stable per turn so a re-send de-duplicates.
 */
export function toTraceSpans(turn: Turn, options: TraceSpanOptions): SpanRecord[] {
  const { traceId, rootSpanId, modelCallSpanIds, toolCallSpanIds } = toTurnSpanIds(NAMESPACE, turn);
  const turnStart = turn.startedAt;
  const turnEnd = Math.max(turn.startedAt, turn.endedAt);
  const spans: SpanRecord[] = [toRootSpan(turn, traceId, rootSpanId, options)];
  for (const [index, call] of turn.modelCalls.entries()) {
    const place = { traceId, spanId: modelCallSpanIds[index] ?? "", parentSpanId: rootSpanId };
    spans.push(toChatSpan(call, turn, place, options));
  }
  for (const [index, call] of turn.toolCalls.entries()) {
    const place = { traceId, spanId: toolCallSpanIds[index] ?? "", parentSpanId: rootSpanId };
    spans.push(toToolSpan(call, turn, place, options));
  }
  for (const span of spans.slice(1)) {
    // children stay inside the root, or the trace view draws them past its end
    span.startTimeMs = Math.min(Math.max(span.startTimeMs, turnStart), turnEnd);
    span.endTimeMs = Math.min(Math.max(span.endTimeMs, span.startTimeMs), turnEnd);
  }
  return spans;
}

function toRootSpan(turn: Turn, traceId: string, spanId: string, options: TraceSpanOptions): SpanRecord {
  const sessionId = options.hashId(turn.sessionKey ?? turn.sessionId);
  const userId = options.hashId(options.userId ?? turn.senderId);
  const failed = turn.outcome === "error";
  const agentName = turn.agentId ?? "agent";
  const attributes = definedAttributes({
    "mlflow.spanType": "AGENT",
    "gen_ai.operation.name": "invoke_agent",
    "gen_ai.agent.name": agentName,
    "gen_ai.provider.name": turn.provider,
    "gen_ai.request.model": turn.model,
    "session.id": sessionId,
    "gen_ai.conversation.id": sessionId,
    "user.id": userId,
    "openclaw.channel": turn.channel,
    "openclaw.trigger": turn.trigger,
    "openclaw.turn.outcome": turn.outcome,
    "openclaw.usage.source": turn.usageSource,
    "openclaw.turn.attempts": turn.attempts,
    "openclaw.turn.model_calls": turn.modelCalls.length,
    "openclaw.turn.tool_calls": turn.toolCalls.length,
    "openclaw.incomplete": turn.incomplete ? true : undefined,
    "openclaw.incomplete.reason": turn.incomplete?.reason,
    "openclaw.errorCategory": failed ? turn.error?.category : undefined,
    "http.response.status_code": failed ? turn.error?.status : undefined,
    // root attributes with this prefix become trace tags: filterable in the Traces tab
    "mlflow.traceTag.openclaw.agent": turn.agentId,
    "mlflow.traceTag.openclaw.channel": turn.channel,
    "mlflow.traceTag.openclaw.outcome": turn.outcome,
    "mlflow.traceTag.openclaw.model": turn.model,
    ...toUsageAttributes(turn.usage),
    ...toCostAttributes(turn.cost),
  });
  if (options.captureContent) {
    const input = turn.modelCalls.find((call) => call.content?.input !== undefined)?.content?.input;
    const output = [...turn.modelCalls].reverse().find((call) => call.content?.output !== undefined)
      ?.content?.output;
    if (input !== undefined) attributes["mlflow.spanInputs"] = cut(input);
    if (output !== undefined) attributes["mlflow.spanOutputs"] = cut(output);
  }
  return {
    traceId,
    spanId,
    name: `invoke_agent ${agentName}`,
    kind: "internal",
    startTimeMs: turn.startedAt,
    endTimeMs: Math.max(turn.startedAt, turn.endedAt),
    attributes,
    status: failed ? errorStatus(toErrorText(toTurnFailureText(turn)) ?? "turn failed") : { code: "ok" },
  };
}

interface SpanPlace {
  traceId: string;
  spanId: string;
  parentSpanId: string;
}

function toChatSpan(call: ModelCall, turn: Turn, place: SpanPlace, options: TraceSpanOptions): SpanRecord {
  const model = call.model ?? turn.model;
  const failed = call.outcome === "error";
  const attributes = definedAttributes({
    "mlflow.spanType": "CHAT_MODEL",
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": call.provider ?? turn.provider,
    "gen_ai.request.model": model,
    "openclaw.model_call.time_to_first_byte_ms": call.timeToFirstByteMs,
    "openclaw.api": call.api,
    "openclaw.errorCategory": failed ? call.errorCategory : undefined,
    "openclaw.failureKind": failed ? call.failureKind : undefined,
    "http.response.status_code": failed ? call.errorStatus : undefined,
    "openclaw.model_call.attempt": call.attempt,
    "openclaw.incomplete": call.outcome === "pending" ? true : undefined,
    ...toUsageAttributes(call.usage),
    ...toCostAttributes(call.cost),
  });
  if (options.captureContent && call.content) {
    if (call.content.input !== undefined) attributes["mlflow.spanInputs"] = cut(call.content.input);
    if (call.content.output !== undefined) attributes["mlflow.spanOutputs"] = cut(call.content.output);
  }
  return {
    ...place,
    name: `chat ${model ?? "unknown"}`,
    kind: "client",
    ...toCallTiming(call, turn),
    attributes,
    status: failed ? errorStatus(toCallError(call, turn)) : { code: "ok" },
  };
}

/** The call's fixed reason, and the host's text for the turn's last failed call when content capture kept it. */
function toCallError(call: ModelCall, turn: Turn): string {
  return toErrorText(toCallFailureText(call, turn)) ?? "model call failed";
}

function toToolSpan(call: ToolCall, turn: Turn, place: SpanPlace, options: TraceSpanOptions): SpanRecord {
  const failed = call.outcome === "error" || call.outcome === "blocked";
  const attributes = definedAttributes({
    "mlflow.spanType": "TOOL",
    "gen_ai.operation.name": "execute_tool",
    "gen_ai.tool.name": call.toolName,
    "gen_ai.tool.call.id": call.toolCallId,
    "openclaw.tool.source": call.toolSource,
    "openclaw.tool.outcome": call.outcome,
    "openclaw.errorCategory": failed ? call.errorCategory : undefined,
    "openclaw.incomplete": call.outcome === "pending" ? true : undefined,
  });
  if (options.captureContent && call.content) {
    if (call.content.input !== undefined) attributes["mlflow.spanInputs"] = cut(call.content.input);
    if (call.content.output !== undefined) attributes["mlflow.spanOutputs"] = cut(call.content.output);
  }
  return {
    ...place,
    name: `execute_tool ${call.toolName}`,
    kind: "internal",
    ...toCallTiming(call, turn),
    attributes,
    status: failed ? errorStatus(call.errorCategory ?? `tool call ${call.outcome}`) : { code: "ok" },
  };
}

/**
 * Token counts as the GenAI conventions MLflow translates: `input_tokens` counts every input token,
 * cache included (MLflow reports cache reads and writes as subsets of it).
 */
function toUsageAttributes(usage: Usage): Record<string, AttributeValue | undefined> {
  return { ...toGenAiUsageAttributes(usage, { omitZeroCache: true }), "openclaw.tokens.total": usage.total };
}

/**
 * The gateway's cost with provenance; nothing at all when it is unknown (never a fake zero).
 * `mlflow.llm.cost` (a map, as MLflow's own autologging writes it) fills the Traces tab's cost; the
 * gateway reports only totals, so input and output cost stay out.
 */
function toCostAttributes(cost: Cost): Record<string, AttributeValue | undefined> {
  const known = cost.source !== "unknown" && typeof cost.usd === "number" && Number.isFinite(cost.usd);
  return {
    "mlflow.llm.cost": known && cost.usd !== null ? { total_cost: cost.usd } : undefined,
    "openclaw.cost.usd": known ? (cost.usd ?? undefined) : undefined,
    "openclaw.cost.source": cost.source,
  };
}

function errorStatus(message: string): SpanRecord["status"] {
  return { code: "error", message: message.replace(/\s+/g, " ").slice(0, MAX_STATUS_CHARS) };
}

function cut(text: string): string {
  return text.length > MAX_CONTENT_CHARS ? `${text.slice(0, MAX_CONTENT_CHARS)}…` : text;
}
