/**
 * A window of minute rollups folded into what a consolidation compares: totals, totals by each
 * dimension's value, and per hour the figures, the latency histogram and the figures by dimension
 * (to name what drove an anomalous hour). Rollups are folded one at a time, so a day is read in
 * pages and never held whole.
 */
import { type LatencyCounts } from "./latency-histogram.js";
import type { MinuteRollup } from "./minute-rollup.js";
import { type RollupDimension, type RollupFigure } from "./turn-fact.js";
export type Figures = Record<RollupFigure, number>;
export type ByDimension = Record<RollupDimension, Record<string, Figures>>;
export interface HourFold {
  figures: Figures;
  latency: LatencyCounts;
  by: ByDimension;
}
export interface WindowFold {
  totals: Figures;
  by: ByDimension;
  /** By hour start (epoch ms). */
  hours: Map<number, HourFold>;
  gateways: Set<string>;
}
export declare const NO_VALUE = "(none)";
export declare function zeroFigures(): Figures;
export declare function createWindowFold(): WindowFold;
export declare function addFigures(
  into: Figures,
  from: Readonly<Partial<Record<RollupFigure, unknown>>>,
): void;
/** Adds one rollup to the fold (in place). */
export declare function foldRollup(fold: WindowFold, rollup: MinuteRollup): void;
/** Total cost of figures, whatever its provenance (unknown costs are counted apart, as turns). */
export declare function costOf(figures: Figures): number;
export declare function tokensOf(figures: Figures): number;
export declare function errorRateOf(figures: Figures): number;
//# sourceMappingURL=day-fold.d.ts.map
