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
import {
  hashToHex,
  type TurnSpanIds,
  toTurnSpanIds as toKitTurnSpanIds,
  toTurnTraceId,
} from "@clawscope/kit/otlp";

// the generic id helpers live in the kit (MLflow derives its ids the same way); re-exported for the mappers
export {
  ensureNonZero,
  hashToHex,
  isValidSpanId,
  isValidTraceId,
  type TurnSpanIds,
} from "@clawscope/kit/otlp";

const NAMESPACE = "clawscope-otel";

/** The trace id of a turn: the first 32 hex characters of `sha256("clawscope-otel:trace:" + turnId)`. */
export function toTraceId(turnId: string): string {
  return toTurnTraceId(NAMESPACE, turnId);
}

/** Trace and span id of a span made from one host event, from that event's identity key. */
export function toEventIds(eventKey: string): { traceId: string; spanId: string } {
  return {
    traceId: hashToHex(`${NAMESPACE}:event-trace:${eventKey}`, 32),
    spanId: hashToHex(`${NAMESPACE}:event-span:${eventKey}`, 16),
  };
}

/** Every span id of a turn, in this extension's namespace (the derivation is the kit's, shared with MLflow and Langfuse). */
export function toTurnSpanIds(turn: Turn): TurnSpanIds {
  return toKitTurnSpanIds(NAMESPACE, turn);
}
