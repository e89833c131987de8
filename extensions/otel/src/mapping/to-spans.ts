/**
 * A turn as one trace: an `invoke_agent` root, a `chat` span per model call and an `execute_tool`
 * span per tool call, with GenAI semantic-convention attributes. Pure: same turn, same spans.
 */
import {
  type ModelCall,
  type ToolCall,
  type Turn,
  toCallFailureText,
  toTurnFailureText,
} from "@clawscope/kit";
import { type Attributes, type SpanRecord, toCallTiming } from "@clawscope/kit/otlp";
import { isValidSpanId, isValidTraceId, toTurnSpanIds } from "./ids.js";
import { definedAttributes, toCostAttributes, toErrorMessage, toUsageAttributes } from "./turn-attributes.js";

/** Options of {@link toTurnSpans}. */
export interface TurnSpanOptions {
  /** Keyed hash of session ids (the start context's `hashId`); raw session ids never leave. */
  hashId: (id: string | undefined) => string | undefined;
  /** Put captured content on chat and tool spans. The kit fills `content` only when capture is on. */
  captureContent: boolean;
  /** `gen_ai.agent.name`; the turn's agent id when absent. */
  agentName?: string;
}

/** Most `openclaw.incomplete.missing` entries kept on a span. */
const MAX_MISSING_ENTRIES = 32;
/** The GenAI conventions' `error.type` when nothing more specific is known. */
const OTHER_ERROR = "_OTHER";

/**
 * Maps a turn to its spans, root first. Model and tool spans are children of the root (the host
 * does not say which model call requested a tool). Calls still pending when the turn was closed
 * end with the turn and carry `openclaw.incomplete = true`.
 */
export function toTurnSpans(turn: Turn, options: TurnSpanOptions): SpanRecord[] {
  const ids = toTurnSpanIds(turn);
  const conversationId = options.hashId(turn.sessionKey ?? turn.sessionId);
  const turnEnd = Math.max(turn.startedAt, turn.endedAt);
  const root = toRootSpan(turn, ids.traceId, ids.rootSpanId, conversationId, options);
  const spans: SpanRecord[] = [root];
  turn.modelCalls.forEach((call, index) => {
    const spanId = ids.modelCallSpanIds[index] ?? "";
    spans.push(
      toChatSpan(call, turn, { traceId: ids.traceId, spanId, parentSpanId: ids.rootSpanId }, options),
    );
  });
  turn.toolCalls.forEach((call, index) => {
    const spanId = ids.toolCallSpanIds[index] ?? "";
    spans.push(
      toToolSpan(call, turn, { traceId: ids.traceId, spanId, parentSpanId: ids.rootSpanId }, options),
    );
  });
  for (const span of spans) {
    if (conversationId !== undefined) span.attributes["gen_ai.conversation.id"] = conversationId;
    if (span.endTimeMs > turnEnd && span !== root) span.endTimeMs = Math.max(span.startTimeMs, turnEnd);
  }
  return spans;
}

function toRootSpan(
  turn: Turn,
  traceId: string,
  spanId: string,
  conversationId: string | undefined,
  options: TurnSpanOptions,
): SpanRecord {
  const agentName = options.agentName ?? turn.agentId;
  const failed = turn.outcome === "error";
  const category = turn.error?.category;
  const attributes: Attributes = {
    ...definedAttributes({
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.agent.name": agentName,
      "gen_ai.agent.id": turn.agentId,
      "gen_ai.provider.name": turn.provider,
      "gen_ai.request.model": turn.model,
      "gen_ai.conversation.id": conversationId,
      // the channel's sender (message_received), hashed like the session
      "user.id": options.hashId(turn.senderId),
      "openclaw.channel": turn.channel,
      "openclaw.trigger": turn.trigger,
      "openclaw.turn.outcome": turn.outcome,
      "openclaw.turn.host_outcome": turn.hostOutcome,
      "openclaw.usage.source": turn.usageSource,
      "openclaw.turn.attempts": turn.attempts,
      "openclaw.turn.revision": turn.revision > 1 ? turn.revision : undefined,
      "openclaw.fallback.models": turn.fallbacks?.map(
        (fallback) => `${fallback.fromModel ?? "?"}->${fallback.toModel ?? "?"}`,
      ),
      "http.response.status_code": failed ? turn.error?.status : undefined,
      "openclaw.turn.model_calls": turn.modelCalls.length,
      "openclaw.turn.tool_calls": turn.toolCalls.length,
      "openclaw.context.limit": turn.context?.limit,
      "openclaw.context.used": turn.context?.used,
      "openclaw.trace_id": isValidTraceId(turn.traceId) ? turn.traceId : undefined,
      "error.type": failed ? (category ?? OTHER_ERROR) : undefined,
      "openclaw.errorCategory": failed ? category : undefined,
      "openclaw.error.source": failed ? turn.error?.source : undefined,
    }),
    ...toUsageAttributes(turn.usage),
    ...toCostAttributes(turn.cost),
    ...toIncompleteAttributes(turn),
  };
  const span: SpanRecord = {
    traceId,
    spanId,
    name: `invoke_agent ${agentName ?? "agent"}`,
    kind: "internal",
    startTimeMs: turn.startedAt,
    endTimeMs: Math.max(turn.startedAt, turn.endedAt),
    attributes,
    status: failed ? errorStatus(toErrorMessage(toTurnFailureText(turn))) : { code: "unset" },
  };
  // a link, not a parent: the host's trace belongs to diagnostics-otel (see ids.ts)
  if (isValidTraceId(turn.traceId) && isValidSpanId(turn.spanId)) {
    span.links = [
      { traceId: turn.traceId, spanId: turn.spanId, attributes: { "openclaw.link.type": "host_run" } },
    ];
  }
  return span;
}

