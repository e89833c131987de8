/**
 * Stable ids for a turn: the same turn always yields the same trace and observation ids, so Langfuse
 * overwrites rather than duplicates what the at-least-once pipeline sends twice, and scores can name
 * the trace before it arrives. Our own namespace: the host's trace id is already used by the official
 * diagnostics-otel plugin, so reusing it would merge two plugins' spans into one trace.
 */
import { createHash } from "node:crypto";
import type { Turn } from "@clawscope/kit";
import { hashToHex } from "@clawscope/kit/otlp";

const NAMESPACE = "clawscope-langfuse";

/** The ids of one turn's observations, in the order of `turn.modelCalls` and `turn.toolCalls`. */
export interface TurnObservationIds {
  traceId: string;
  rootSpanId: string;
  modelCallSpanIds: string[];
  toolCallSpanIds: string[];
}

/** The trace id of a turn: the first 32 hex characters of `sha256("clawscope-langfuse:trace:" + turnId)`. */
export function toLangfuseTraceId(turnId: string): string {
  return hashToHex(`${NAMESPACE}:trace:${turnId}`, 32);
}

/**
 * Every observation id of a turn. Call ids are scoped by the turn (providers reuse `call_0` across
 * turns); two calls with the same id inside one turn get distinct ids by their occurrence number.
 */
export function toTurnObservationIds(turn: Turn): TurnObservationIds {
  const rootSpanId = hashToHex(`${NAMESPACE}:root:${turn.id}`, 16);
  const used = new Set<string>([rootSpanId]);
  const unique = (kind: string, callId: string): string => {
    let spanId = hashToHex(`${NAMESPACE}:${kind}:${turn.id}:${callId}`, 16);
    for (let occurrence = 2; used.has(spanId); occurrence += 1) {
      spanId = hashToHex(`${NAMESPACE}:${kind}:${turn.id}:${callId}#${occurrence}`, 16);
    }
    used.add(spanId);
    return spanId;
  };
  return {
    traceId: toLangfuseTraceId(turn.id),
    rootSpanId,
    modelCallSpanIds: turn.modelCalls.map((call) => unique("model", String(call.callId))),
    toolCallSpanIds: turn.toolCalls.map((call) => unique("tool", String(call.toolCallId))),
  };
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
