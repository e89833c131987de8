/**
 * Minute rollups from the sums of turn facts: one record per gateway, minute and combination of
 * dimensions, with every figure and the latency histogram. Its id is derived from those, so writing
 * a minute again replaces it; a combination that no longer has turns (an amended turn moved to
 * another outcome) is written as a zero record, so no stale figure survives a recomputation.
 */
import { createHash } from "node:crypto";
import type { LatencyCounts } from "./latency-histogram.js";
import { HISTOGRAM_LAYOUT } from "./latency-histogram.js";
import { ROLLUP_DIMENSIONS, ROLLUP_FIGURES, type RollupDimension, type RollupFigure } from "./turn-fact.js";

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
  latency: { layout: string; counts: LatencyCounts };
} & Record<RollupDimension, string | null> &
  Record<RollupFigure, number>;

/** One row of the facts' aggregate: the dimensions plus the latency bucket, with sums. */
export interface FactSums {
  group: Record<string, string | number | boolean | null>;
  count: number;
  sums: Record<string, number>;
}

/** The id of a minute's rollup for one combination of dimensions. */
export function toRollupId(
  gateway: string,
  minute: number,
  dimensions: Record<RollupDimension, string | null>,
): string {
  const key = ROLLUP_DIMENSIONS.map((name) => dimensions[name] ?? "\u0000").join("\u0001");
  const digest = createHash("sha256").update(key).digest("hex").slice(0, 16);
  return `${gateway}:${minute}:${digest}`;
}

/**
 * Folds aggregate rows (grouped by the dimensions and the latency bucket) into the minute's rollup
 * records; `previousIds` are the ids already stored for that minute, written again as zero records
 * when they have no turns any more.
 */
export function toMinuteRollups(
  gateway: string,
  minute: number,
  rows: readonly FactSums[],
  previous: readonly MinuteRollup[] = [],
): MinuteRollup[] {
  const byId = new Map<string, MinuteRollup>();
  for (const row of rows) {
    const dimensions = pickDimensions(row.group);
    const id = toRollupId(gateway, minute, dimensions);
    let rollup = byId.get(id);
    if (!rollup) {
      rollup = emptyRollup(id, gateway, minute, dimensions);
      byId.set(id, rollup);
    }
    for (const figure of ROLLUP_FIGURES) rollup[figure] += finite(row.sums[figure]);
    const bucket = row.group.latencyBucket;
    const turns = finite(row.sums.turns);
    if (typeof bucket === "number" && turns > 0) {
      const key = String(bucket);
      rollup.latency.counts[key] = (rollup.latency.counts[key] ?? 0) + turns;
    }
  }
  for (const old of previous) {
    if (byId.has(old.id) || old.gateway !== gateway || old.ts !== minute) continue;
    byId.set(old.id, emptyRollup(old.id, gateway, minute, pickDimensions(old)));
  }
  return [...byId.values()];
}

function emptyRollup(
  id: string,
  gateway: string,
  minute: number,
  dimensions: Record<RollupDimension, string | null>,
): MinuteRollup {
  const figures = Object.fromEntries(ROLLUP_FIGURES.map((figure) => [figure, 0])) as Record<
    RollupFigure,
    number
  >;
  return {
    id,
    kind: "minute",
    ts: minute,
    day: new Date(minute).toISOString().slice(0, 10),
    hour: Math.floor(minute / 3_600_000) * 3_600_000,
    gateway,
    ...dimensions,
    ...figures,
    latency: { layout: HISTOGRAM_LAYOUT, counts: {} },
  };
}

function pickDimensions(group: Readonly<Record<string, unknown>>): Record<RollupDimension, string | null> {
  const dimensions = {} as Record<RollupDimension, string | null>;
  for (const name of ROLLUP_DIMENSIONS) {
    const value = group[name];
    dimensions[name] = typeof value === "string" ? value : null;
  }
  return dimensions;
}

function finite(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}
