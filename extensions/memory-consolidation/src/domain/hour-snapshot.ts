/**
 * The hourly snapshot: one record per gateway and hour (its id is both, so a second write for the
 * same hour — after a restart inside the hour — replaces the first). It holds the hour's figures,
 * in total and by dimension, latency percentiles from the merged histograms, what the operational
 * events said, the pack's own health, the process, the versions and a hash of the effective config.
 */
import { type ByDimension, createWindowFold, type Figures, foldRollup } from "./day-fold.js";
import type { HourActivity } from "./hour-activity.js";
import { type LatencyCounts, latencyCount, latencyPercentile, mergeLatency } from "./latency-histogram.js";
import type { MinuteRollup } from "./minute-rollup.js";

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
  by: ByDimension;
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

export function toHourSnapshot(input: SnapshotInput): HourSnapshot {
  const fold = createWindowFold();
  for (const rollup of input.rollups) {
    if (rollup.gateway === input.gateway && rollup.ts >= input.hour && rollup.ts < input.hour + 3_600_000)
      foldRollup(fold, rollup);
  }
  const counts: LatencyCounts = {};
  for (const hour of fold.hours.values()) mergeLatency(counts, hour.latency);
  return {
    id: `${input.gateway}:${input.hour}`,
    kind: "hour",
    ts: input.hour,
    day: new Date(input.hour).toISOString().slice(0, 10),
    gateway: input.gateway,
    takenAt: input.takenAt,
    totals: fold.totals,
    by: fold.by,
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
