/**
 * The daily consolidation: one record per scope (the fleet, or one gateway) and day. Its id is
 * both, so running it again for a day replaces it. It compares the day with the day before and
 * with the trailing days' daily mean, by agent, provider, model, channel and outcome; lists the
 * anomalous hours with what drove them; measures the budget; and names models, agents, providers
 * and channels seen for the first time.
 */
import { ANOMALY_METHOD, type Anomaly, findAnomalies } from "./anomalies.js";
import {
  addFigures,
  costOf,
  errorRateOf,
  type Figures,
  type HourFold,
  tokensOf,
  type WindowFold,
  zeroFigures,
} from "./day-fold.js";
import { latencyPercentile, mergeLatency } from "./latency-histogram.js";
import { createToolWindow, type ToolWindow } from "./tool-activity.js";
import { ROLLUP_DIMENSIONS, type RollupDimension } from "./turn-fact.js";

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
  window: { from: string; to: string };
  createdAt: string;
  /** The gateway (or `<gateway>/cli`) that made it. */
  consolidatedBy: string;
  noTraffic: boolean;
  gateways: string[];
  totals: Figures & Headline & { cacheHitRatio: number | null; p50Ms: number | null; p95Ms: number | null };
  change: {
    vsPreviousDay: Record<keyof Headline, number | null>;
    vsBaseline: Record<keyof Headline, number | null>;
    baselineDays: number;
  };
  by: Record<RollupDimension, DimensionRow[]>;
  /** The day hour by hour (hours with traffic; UTC hour starts), for the digest's charts. */
  hours: { hour: string; turns: number; costUsd: number; tokens: number; failedModelCalls: number }[];
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
  newValues: Record<"model" | "agent" | "provider" | "channel" | "tool", string[]>;
  /** The day's tools by calls (at most 15): failures and durations. */
  tools: { name: string; calls: number; failures: number; meanMs: number; maxMs: number }[];
  /** The slowest tools by mean duration (at most 5). */
  slowestTools: { name: string; calls: number; meanMs: number; maxMs: number }[];
  /** Failures by category, most first (at most 10): model calls by their category, tools as `tool:<category>`. */
  errorCategories: { category: string; count: number }[];
  summary: string;
};

export interface ConsolidationInput {
  scope: string;
  date: string;
  timeZone: string;
  from: number;
  to: number;
  createdAt: number;
  consolidatedBy?: string;
  day: WindowFold;
  previousDay: WindowFold;
  /** The trailing days before `previousDay`'s day included (most recent first); up to seven. */
  baselineDays: readonly WindowFold[];
  budget: Budget;
  /** Cost of the month so far, the day included, and where the day sits in its month. */
  month: { toDateUsd: number; dayOfMonth: number; daysInMonth: number };
  /** The day's tools and error categories; absent: none recorded. */
  tools?: ToolWindow;
  /** Tool names seen in the days before (previous day and baseline), for the tools seen first. */
  toolsBefore?: ReadonlySet<string>;
}

