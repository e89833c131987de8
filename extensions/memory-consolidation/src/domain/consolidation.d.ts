/**
 * The daily consolidation: one record per scope (the fleet, or one gateway) and day. Its id is
 * both, so running it again for a day replaces it. It compares the day with the day before and
 * with the trailing days' daily mean, by agent, provider, model, channel and outcome; lists the
 * anomalous hours with what drove them; measures the budget; and names models, agents, providers
 * and channels seen for the first time.
 */
import { type Anomaly } from "./anomalies.js";
import { type Figures, type WindowFold } from "./day-fold.js";
import { type RollupDimension } from "./turn-fact.js";
export interface Budget {
  dailyUsd?: number;
  monthlyUsd?: number;
}
export interface Headline {
  turns: number;
  costUsd: number;
  tokens: number;
  errorRate: number;
  /** Turns whose cost is unknown: counted, never priced at zero. */
  costUnknownTurns: number;
}
export interface DimensionRow extends Headline {
  value: string;
  /** Relative change (0.25 = +25 %) against the day before; null when that day had none. */
  vsPreviousDay: number | null;
  /** Relative change against the trailing days' daily mean; null without a baseline. */
  vsBaseline: number | null;
}
export type Consolidation = {
  id: string;
  kind: "day";
  scope: string;
  date: string;
  timeZone: string;
  /** The day's start (epoch ms). */
  ts: number;
  window: {
    from: string;
    to: string;
  };
  createdAt: string;
  noTraffic: boolean;
  gateways: string[];
  totals: Figures &
    Headline & {
      cacheHitRatio: number | null;
      p50Ms: number | null;
      p95Ms: number | null;
    };
  change: {
    vsPreviousDay: Record<keyof Headline, number | null>;
    vsBaseline: Record<keyof Headline, number | null>;
    baselineDays: number;
  };
  by: Record<RollupDimension, DimensionRow[]>;
  /** The day hour by hour (hours with traffic; UTC hour starts), for the digest's charts. */
  hours: {
    hour: string;
    turns: number;
    costUsd: number;
    tokens: number;
    failedModelCalls: number;
  }[];
  anomalies: Anomaly[];
  anomalyMethod: string;
  budget: {
    dailyUsd: number | null;
    monthlyUsd: number | null;
    dayCostUsd: number;
    monthToDateUsd: number;
    projectedMonthUsd: number;
    overDaily: boolean;
    overMonthly: boolean;
    projectedOverMonthly: boolean;
  };
  newValues: Record<"model" | "agent" | "provider" | "channel", string[]>;
  summary: string;
};
export interface ConsolidationInput {
  scope: string;
  date: string;
  timeZone: string;
  from: number;
  to: number;
  createdAt: number;
  day: WindowFold;
  previousDay: WindowFold;
  /** The trailing days before `previousDay`'s day included (most recent first); up to seven. */
  baselineDays: readonly WindowFold[];
  budget: Budget;
  /** Cost of the month so far, the day included, and where the day sits in its month. */
  month: {
    toDateUsd: number;
    dayOfMonth: number;
    daysInMonth: number;
  };
}
export declare function toConsolidation(input: ConsolidationInput): Consolidation;
//# sourceMappingURL=consolidation.d.ts.map
