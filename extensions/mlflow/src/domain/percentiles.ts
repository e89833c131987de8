/** Nearest-rank percentiles over a bounded sample list (sorted in place of a copy). */

/** The `p`-th percentile (0 < p ≤ 100) of `samples` by nearest rank; undefined when empty. */
export function toPercentile(sortedSamples: readonly number[], p: number): number | undefined {
  if (sortedSamples.length === 0) return undefined;
  const rank = Math.ceil((p / 100) * sortedSamples.length);
  return sortedSamples[Math.min(sortedSamples.length, Math.max(1, rank)) - 1];
}

/** A bounded sample list: beyond `max` samples, further ones are counted, not kept. */
export interface SampleList {
  add(value: unknown): void;
  sorted(): number[];
  readonly dropped: number;
  readonly size: number;
}

/** Creates a sample list that ignores non-finite or negative values. */
export function createSampleList(max: number): SampleList {
  const values: number[] = [];
  let dropped = 0;
  return {
    add(value) {
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0) return;
      if (values.length >= max) dropped += 1;
      else values.push(value);
    },
    sorted: () => [...values].sort((a, b) => a - b),
    get dropped() {
      return dropped;
    },
    get size() {
      return values.length;
    },
  };
}
