/**
 * The memory's figures for Prometheus, as the kit's pack gauges: the budgets, the latest fleet
 * consolidation's spend, over-budget marks and anomaly counts (every kind, 0 when none, so an
 * alert on a kind has a series to read), and when the last snapshot and consolidation were made.
 */
import { PACK_GAUGES, type PackGaugeReading } from "@clawscope/kit";
import type { AnomalyKind } from "../domain/anomalies.js";
import type { Budget, Consolidation } from "../domain/consolidation.js";

const ANOMALY_KINDS: readonly AnomalyKind[] = ["cost", "tokens", "error_rate", "p95_latency"];

export interface GaugeSources {
  budget: Budget;
  latest?: Consolidation | undefined;
  /** Epoch ms of this gateway's newest snapshot. */
  lastSnapshotAt?: number | undefined;
}

export function toGaugeReadings(sources: GaugeSources): PackGaugeReading[] {
  const readings: PackGaugeReading[] = [];
  const period = (value: string) => ({ "clawscope.budget.period": value });
  if (sources.budget.dailyUsd !== undefined)
    readings.push({
      name: PACK_GAUGES.budgetLimit.name,
      value: sources.budget.dailyUsd,
      attributes: period("daily"),
    });
  if (sources.budget.monthlyUsd !== undefined)
    readings.push({
      name: PACK_GAUGES.budgetLimit.name,
      value: sources.budget.monthlyUsd,
      attributes: period("monthly"),
    });
  const latest = sources.latest;
  if (latest) {
    const spend = (window: string, value: number) =>
      readings.push({
        name: PACK_GAUGES.spend.name,
        value,
        attributes: { "clawscope.spend.window": window },
      });
    spend("day", latest.budget.dayCostUsd);
    spend("month_to_date", latest.budget.monthToDateUsd);
    spend("projected_month", latest.budget.projectedMonthUsd);
    const over = (name: string, value: boolean) =>
      readings.push({ name: PACK_GAUGES.overBudget.name, value: value ? 1 : 0, attributes: period(name) });
    over("daily", latest.budget.overDaily);
    over("monthly", latest.budget.overMonthly);
    over("projected_monthly", latest.budget.projectedOverMonthly);
    for (const kind of ANOMALY_KINDS)
      readings.push({
        name: PACK_GAUGES.anomalies.name,
        value: latest.anomalies.filter((anomaly) => anomaly.kind === kind).length,
        attributes: { "clawscope.anomaly.kind": kind },
      });
    const createdAt = Date.parse(latest.createdAt);
    if (Number.isFinite(createdAt))
      readings.push({ name: PACK_GAUGES.lastConsolidation.name, value: Math.floor(createdAt / 1000) });
  }
  if (sources.lastSnapshotAt !== undefined)
    readings.push({ name: PACK_GAUGES.lastSnapshot.name, value: Math.floor(sources.lastSnapshotAt / 1000) });
  return readings;
}