interface SpanPlace {
  traceId: string;
  spanId: string;
  parentSpanId: string;
}

function toChatSpan(call: ModelCall, turn: Turn, place: SpanPlace, options: TurnSpanOptions): SpanRecord {
  const model = call.model ?? turn.model;
  const failed = call.outcome === "error";
  const category = call.errorCategory ?? call.failureKind;
  const attributes: Attributes = {
    ...definedAttributes({
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": call.provider ?? turn.provider,
      "gen_ai.request.model": model,
      "gen_ai.response.time_to_first_chunk":
        call.timeToFirstByteMs === undefined ? undefined : call.timeToFirstByteMs / 1000,
      "openclaw.model_call.time_to_first_byte_ms": call.timeToFirstByteMs,
      "openclaw.model_call.request_bytes": call.requestBytes,
      "openclaw.model_call.response_bytes": call.responseBytes,
      "openclaw.api": call.api,
      "error.type": failed ? (category ?? OTHER_ERROR) : undefined,
      "openclaw.errorCategory": failed ? call.errorCategory : undefined,
      "openclaw.failureKind": failed ? call.failureKind : undefined,
      "http.response.status_code": failed ? call.errorStatus : undefined,
      "openclaw.model_call.attempt": call.attempt,
      "openclaw.incomplete": call.outcome === "pending" ? true : undefined,
    }),
    ...toUsageAttributes(call.usage),
    ...toCostAttributes(call.cost),
  };
  if (options.captureContent && call.content) {
    if (call.content.input !== undefined) {
      attributes["gen_ai.input.messages"] = toMessagesJson("user", call.content.input);
    }
    if (call.content.output !== undefined) {
      attributes["gen_ai.output.messages"] = toMessagesJson("assistant", call.content.output, failed);
    }
  }
  return {
    ...place,
    name: `chat ${model ?? "unknown"}`,
    kind: "client",
    ...toCallTiming(call, turn),
    attributes,
    status: failed ? errorStatus(toErrorMessage(toCallFailureText(call, turn))) : { code: "unset" },
  };
}

function toToolSpan(call: ToolCall, turn: Turn, place: SpanPlace, options: TurnSpanOptions): SpanRecord {
  const failed = call.outcome === "error";
  const attributes: Attributes = definedAttributes({
    "gen_ai.operation.name": "execute_tool",
    "gen_ai.tool.name": call.toolName,
    "gen_ai.tool.call.id": call.toolCallId,
    "openclaw.tool.source": call.toolSource,
    "openclaw.tool.owner": call.toolOwner,
    "openclaw.tool.outcome": call.outcome,
    "error.type": failed ? (call.errorCategory ?? OTHER_ERROR) : undefined,
    "openclaw.errorCategory": failed ? call.errorCategory : undefined,
    "openclaw.incomplete": call.outcome === "pending" ? true : undefined,
  });
  if (options.captureContent && call.content) {
    if (call.content.input !== undefined) attributes["gen_ai.tool.call.arguments"] = call.content.input;
    if (call.content.output !== undefined) attributes["gen_ai.tool.call.result"] = call.content.output;
  }
  return {
    ...place,
    name: `execute_tool ${call.toolName}`,
    kind: "internal",
    ...toCallTiming(call, turn),
    attributes,
    status: failed ? errorStatus(call.errorCategory ?? "tool call failed") : { code: "unset" },
  };
}

function toIncompleteAttributes(turn: Turn): Attributes {
  if (!turn.incomplete) return {};
  return {
    "openclaw.incomplete": true,
    "openclaw.incomplete.reason": turn.incomplete.reason,
    "openclaw.incomplete.missing": turn.incomplete.missing.slice(0, MAX_MISSING_ENTRIES),
  };
}

/**
 * `gen_ai.input.messages` / `gen_ai.output.messages` as the conventions shape them. The kit's text
 * is opaque (and may be cut); a reply that is a JSON list of text parts is unpacked into parts.
 */
function toMessagesJson(role: "user" | "assistant", text: string, failed = false): string {
  const parts = readTextParts(text) ?? [{ type: "text", content: text }];
  const message: Record<string, unknown> = { role, parts };
  if (role === "assistant") message.finish_reason = failed ? "error" : "stop";
  return JSON.stringify([message]);
}

function readTextParts(text: string): Array<{ type: "text"; content: string }> | undefined {
  if (!text.startsWith("[")) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed)) return undefined;
    const parts: Array<{ type: "text"; content: string }> = [];
    for (const part of parsed) {
      const value = (part as { type?: unknown; text?: unknown } | null) ?? {};
      if (value.type !== "text" || typeof value.text !== "string") return undefined;
      parts.push({ type: "text", content: value.text });
    }
    return parts;
  } catch {
    return undefined;
  }
}

function errorStatus(message: string | undefined): SpanRecord["status"] {
  return message === undefined ? { code: "error" } : { code: "error", message };
}
