/**
 * Log records for a turn: one for its outcome, and one per failed model or tool call, each
 * correlated with its span (trace id + span id) so a backend jumps from the log to the trace.
 */
import { type Turn, toCallFailureText, toTurnFailureText } from "@clawscope/kit";
import type { LogRecordData } from "@clawscope/kit/otlp";
import { toTurnSpanIds } from "./ids.js";
import { definedAttributes, formatUsd, toErrorMessage } from "./turn-attributes.js";

/** Options of {@link toTurnLogRecords}. */
export interface TurnLogOptions {
  /** Keyed hash of session ids (the start context's `hashId`). */
  hashId: (id: string | undefined) => string | undefined;
}

/**
 * The turn's outcome record (INFO on success, ERROR on error, WARN when aborted, blocked, unknown
 * or incomplete) followed by an ERROR record per failed model call and tool call. Attributes are
 * low-cardinality apart from the hashed conversation id; no content, no raw ids.
 */
export function toTurnLogRecords(turn: Turn, options: TurnLogOptions): LogRecordData[] {
  const ids = toTurnSpanIds(turn);
  const conversationId = options.hashId(turn.sessionKey ?? turn.sessionId);
  const failed = turn.outcome === "error";
  const errorMessage = toErrorMessage(toTurnFailureText(turn));
  const records: LogRecordData[] = [
    {
      timeMs: Math.max(turn.startedAt, turn.endedAt),
      severity: toSeverity(turn),
      body: describeTurn(turn),
      attributes: definedAttributes({
        "event.name": "openclaw.turn",
        "gen_ai.conversation.id": conversationId,
        "gen_ai.agent.id": turn.agentId,
        "gen_ai.provider.name": turn.provider,
        "gen_ai.request.model": turn.model,
        "openclaw.channel": turn.channel,
        "openclaw.trigger": turn.trigger,
        "openclaw.turn.outcome": turn.outcome,
        "openclaw.turn.duration_ms": turn.durationMs,
        "openclaw.tokens.total": turn.usage.total,
        "openclaw.cost.usd": turn.cost.source === "unknown" ? undefined : (turn.cost.usd ?? undefined),
        "openclaw.cost.source": turn.cost.source,
        "openclaw.incomplete": turn.incomplete ? true : undefined,
        "openclaw.incomplete.reason": turn.incomplete?.reason,
        "error.type": failed ? (turn.error?.category ?? "_OTHER") : undefined,
        "exception.message": errorMessage,
      }),
      traceId: ids.traceId,
      spanId: ids.rootSpanId,
    },
  ];
  turn.modelCalls.forEach((call, index) => {
    if (call.outcome !== "error") return;
    const model = call.model ?? turn.model ?? "unknown";
    const category = call.errorCategory ?? call.failureKind;
    records.push({
      timeMs: call.endedAt ?? turn.endedAt,
      severity: "ERROR",
      body: `model call failed: ${call.provider ?? turn.provider ?? "unknown"}/${model}${category ? ` (${category})` : ""}`,
      attributes: definedAttributes({
        "event.name": "openclaw.model_call.error",
        "gen_ai.conversation.id": conversationId,
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": call.provider ?? turn.provider,
        "gen_ai.request.model": model,
        "openclaw.channel": turn.channel,
        "error.type": category ?? "_OTHER",
        "openclaw.errorCategory": call.errorCategory,
        "openclaw.failureKind": call.failureKind,
        "openclaw.model_call.attempt": call.attempt,
        "http.response.status_code": call.errorStatus,
        "exception.message": toErrorMessage(toCallFailureText(call, turn)),
      }),
      traceId: ids.traceId,
      spanId: ids.modelCallSpanIds[index] ?? ids.rootSpanId,
    });
  });
  turn.toolCalls.forEach((call, index) => {
    if (call.outcome !== "error") return;
    records.push({
      timeMs: call.endedAt ?? turn.endedAt,
      severity: "ERROR",
      body: `tool call failed: ${call.toolName}${call.errorCategory ? ` (${call.errorCategory})` : ""}`,
      attributes: definedAttributes({
        "event.name": "openclaw.tool_call.error",
        "gen_ai.conversation.id": conversationId,
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": call.toolName,
        "openclaw.tool.source": call.toolSource,
        "openclaw.channel": turn.channel,
        "error.type": call.errorCategory ?? "_OTHER",
      }),
      traceId: ids.traceId,
      spanId: ids.toolCallSpanIds[index] ?? ids.rootSpanId,
    });
  });
  return records;
}

function toSeverity(turn: Turn): LogRecordData["severity"] {
  if (turn.outcome === "error") return "ERROR";
  if (turn.outcome !== "success" || turn.incomplete) return "WARN";
  return "INFO";
}

/** `turn success: 2 model calls, 1 tool call, 266 tokens, $0.001326 (provider)`. */
export function describeTurn(turn: Turn): string {
  const incomplete = turn.incomplete ? ` (incomplete: ${turn.incomplete.reason})` : "";
  const cost =
    turn.cost.source === "unknown" || turn.cost.usd === null
      ? "cost unknown"
      : `${formatUsd(turn.cost.usd)} (${turn.cost.source})`;
  const error = turn.outcome === "error" ? `; error ${turn.error?.category ?? "unknown"}` : "";
  return (
    `turn ${turn.outcome}${incomplete}: ${plural(turn.modelCalls.length, "model call")}, ` +
    `${plural(turn.toolCalls.length, "tool call")}, ${plural(turn.usage.total, "token")}, ${cost}${error}`
  );
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
