/**
 * Head sampling of turns: failed, slow and expensive turns are always kept; healthy ones are kept
 * at a ratio, decided from the trace id so the decision is the same on every retry and restart.
 */
import type { Turn } from "@clawscope/kit";
import { toTraceId } from "./ids.js";

/** The sampling settings (the `sampling` config object). */
export interface TurnSampling {
  /** Share of healthy turns kept, 0..1. */
  ratio: number;
  /** Always keep turns that failed, were aborted or blocked, or closed incomplete. */
  keepErrors: boolean;
  /** Always keep turns lasting at least this long; 0 turns the rule off. */
  slowTurnMs: number;
  /** Always keep turns costing at least this much (USD, provider or estimated); 0 turns the rule off. */
  expensiveTurnUsd: number;
}

/** Why a turn was kept or dropped. */
export type SamplingReason = "error" | "slow" | "expensive" | "ratio" | "sampled_out";

/** A sampling decision. */
export interface SamplingDecision {
  keep: boolean;
  reason: SamplingReason;
}

/** 2^56: the span of the 56 random bits W3C trace ids carry at their end. */
const RANDOMNESS_SPAN = 2n ** 56n;

/**
 * Decides whether a turn's trace and logs are exported (metrics always count every turn).
 * Healthy turns are kept when the trace id's last 56 bits reach the threshold `(1 - ratio)·2^56`,
 * the OpenTelemetry rule for consistent probability sampling: ratio 0 keeps none, 1 keeps all,
 * and a Collector's probabilistic sampler downstream agrees with the decision.
 */
export function shouldKeepTurn(turn: Turn, sampling: TurnSampling): SamplingDecision {
  if (sampling.keepErrors && isFailedTurn(turn)) return { keep: true, reason: "error" };
  if (sampling.slowTurnMs > 0 && turn.durationMs >= sampling.slowTurnMs)
    return { keep: true, reason: "slow" };
  const usd = turn.cost.source === "unknown" ? null : turn.cost.usd;
  if (sampling.expensiveTurnUsd > 0 && usd !== null && usd >= sampling.expensiveTurnUsd) {
    return { keep: true, reason: "expensive" };
  }
  return isSampledIn(toTraceId(turn.id), sampling.ratio)
    ? { keep: true, reason: "ratio" }
    : { keep: false, reason: "sampled_out" };
}

/** A turn that did not end well: error, aborted, blocked, or closed before everything arrived. */
export function isFailedTurn(turn: Turn): boolean {
  return (
    turn.outcome === "error" ||
    turn.outcome === "aborted" ||
    turn.outcome === "blocked" ||
    turn.incomplete !== undefined
  );
}

/** The consistent ratio decision for a 32-hex trace id; a ratio outside 0..1 is clamped, NaN keeps. */
export function isSampledIn(traceId: string, ratio: number): boolean {
  const clamped = Number.isNaN(ratio) ? 1 : Math.min(1, Math.max(0, ratio));
  if (clamped >= 1) return true;
  if (clamped <= 0) return false;
  const tail = typeof traceId === "string" ? traceId.slice(-14) : "";
  // not a hex id: nothing to decide on, so keep (dropping data on a bug is worse than keeping it)
  if (!/^[0-9a-fA-F]{1,14}$/.test(tail)) return true;
  const randomness = BigInt(`0x${tail}`);
  // the threshold in 2^-56 steps; the float's 53 bits are plenty for a configured ratio
  const threshold = RANDOMNESS_SPAN - BigInt(Math.round(clamped * Number(RANDOMNESS_SPAN)));
  return randomness >= threshold;
}
