import type { LatencyCounts } from "./latency-histogram.js";
import { type RollupDimension, type RollupFigure } from "./turn-fact.js";
/** A record of the `metrics` collection. */
export type MinuteRollup = {
  id: string;
  kind: "minute";
  /** The minute's start (epoch ms, UTC). */
  ts: number;
  /** The UTC day and hour it belongs to, for grouping by day or hour in the store. */
  day: string;
  hour: number;
  gateway: string;
  latency: {
    layout: string;
    counts: LatencyCounts;
  };
} & Record<RollupDimension, string | null> &
  Record<RollupFigure, number>;
/** One row of the facts' aggregate: the dimensions plus the latency bucket, with sums. */
export interface FactSums {
  group: Record<string, string | number | boolean | null>;
  count: number;
  sums: Record<string, number>;
}
/** The id of a minute's rollup for one combination of dimensions. */
export declare function toRollupId(
  gateway: string,
  minute: number,
  dimensions: Record<RollupDimension, string | null>,
): string;
/**
 * Folds aggregate rows (grouped by the dimensions and the latency bucket) into the minute's rollup
 * records; `previousIds` are the ids already stored for that minute, written again as zero records
 * when they have no turns any more.
 */
export declare function toMinuteRollups(
  gateway: string,
  minute: number,
  rows: readonly FactSums[],
  previous?: readonly MinuteRollup[],
): MinuteRollup[];
//# sourceMappingURL=minute-rollup.d.ts.map
