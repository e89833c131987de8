/**
 * Latency as a mergeable histogram: fixed logarithmic buckets, ten per decade, the same everywhere,
 * so the buckets of any minutes, hours or gateways add up and p50/p95/p99 can be read for any
 * window. Bucket `i` holds durations in [10^(i/10), 10^((i+1)/10)) ms; bucket 0 also holds
 * everything under 1 ms and the last bucket everything from 10^7 ms (about 2.8 hours) up. A
 * percentile read from it is within one bucket of the truth: at most about 26 % off.
 */

/** Buckets per decade. */
export const BUCKETS_PER_DECADE = 10;
/** Number of buckets: 1 ms to 10^7 ms. */
export const BUCKET_COUNT = 70;
/** How the buckets are laid out, written beside the counts so a reader never has to guess. */
export const HISTOGRAM_LAYOUT = "log10/10 ms";

/** Sparse bucket counts by bucket index (as a string key: it is stored as JSON). */
export type LatencyCounts = Record<string, number>;

/** The bucket a duration falls in; undefined for a duration that is not a finite, non-negative number. */
export function toLatencyBucket(durationMs: unknown): number | undefined {
  if (typeof durationMs !== "number" || !Number.isFinite(durationMs) || durationMs < 0) return undefined;
  if (durationMs < 1) return 0;
  // a tiny epsilon: 10^(i/10) computed in floating point must land in bucket i, not i-1
  const index = Math.floor(Math.log10(durationMs) * BUCKETS_PER_DECADE + 1e-9);
  return Math.min(BUCKET_COUNT - 1, Math.max(0, index));
}

/** The lower and upper bound of a bucket in ms. */
export function bucketBounds(index: number): { low: number; high: number } {
  return {
    low: index === 0 ? 0 : 10 ** (index / BUCKETS_PER_DECADE),
    high: 10 ** ((index + 1) / BUCKETS_PER_DECADE),
  };
}

/** Adds `other` into `into` (in place) and returns it. */
export function mergeLatency(into: LatencyCounts, other: Readonly<LatencyCounts> | undefined): LatencyCounts {
  if (!other) return into;
  for (const [key, value] of Object.entries(other)) {
    if (typeof value === "number" && Number.isFinite(value) && value > 0)
      into[key] = (into[key] ?? 0) + value;
  }
  return into;
}

/** Observations in a histogram. */
export function latencyCount(counts: Readonly<LatencyCounts>): number {
  let total = 0;
  for (const value of Object.values(counts)) if (typeof value === "number" && value > 0) total += value;
  return total;
}

/**
 * The `p`-th percentile (0 < p ≤ 100) in ms, interpolated geometrically inside its bucket; undefined
 * for an empty histogram. Rounded to 0.1 ms.
 */
export function latencyPercentile(counts: Readonly<LatencyCounts>, p: number): number | undefined {
  const total = latencyCount(counts);
  if (total === 0 || !(p > 0 && p <= 100)) return undefined;
  const rank = (p / 100) * total;
  let seen = 0;
  const indexes = Object.keys(counts)
    .map(Number)
    .filter((index) => Number.isInteger(index) && index >= 0 && index < BUCKET_COUNT)
    .sort((a, b) => a - b);
  for (const index of indexes) {
    const count = counts[String(index)] ?? 0;
    if (count <= 0) continue;
    if (seen + count >= rank) {
      const { low, high } = bucketBounds(index);
      const fraction = Math.min(1, Math.max(0, (rank - seen) / count));
      const value = low === 0 ? high * fraction : low * (high / low) ** fraction;
      return Math.round(value * 10) / 10;
    }
    seen += count;
  }
  return undefined;
}
