/**
 * Head sampling of turns for OTLP traces and logs: the kit's shared rule, decided on the trace id
 * this extension derives from the turn, so the decision matches the trace that is sent.
 */
import {
  shouldKeepTurn as decide,
  type SamplingDecision,
  type Turn,
  type TurnSampling,
} from "@clawscope/kit";
import { toTurnSpanIds } from "./ids.js";

export type { SamplingDecision, TurnSampling } from "@clawscope/kit";

/** Decides whether a turn's trace and logs are exported (metrics always count every turn). */
export function shouldKeepTurn(turn: Turn, sampling: TurnSampling): SamplingDecision {
  // the turn's ids are derived once and shared with its spans and logs
  return decide(turn, toTurnSpanIds(turn).traceId, sampling);
}
