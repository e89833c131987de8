/**
 * Stable OTLP ids for a turn: the same turn always yields the same trace and span ids, so a backend
 * de-duplicates what the at-least-once pipeline sends twice (after a retry or a restart).
 *
 * Why not the host's own trace id: the official `diagnostics-otel` plugin already exports the
 * host's spans under it. Reusing it would merge two plugins' spans into one trace with two roots
 * and duplicated model-call spans. We derive our own ids instead and carry the host's trace id as
 * the attribute `openclaw.trace_id` plus a span link, so the two traces stay one click apart.
 */
import type { Turn } from "@clawscope/kit";
import { hashToHex } from "@clawscope/kit/otlp";

// the generic id helpers live in the kit (MLflow derives its ids the same way); re-exported for the mappers
export { ensureNonZero, hashToHex, isValidSpanId, isValidTraceId } from "@clawscope/kit/otlp";

const NAMESPACE = "clawscope-otel";

/** The ids of one turn's spans, in the order of `turn.modelCalls` and `turn.toolCalls`. */
export interface TurnSpanIds {
  traceId: string;
  rootSpanId: string;
  modelCallSpanIds: string[];
  toolCallSpanIds: string[];
}

/** The trace id of a turn: the first 32 hex characters of `sha256("clawscope-otel:trace:" + turnId)`. */
export function toTraceId(turnId: string): string {
  return hashToHex(`${NAMESPACE}:trace:${turnId}`, 32);
}

/** The span id of a turn's `invoke_agent` root span. */
export function toRootSpanId(turnId: string): string {
  return hashToHex(`${NAMESPACE}:root:${turnId}`, 16);
}

/**
 * The span id of one model call. Scoped by the turn id although the host's call ids already start
 * with the run id: call ids from hooks alone need not, and a span id must be unique in its trace.
 */
export function toModelCallSpanId(turnId: string, callId: string): string {
  return hashToHex(`${NAMESPACE}:model:${turnId}:${callId}`, 16);
}

/** The span id of one tool call. Scoped by the turn: providers reuse tool call ids (`call_0`) across turns. */
export function toToolCallSpanId(turnId: string, toolCallId: string): string {
  return hashToHex(`${NAMESPACE}:tool:${turnId}:${toolCallId}`, 16);
}

/** Trace and span id of a span made from one host event, from that event's identity key. */
export function toEventIds(eventKey: string): { traceId: string; spanId: string } {
  return {
    traceId: hashToHex(`${NAMESPACE}:event-trace:${eventKey}`, 32),
    spanId: hashToHex(`${NAMESPACE}:event-span:${eventKey}`, 16),
  };
}

/**
 * Every span id of a turn. Two calls with the same id (a provider repeating a tool call id inside
 * one turn) get distinct span ids by their occurrence number, still deterministic for the turn.
 */
export function toTurnSpanIds(turn: Turn): TurnSpanIds {
  const rootSpanId = toRootSpanId(turn.id);
  const used = new Set<string>([rootSpanId]);
  const unique = (make: (suffix: string) => string): string => {
    let spanId = make("");
    for (let occurrence = 2; used.has(spanId); occurrence += 1) spanId = make(`#${occurrence}`);
    used.add(spanId);
    return spanId;
  };
  return {
    traceId: toTraceId(turn.id),
    rootSpanId,
    modelCallSpanIds: turn.modelCalls.map((call) =>
      unique((suffix) => toModelCallSpanId(turn.id, call.callId + suffix)),
    ),
    toolCallSpanIds: turn.toolCalls.map((call) =>
      unique((suffix) => toToolCallSpanId(turn.id, call.toolCallId + suffix)),
    ),
  };
}
