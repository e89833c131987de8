/**
 * One turn's contribution to the minute rollups, as a record of its own: its id is the turn's id,
 * so a turn written twice (a batch re-sent after a crash, a retry) is one record, and an amended
 * turn (a late `model.usage`, a retry's outcome) replaces what it contributed. The rollups are sums
 * over these records, so they count every turn exactly once.
 */
import type { Turn } from "@clawscope/kit";
export declare const MINUTE_MS = 60000;
/** The dimensions a rollup is grouped by; `null` when the turn did not say. */
export declare const ROLLUP_DIMENSIONS: readonly ["agent", "provider", "model", "channel", "outcome"];
export type RollupDimension = (typeof ROLLUP_DIMENSIONS)[number];
/** The figures a rollup sums. */
export declare const ROLLUP_FIGURES: readonly [
  "turns",
  "modelCalls",
  "failedModelCalls",
  "toolCalls",
  "toolFailures",
  "inputTokens",
  "outputTokens",
  "cacheReadTokens",
  "cacheWriteTokens",
  "costProviderUsd",
  "costEstimatedUsd",
  "costUnknownTurns",
  "durationMs",
];
export type RollupFigure = (typeof ROLLUP_FIGURES)[number];
/** A turn's record in `turn_facts`. */
export type TurnFact = {
  id: string;
  /** The start of the minute the turn ended in (epoch ms, UTC). */
  ts: number;
  endedAt: number;
  gateway: string;
  /** The latency bucket of the turn's duration (see `latency-histogram.ts`); null when unknown. */
  latencyBucket: number | null;
  revision: number;
} & Record<RollupDimension, string | null> &
  Record<RollupFigure, number>;
/** The start of the UTC minute holding `at`. */
export declare function toMinute(at: number): number;
/** Maps an assembled turn to its fact record. */
export declare function toTurnFact(turn: Turn, gateway: string): TurnFact;
//# sourceMappingURL=turn-fact.d.ts.map
