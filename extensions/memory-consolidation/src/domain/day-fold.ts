/**
 * A window of minute rollups folded into what a consolidation compares: totals, totals by each
 * dimension's value, and per hour the figures, the latency histogram and the figures by dimension
 * (to name what drove an anomalous hour). Rollups are folded one at a time, so a day is read in
 * pages and never held whole.
 */
import { type LatencyCounts, mergeLatency } from "./latency-histogram.js";
import type { MinuteRollup } from "./minute-rollup.js";
import { ROLLUP_DIMENSIONS, ROLLUP_FIGURES, type RollupDimension, type RollupFigure } from "./turn-fact.js";

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

export const NO_VALUE = "(none)";
const HOUR_MS = 3_600_000;

export function zeroFigures(): Figures {
  return Object.fromEntries(ROLLUP_FIGURES.map((figure) => [figure, 0])) as Figures;
}

function emptyBy(): ByDimension {
  return Object.fromEntries(ROLLUP_DIMENSIONS.map((name) => [name, {}])) as ByDimension;
}

export function createWindowFold(): WindowFold {
  return { totals: zeroFigures(), by: emptyBy(), hours: new Map(), gateways: new Set() };
}

export function addFigures(into: Figures, from: Readonly<Partial<Record<RollupFigure, unknown>>>): void {
  for (const figure of ROLLUP_FIGURES) {
    const value = from[figure];
    if (typeof value === "number" && Number.isFinite(value)) into[figure] += value;
  }
}

function addBy(by: ByDimension, rollup: MinuteRollup): void {
  for (const name of ROLLUP_DIMENSIONS) {
    const key = rollup[name] ?? NO_VALUE;
    by[name][key] ??= zeroFigures();
    addFigures(by[name][key], rollup);
  }
}

/** Adds one rollup to the fold (in place). */
export function foldRollup(fold: WindowFold, rollup: MinuteRollup): void {
  if (!rollup || typeof rollup.ts !== "number") return;
  fold.gateways.add(rollup.gateway);
  addFigures(fold.totals, rollup);
  addBy(fold.by, rollup);
  const hour = Math.floor(rollup.ts / HOUR_MS) * HOUR_MS;
  let entry = fold.hours.get(hour);
  if (!entry) {
    entry = { figures: zeroFigures(), latency: {}, by: emptyBy() };
    fold.hours.set(hour, entry);
  }
  addFigures(entry.figures, rollup);
  mergeLatency(entry.latency, rollup.latency?.counts);
  addBy(entry.by, rollup);
}

/** Total cost of figures, whatever its provenance (unknown costs are counted apart, as turns). */
export function costOf(figures: Figures): number {
  return figures.costProviderUsd + figures.costEstimatedUsd;
}

export function tokensOf(figures: Figures): number {
  return figures.inputTokens + figures.outputTokens + figures.cacheReadTokens + figures.cacheWriteTokens;
}

export function errorRateOf(figures: Figures): number {
  return figures.modelCalls > 0 ? figures.failedModelCalls / figures.modelCalls : 0;
}
