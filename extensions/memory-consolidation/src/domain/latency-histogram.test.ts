import { describe, expect, it } from "vitest";
import {
  BUCKET_COUNT,
  bucketBounds,
  latencyCount,
  latencyPercentile,
  mergeLatency,
  toLatencyBucket,
} from "./latency-histogram.js";

describe("latency histogram", () => {
  it("puts each duration in the bucket whose bounds hold it, edges included", () => {
    for (const ms of [0, 0.5, 1, 1.2589, 9.99, 10, 99, 100, 1234, 60_000, 9_999_999]) {
      const index = toLatencyBucket(ms) ?? -1;
      const { low, high } = bucketBounds(index);
      expect(ms >= low && ms < high, `${ms} in bucket ${index} [${low}, ${high})`).toBe(true);
    }
    expect(toLatencyBucket(1e12)).toBe(BUCKET_COUNT - 1);
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, "5", undefined])
      expect(toLatencyBucket(bad)).toBeUndefined();
  });

  it("reads percentiles within one bucket of the exact value, and merges exactly", () => {
    // 1000 durations spread from 10 ms to 10 s
    const durations = Array.from({ length: 1000 }, (_, index) => 10 * 1000 ** (index / 999));
    const left: Record<string, number> = {};
    const right: Record<string, number> = {};
    durations.forEach((ms, index) => {
      const target = index % 2 === 0 ? left : right;
      const bucket = String(toLatencyBucket(ms));
      target[bucket] = (target[bucket] ?? 0) + 1;
    });
    const merged = mergeLatency(mergeLatency({}, left), right);
    expect(latencyCount(merged)).toBe(1000);
    for (const p of [50, 95, 99]) {
      const exact = durations[Math.ceil((p / 100) * durations.length) - 1] ?? 0;
      const read = latencyPercentile(merged, p) ?? 0;
      expect(read / exact).toBeGreaterThan(10 ** -0.1);
      expect(read / exact).toBeLessThan(10 ** 0.1);
    }
    expect(latencyPercentile({}, 50)).toBeUndefined();
    expect(latencyPercentile(merged, 0)).toBeUndefined();
  });
});
