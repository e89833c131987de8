/**
 * Which turns get an MLflow trace: failed turns always; healthy ones at a ratio decided from the
 * trace id (the OpenTelemetry consistent-probability rule), so a re-sent turn gets the same answer.
 * The same idea as clawscope-otel's sampling, kept here: extensions do not import each other.
 */
import type { Turn } from "@clawscope/kit";

/** Why a turn was traced or not. */
export type TraceSamplingReason = "failed" | "ratio" | "sampled_out";

/** 2^56: the span of the 56 random bits at the end of a W3C trace id. */
const RANDOMNESS_SPAN = 2n ** 56n;

/** Decides whether a turn's trace is sent (run metrics count every turn regardless). */
export function shouldTraceTurn(
  turn: Turn,
  traceId: string,
  ratio: number,
): { keep: boolean; reason: TraceSamplingReason } {
  if (isFailedTurn(turn)) return { keep: true, reason: "failed" };
  return isSampledIn(traceId, ratio)
    ? { keep: true, reason: "ratio" }
    : { keep: false, reason: "sampled_out" };
}

/** Error, aborted or blocked, or closed before everything arrived. */
export function isFailedTurn(turn: Turn): boolean {
  return (
    turn.outcome === "error" ||
    turn.outcome === "aborted" ||
    turn.outcome === "blocked" ||
    turn.incomplete !== undefined ||
    turn.modelCalls.some((call) => call.outcome === "error")
  );
}

/** Kept when the id's last 56 bits reach `(1 - ratio)·2^56`; ratio clamped to 0..1, NaN keeps. */
export function isSampledIn(traceId: string, ratio: number): boolean {
  const clamped = Number.isNaN(ratio) ? 1 : Math.min(1, Math.max(0, ratio));
  if (clamped >= 1) return true;
  if (clamped <= 0) return false;
  const tail = typeof traceId === "string" ? traceId.slice(-14) : "";
  // no hex id to decide on: keep (dropping data on a bug is worse than keeping it)
  if (!/^[0-9a-fA-F]{1,14}$/.test(tail)) return true;
  const threshold = RANDOMNESS_SPAN - BigInt(Math.round(clamped * Number(RANDOMNESS_SPAN)));
  return BigInt(`0x${tail}`) >= threshold;
}
