/**
 * Which turns are sent to Langfuse: the kit's shared rule (failed turns always, healthy ones at a
 * rate decided from the trace id), plus turns caught in a tool loop, which are always worth a look.
 */
import { type SamplingDecision, shouldKeepTurn, type Turn } from "@clawscope/kit";

/** Why a turn was sent or not. */
export type TurnSamplingReason = SamplingDecision["reason"] | "tool_loop";

/** Decides whether a turn's trace (and its scores) are sent. */
export function shouldSendTurn(
  turn: Turn,
  traceId: string,
  sampleRate: number,
  toolLoop: boolean,
): { keep: boolean; reason: TurnSamplingReason } {
  const decision = shouldKeepTurn(turn, traceId, { ratio: sampleRate });
  if (!decision.keep && toolLoop) return { keep: true, reason: "tool_loop" };
  return decision;
}
