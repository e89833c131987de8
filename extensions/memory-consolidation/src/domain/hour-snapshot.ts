/**
 * The hourly snapshot: one record per gateway and hour (its id is both, so a second write for the
 * same hour — after a restart inside the hour — replaces the first). It holds the hour's figures,
 * in total and by dimension, latency percentiles from the merged histograms, what the operational
 * events said, the pack's own health, the process, the versions and a hash of the effective config.
 */
import type { HourActivity } from "./hour-activity.js";
import { type LatencyCounts, latencyCount, latencyPercentile, mergeLatency } from "./latency-histogram.js";
import type { MinuteRollup } from "./minute-rollup.js";
import { ROLLUP_DIMENSIONS, ROLLUP_FIGURES, type RollupDimension, type RollupFigure } from "./turn-fact.js";

export type Figures = Record<RollupFigure, number>;

/** One extension's health, as the snapshot keeps it. */
export interface PackHealthEntry {
  state: string;
  exported: number;
  retried: number;
  spooled: number;
  pending: number;
  dropped: number;
  lastError?: string;
}

export interface ProcessFigures {
  rssBytes: number;
  heapUsedBytes: number;
  eventLoopDelayP99Ms: number | null;
}

export type HourSnapshot = {
  id: string;
  kind: "hour";
  /** The hour's start (epoch ms, UTC). */
  ts: number;
  day: string;
  gateway: string;
  takenAt: number;
  totals: Figures;
  /** Figures by each dimension's value (`(none)` when the turn did not say). */
  by: Record<RollupDimension, Record<string, Figures>>;
  latency: {
    count: number;
    p50Ms: number | null;
    p95Ms: number | null;
    p99Ms: number | null;
    counts: LatencyCounts;
  };
  activity: HourActivity;
  pack: Record<string, PackHealthEntry>;
  process: ProcessFigures;
  versions: Record<string, string>;
  configHash: string;
};

export interface SnapshotInput {
  gateway: string;
  hour: number;
  takenAt: number;
  rollups: readonly MinuteRollup[];
  activity: HourActivity;
  pack: Record<string, PackHealthEntry>;
  process: ProcessFigures;
  versions: Record<string, string>;
  configHash: string;
}

export const NO_VALUE = "(none)";

export function toHourSnapshot(input: SnapshotInput): HourSnapshot {
  const totals = zeroFigures();
  const by = Object.fromEntries(ROLLUP_DIMENSIONS.map((name) => [name, {}])) as HourSnapshot["by"];
  const counts: LatencyCounts = {};
  for (const rollup of input.rollups) {
    if (rollup.gateway !== input.gateway || rollup.ts < input.hour || rollup.ts >= input.hour + 3_600_000)
      continue;
    addFigures(totals, rollup);
    for (const name of ROLLUP_DIMENSIONS) {
      const key = rollup[name] ?? NO_VALUE;
      by[name][key] ??= zeroFigures();
      addFigures(by[name][key], rollup);
    }
    mergeLatency(counts, rollup.latency?.counts);
  }
  return {
    id: `${input.gateway}:${input.hour}`,
    kind: "hour",
    ts: input.hour,
    day: new Date(input.hour).toISOString().slice(0, 10),
    gateway: input.gateway,
    takenAt: input.takenAt,
    totals,
    by,
    latency: {
      count: latencyCount(counts),
      p50Ms: latencyPercentile(counts, 50) ?? null,
      p95Ms: latencyPercentile(counts, 95) ?? null,
      p99Ms: latencyPercentile(counts, 99) ?? null,
      counts,
    },
    activity: input.activity,
    pack: input.pack,
    process: input.process,
    versions: input.versions,
    configHash: input.configHash,
  };
}

function zeroFigures(): Figures {
  return Object.fromEntries(ROLLUP_FIGURES.map((figure) => [figure, 0])) as Figures;
}

function addFigures(into: Figures, from: Readonly<Record<RollupFigure, number>>): void {
  for (const figure of ROLLUP_FIGURES) {
    const value = from[figure];
    if (typeof value === "number" && Number.isFinite(value)) into[figure] += value;
  }
}
