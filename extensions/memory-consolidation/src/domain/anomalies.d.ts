/**
 * Anomalous hours: an hour of the day whose cost, tokens, error rate or p95 latency leaves its
 * baseline — the same figure over every hour of the trailing days — by a robust z-score
 * (0.6745 × (x − median) / MAD, flagged above 3.5, Iglewicz and Hoaglin's cut). Median and MAD
 * ignore a few wild hours, which the mean and standard deviation would not. When the baseline
 * barely varies (MAD 0), the MAD is floored at 5 % of the median (or a small absolute figure), so
 * a flat baseline does not make every small wobble an anomaly; and an hour must also exceed the
 * baseline's 95th percentile, so a figure that is usually zero but recurs (errors a few hours a
 * day) is not flagged each time it recurs. Each anomaly names what drove it:
 * the dimension value (model, agent, provider, channel) whose figure rose most over its own
 * baseline in that hour.
 */
import { type HourFold } from "./day-fold.js";
import type { RollupDimension } from "./turn-fact.js";
export type AnomalyKind = "cost" | "tokens" | "error_rate" | "p95_latency";
export interface Anomaly {
  kind: AnomalyKind;
  /** The hour's start (ISO, UTC). */
  hour: string;
  value: number;
  baselineMedian: number;
  baselineMad: number;
  score: number;
  /** What drove it, when one dimension value explains the rise. */
  driver?: {
    dimension: RollupDimension;
    value: string;
    hourValue: number;
    baselineMedian: number;
  };
}
export declare const ANOMALY_METHOD =
  "robust z-score 0.6745\u00B7(x\u2212median)/MAD over the trailing days' hours, flagged above 3.5 when also above the baseline's 95th percentile; MAD floored at 5% of the median";
export declare const Z_THRESHOLD = 3.5;
export declare function median(values: readonly number[]): number;
export declare function medianAbsoluteDeviation(values: readonly number[], center?: number): number;
/**
 * Finds the anomalous hours of `day` against `baseline` (hours of the trailing days; an hour with
 * no traffic counts as zero for cost and tokens, and is left out for error rate and latency).
 */
export declare function findAnomalies(
  day: ReadonlyMap<number, HourFold>,
  baseline: readonly HourFold[],
  baselineHours: number,
): Anomaly[];
//# sourceMappingURL=anomalies.d.ts.map
