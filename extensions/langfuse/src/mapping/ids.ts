/**
 * Stable ids for a turn: the same turn always yields the same trace and observation ids, so Langfuse
 * overwrites rather than duplicates what the at-least-once pipeline sends twice, and scores can name
 * the trace before it arrives. Our own namespace: the host's trace id is already used by the official
 * diagnostics-otel plugin, so reusing it would merge two plugins' spans into one trace.
 */
import { createHash } from "node:crypto";
import type { Turn } from "@clawscope/kit";
import { type TurnSpanIds, toTurnSpanIds, toTurnTraceId } from "@clawscope/kit/otlp";

const NAMESPACE = "clawscope-langfuse";

/** The ids of one turn's observations, in the order of `turn.modelCalls` and `turn.toolCalls`. */
export type TurnObservationIds = TurnSpanIds;

/** The trace id of a turn: the first 32 hex characters of `sha256("clawscope-langfuse:trace:" + turnId)`. */
export function toLangfuseTraceId(turnId: string): string {
  return toTurnTraceId(NAMESPACE, turnId);
}

/** Every observation id of a turn, in this extension's namespace (the kit's derivation, shared with OTel and MLflow). */
export function toTurnObservationIds(turn: Turn): TurnObservationIds {
  return toTurnSpanIds(NAMESPACE, turn);
}

/**
 * A UUID-shaped id (version 5 and variant bits set) from a name-based SHA-256: what score ids look
 * like in Langfuse, and stable, so a re-sent score updates the first one instead of adding another.
 */
export function toStableUuid(...parts: readonly string[]): string {
  const hex = createHash("sha256")
    .update(`${NAMESPACE}:${parts.join("\u0000")}`)
    .digest("hex");
  const variant = ((Number.parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return [
    hex.slice(0, 8),
    hex.slice(8, 12),
    `5${hex.slice(13, 16)}`,
    `${variant}${hex.slice(17, 20)}`,
    hex.slice(20, 32),
  ].join("-");
}
