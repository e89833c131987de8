/**
 * Head sampling of turns, shared by every extension that sends traces: failed, slow and expensive
 * turns are always kept; healthy ones at a ratio decided from the trace id (the OpenTelemetry rule
 * for consistent probability sampling), so a re-sent or re-started turn gets the same answer and a
 * Collector's probabilistic sampler downstream agrees.
 */
import type { Turn } from "./turn.js";

/** Sampling settings. Only `ratio` is required; the keep rules are off when absent or 0. */
export interface TurnSampling {
  /** Share of healthy turns kept, 0..1. */
  ratio: number;
  /** Always keep turns that did not end well (default true). */
  keepErrors?: boolean;
  /** Always keep turns lasting at least this long; 0 or absent turns the rule off. */
  slowTurnMs?: number;
  /** Always keep turns costing at least this much (USD, provider or estimated); 0 or absent turns it off. */
  expensiveTurnUsd?: number;
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

/** Decides whether a turn's trace is exported (metrics count every turn regardless). */
export function shouldKeepTurn(turn: Turn, traceId: string, sampling: TurnSampling): SamplingDecision {
  if (sampling.keepErrors !== false && isFailedTurn(turn)) return { keep: true, reason: "error" };
  const slowTurnMs = sampling.slowTurnMs ?? 0;
  if (slowTurnMs > 0 && turn.durationMs >= slowTurnMs) return { keep: true, reason: "slow" };
  const expensiveTurnUsd = sampling.expensiveTurnUsd ?? 0;
  const usd = turn.cost.source === "unknown" ? null : turn.cost.usd;
  if (expensiveTurnUsd > 0 && usd !== null && usd >= expensiveTurnUsd)
    return { keep: true, reason: "expensive" };
  return isSampledIn(traceId, sampling.ratio)
    ? { keep: true, reason: "ratio" }
    : { keep: false, reason: "sampled_out" };
}

/** A turn that did not end well: error, aborted, blocked, a failed model or tool call, or closed incomplete. */
export function isFailedTurn(turn: Turn): boolean {
  return (
    turn.outcome === "error" ||
    turn.outcome === "aborted" ||
    turn.outcome === "blocked" ||
    turn.incomplete !== undefined ||
    turn.modelCalls.some((call) => call.outcome === "error") ||
    turn.toolCalls.some((call) => call.outcome === "error")
  );
}

/**
 * The consistent ratio decision for a hex trace id: kept when its last 56 bits reach
 * `(1 - ratio)·2^56`. A ratio outside 0..1 is clamped; NaN keeps.
 */
export function isSampledIn(traceId: string, ratio: number): boolean {
  const clamped = Number.isNaN(ratio) ? 1 : Math.min(1, Math.max(0, ratio));
  if (clamped >= 1) return true;
  if (clamped <= 0) return false;
  const tail = typeof traceId === "string" ? traceId.slice(-14) : "";
  // not a hex id: nothing to decide on, so keep (dropping data on a bug is worse than keeping it)
  if (!/^[0-9a-fA-F]{1,14}$/.test(tail)) return true;
  // the threshold in 2^-56 steps; the float's 53 bits are plenty for a configured ratio
  const threshold = RANDOMNESS_SPAN - BigInt(Math.round(clamped * Number(RANDOMNESS_SPAN)));
  return BigInt(`0x${tail}`) >= threshold;
}