export function toConsolidation(input: ConsolidationInput): Consolidation {
  const { day, previousDay, baselineDays } = input;
  const baselineMean = meanFigures(baselineDays.map((fold) => fold.totals));
  const headline = toHeadline(day.totals);
  const dayLatency = {};
  for (const hour of day.hours.values()) mergeLatency(dayLatency, hour.latency);
  const baselineHours: HourFold[] = baselineDays.flatMap((fold) => [...fold.hours.values()]);
  const anomalies = findAnomalies(day.hours, baselineHours, baselineDays.length * 24);
  const cacheBase = day.totals.inputTokens + day.totals.cacheReadTokens;
  const dayCost = costOf(day.totals);
  const monthly = input.budget.monthlyUsd;
  const daily = input.budget.dailyUsd;
  const projected =
    input.month.dayOfMonth > 0
      ? (input.month.toDateUsd / input.month.dayOfMonth) * input.month.daysInMonth
      : 0;
  const by = Object.fromEntries(
    ROLLUP_DIMENSIONS.map((dimension) => [
      dimension,
      Object.entries(day.by[dimension])
        .map(([value, figures]): DimensionRow => {
          const before = previousDay.by[dimension][value];
          const trailing = meanFigures(
            baselineDays.map((fold) => fold.by[dimension][value] ?? zeroFigures()),
          );
          return {
            value,
            ...toHeadline(figures),
            vsPreviousDay: relative(costOrTurns(figures), before ? costOrTurns(before) : 0),
            vsBaseline:
              baselineDays.length > 0 ? relative(costOrTurns(figures), costOrTurns(trailing)) : null,
          };
        })
        .sort((a, b) => b.costUsd - a.costUsd || b.turns - a.turns),
    ]),
  ) as Consolidation["by"];
  const seenBefore = (dimension: RollupDimension) =>
    new Set([previousDay, ...baselineDays].flatMap((fold) => Object.keys(fold.by[dimension])));
  const newValues = Object.fromEntries(
    (["model", "agent", "provider", "channel"] as const).map((dimension) => {
      const before = seenBefore(dimension);
      const hadHistory = [previousDay, ...baselineDays].some((fold) => fold.totals.turns > 0);
      return [
        dimension,
        hadHistory
          ? Object.keys(day.by[dimension])
              .filter((value) => !before.has(value))
              .sort()
          : [],
      ];
    }),
  ) as Omit<Consolidation["newValues"], "tool">;
  const tools = input.tools ?? createToolWindow();
  const toolRows = Object.entries(tools.tools).map(([name, figures]) => ({
    name,
    calls: figures.calls,
    failures: figures.failures,
    meanMs: figures.calls > 0 ? Math.round(figures.durationMs / figures.calls) : 0,
    maxMs: Math.round(figures.maxMs),
  }));
  const newTools =
    input.toolsBefore && input.toolsBefore.size > 0
      ? toolRows
          .map((row) => row.name)
          .filter((name) => !input.toolsBefore?.has(name))
          .sort()
      : [];
  const record: Consolidation = {
    id: `${input.scope}:${input.date}`,
    kind: "day",
    scope: input.scope,
    date: input.date,
    timeZone: input.timeZone,
    ts: input.from,
    window: { from: new Date(input.from).toISOString(), to: new Date(input.to).toISOString() },
    createdAt: new Date(input.createdAt).toISOString(),
    consolidatedBy: input.consolidatedBy ?? "",
    noTraffic: day.totals.turns === 0,
    gateways: [...day.gateways].sort(),
    totals: {
      ...day.totals,
      ...headline,
      cacheHitRatio: cacheBase > 0 ? round(day.totals.cacheReadTokens / cacheBase) : null,
      p50Ms: latencyPercentile(dayLatency, 50) ?? null,
      p95Ms: latencyPercentile(dayLatency, 95) ?? null,
    },
    change: {
      vsPreviousDay: changeOf(headline, toHeadline(previousDay.totals), previousDay.totals.turns > 0),
      vsBaseline: changeOf(headline, toHeadline(baselineMean), baselineDays.length > 0),
      baselineDays: baselineDays.length,
    },
    by,
    hours: [...day.hours.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([hour, fold]) => ({
        hour: new Date(hour).toISOString(),
        turns: fold.figures.turns,
        costUsd: round(costOf(fold.figures)),
        tokens: tokensOf(fold.figures),
        failedModelCalls: fold.figures.failedModelCalls,
      })),
    anomalies,
    anomalyMethod: ANOMALY_METHOD,
    budget: {
      dailyUsd: daily ?? null,
      monthlyUsd: monthly ?? null,
      dayCostUsd: round(dayCost),
      monthToDateUsd: round(input.month.toDateUsd),
      projectedMonthUsd: round(projected),
      overDaily: daily !== undefined && dayCost > daily,
      overMonthly: monthly !== undefined && input.month.toDateUsd > monthly,
      projectedOverMonthly: monthly !== undefined && projected > monthly,
    },
    newValues: { ...newValues, tool: newTools },
    tools: [...toolRows].sort((a, b) => b.calls - a.calls || a.name.localeCompare(b.name)).slice(0, 15),
    slowestTools: [...toolRows]
      .sort((a, b) => b.meanMs - a.meanMs || a.name.localeCompare(b.name))
      .slice(0, 5)
      .map(({ name, calls, meanMs, maxMs }) => ({ name, calls, meanMs, maxMs })),
    errorCategories: Object.entries(tools.errors)
      .map(([category, count]) => ({ category, count }))
      .sort((a, b) => b.count - a.count || a.category.localeCompare(b.category))
      .slice(0, 10),
    summary: "",
  };
  record.summary = toSummary(record);
  return record;
}

function toHeadline(figures: Figures): Headline {
  return {
    turns: figures.turns,
    costUsd: round(costOf(figures)),
    tokens: tokensOf(figures),
    errorRate: round(errorRateOf(figures)),
    costUnknownTurns: figures.costUnknownTurns,
  };
}

function meanFigures(list: readonly Figures[]): Figures {
  const total = zeroFigures();
  for (const figures of list) addFigures(total, figures);
  if (list.length > 0) for (const key of Object.keys(total) as (keyof Figures)[]) total[key] /= list.length;
  return total;
}

function costOrTurns(figures: Figures): number {
  return costOf(figures) > 0 ? costOf(figures) : figures.turns;
}

function relative(now: number, before: number): number | null {
  if (!(before > 0)) return null;
  return round((now - before) / before);
}

function changeOf(now: Headline, before: Headline, known: boolean): Record<keyof Headline, number | null> {
  const keys = ["turns", "costUsd", "tokens", "errorRate", "costUnknownTurns"] as const;
  return Object.fromEntries(
    keys.map((key) => [key, known ? relative(now[key], before[key]) : null]),
  ) as Record<keyof Headline, number | null>;
}

function toSummary(record: Consolidation): string {
  if (record.noTraffic) return `${record.date}: no traffic (${record.scope}).`;
  const parts = [
    `${record.date}: ${record.totals.turns} turns, $${record.totals.costUsd.toFixed(4)}, ${record.totals.tokens} tokens, ${(record.totals.errorRate * 100).toFixed(1)}% model-call errors`,
  ];
  const change = record.change.vsPreviousDay.costUsd;
  if (change !== null)
    parts.push(`cost ${change >= 0 ? "+" : ""}${(change * 100).toFixed(0)}% vs the day before`);
  if (record.anomalies.length > 0) parts.push(`${record.anomalies.length} anomalous hour(s)`);
  if (record.budget.overDaily || record.budget.overMonthly || record.budget.projectedOverMonthly)
    parts.push("OVER BUDGET");
  return `${parts.join("; ")}.`;
}

function round(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}
