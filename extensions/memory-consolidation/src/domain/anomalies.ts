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
import { type ByDimension, costOf, errorRateOf, type Figures, type HourFold, tokensOf } from "./day-fold.js";
import { latencyPercentile } from "./latency-histogram.js";
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
  driver?: { dimension: RollupDimension; value: string; hourValue: number; baselineMedian: number };
}

export const ANOMALY_METHOD =
  "robust z-score 0.6745·(x−median)/MAD over the trailing days' hours, flagged above 3.5 when also above the baseline's 95th percentile; MAD floored at 5% of the median";
export const Z_THRESHOLD = 3.5;

const PICK: Record<Exclude<AnomalyKind, "p95_latency">, (figures: Figures) => number> = {
  cost: costOf,
  tokens: tokensOf,
  error_rate: errorRateOf,
};
const ABSOLUTE_FLOOR: Record<AnomalyKind, number> = {
  cost: 0.01,
  tokens: 100,
  error_rate: 0.02,
  p95_latency: 50,
};
const DRIVER_DIMENSIONS: readonly RollupDimension[] = ["model", "agent", "provider", "channel"];

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

export function medianAbsoluteDeviation(values: readonly number[], center = median(values)): number {
  return median(values.map((value) => Math.abs(value - center)));
}

function hourFigure(kind: AnomalyKind, hour: HourFold): number | undefined {
  if (kind === "p95_latency") return latencyPercentile(hour.latency, 95);
  if (kind === "error_rate" && hour.figures.modelCalls === 0) return undefined;
  return PICK[kind](hour.figures);
}

/**
 * Finds the anomalous hours of `day` against `baseline` (hours of the trailing days; an hour with
 * no traffic counts as zero for cost and tokens, and is left out for error rate and latency).
 */
export function findAnomalies(
  day: ReadonlyMap<number, HourFold>,
  baseline: readonly HourFold[],
  baselineHours: number,
): Anomaly[] {
  const anomalies: Anomaly[] = [];
  if (baselineHours === 0) return anomalies;
  for (const kind of ["cost", "tokens", "error_rate", "p95_latency"] as const) {
    const values = baseline
      .map((hour) => hourFigure(kind, hour))
      .filter((value): value is number => value !== undefined);
    // hours without any traffic are zero cost and zero tokens
    if (kind === "cost" || kind === "tokens") while (values.length < baselineHours) values.push(0);
    if (values.length < 6) continue;
    const center = median(values);
    const mad = Math.max(medianAbsoluteDeviation(values, center), center * 0.05, ABSOLUTE_FLOOR[kind] / 10);
    // a figure that is often non-zero but rarely large (errors a few hours a day) has a median and a
    // MAD of 0: what its baseline shows in one hour out of twenty is not an anomaly
    const sorted = [...values].sort((a, b) => a - b);
    const p95 = sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)] ?? 0;
    for (const [hourStart, hour] of [...day.entries()].sort((a, b) => a[0] - b[0])) {
      const value = hourFigure(kind, hour);
      if (value === undefined || value - center < ABSOLUTE_FLOOR[kind] || value <= p95) continue;
      const score = (0.6745 * (value - center)) / mad;
      if (score <= Z_THRESHOLD) continue;
      const driver = kind === "p95_latency" ? undefined : findDriver(kind, hour.by, baseline, baselineHours);
      anomalies.push({
        kind,
        hour: new Date(hourStart).toISOString(),
        value: round(value),
        baselineMedian: round(center),
        baselineMad: round(mad),
        score: Math.round(score * 10) / 10,
        ...(driver ? { driver } : {}),
      });
    }
  }
  return anomalies;
}

function findDriver(
  kind: Exclude<AnomalyKind, "p95_latency">,
  hourBy: ByDimension,
  baseline: readonly HourFold[],
  baselineHours: number,
): Anomaly["driver"] {
  const candidates: (NonNullable<Anomaly["driver"]> & { rise: number; rank: number })[] = [];
  DRIVER_DIMENSIONS.forEach((dimension, rank) => {
    for (const [value, figures] of Object.entries(hourBy[dimension])) {
      const hourValue = PICK[kind](figures);
      const history = baseline.map((hour) => {
        const entry = hour.by[dimension][value];
        return entry ? PICK[kind](entry) : 0;
      });
      while (history.length < baselineHours && kind !== "error_rate") history.push(0);
      const center = median(history);
      const rise = hourValue - center;
      if (rise > 0)
        candidates.push({
          dimension,
          value,
          hourValue: round(hourValue),
          baselineMedian: round(center),
          rise,
          rank,
        });
    }
  });
  const top = Math.max(0, ...candidates.map((candidate) => candidate.rise));
  // an agent that carried all the traffic rises as much as the model that drove it: among the values
  // that explain (nearly) all of the rise, the most specific dimension names the cause
  const best = candidates
    .filter((candidate) => candidate.rise >= top * 0.9)
    .sort((a, b) => a.rank - b.rank || b.rise - a.rise)[0];
  if (!best) return undefined;
  const { rise: _rise, rank: _rank, ...driver } = best;
  return driver;
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
