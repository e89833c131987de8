/**
 * Latency as a mergeable histogram: fixed logarithmic buckets, ten per decade, the same everywhere,
 * so the buckets of any minutes, hours or gateways add up and p50/p95/p99 can be read for any
 * window. Bucket `i` holds durations in [10^(i/10), 10^((i+1)/10)) ms; bucket 0 also holds
 * everything under 1 ms and the last bucket everything from 10^7 ms (about 2.8 hours) up. A
 * percentile read from it is within one bucket of the truth: at most about 26 % off.
 */
/** Buckets per decade. */
export declare const BUCKETS_PER_DECADE = 10;
/** Number of buckets: 1 ms to 10^7 ms. */
export declare const BUCKET_COUNT = 70;
/** How the buckets are laid out, written beside the counts so a reader never has to guess. */
export declare const HISTOGRAM_LAYOUT = "log10/10 ms";
/** Sparse bucket counts by bucket index (as a string key: it is stored as JSON). */
export type LatencyCounts = Record<string, number>;
/** The bucket a duration falls in; undefined for a duration that is not a finite, non-negative number. */
export declare function toLatencyBucket(durationMs: unknown): number | undefined;
/** The lower and upper bound of a bucket in ms. */
export declare function bucketBounds(index: number): {
  low: number;
  high: number;
};
/** Adds `other` into `into` (in place) and returns it. */
export declare function mergeLatency(
  into: LatencyCounts,
  other: Readonly<LatencyCounts> | undefined,
): LatencyCounts;
/** Observations in a histogram. */
export declare function latencyCount(counts: Readonly<LatencyCounts>): number;
/**
 * The `p`-th percentile (0 < p ≤ 100) in ms, interpolated geometrically inside its bucket; undefined
 * for an empty histogram. Rounded to 0.1 ms.
 */
export declare function latencyPercentile(counts: Readonly<LatencyCounts>, p: number): number | undefined;
//# sourceMappingURL=latency-histogram.d.ts.map
