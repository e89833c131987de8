import { describe, expect, it } from "vitest";
import { createRetryPolicy } from "./retry-policy.js";

describe("createRetryPolicy", () => {
  it("draws uniformly below an exponentially growing ceiling (full jitter)", () => {
    const top = createRetryPolicy({
      initialDelayMs: 100,
      maxDelayMs: 1000,
      multiplier: 2,
      random: () => 0.999_999,
    });
    expect([1, 2, 3, 4, 5, 10].map((failures) => top.delayFor(failures))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    const half = createRetryPolicy({ initialDelayMs: 100, maxDelayMs: 1000, random: () => 0.5 });
    expect(half.delayFor(3)).toBe(200);
    const zero = createRetryPolicy({ initialDelayMs: 100, random: () => 0 });
    expect(zero.delayFor(7)).toBe(0);
  });

  it("never waits less than Retry-After, and never longer than the operator's ceiling", () => {
    const policy = createRetryPolicy({
      initialDelayMs: 100,
      maxDelayMs: 10_000,
      maxRetryAfterMs: 5000,
      random: () => 0,
    });
    expect(policy.delayFor(1, 2500)).toBe(2500);
    expect(policy.delayFor(1, 60_000)).toBe(5000);
    // a Retry-After beyond maxDelayMs (999999999 s, a date in 2099) waits maxDelayMs, no more
    const ceiling = createRetryPolicy({ initialDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 5000 });
    expect(ceiling.delayFor(1, 999_999_999_000)).toBe(1000);
    expect(createRetryPolicy({ maxDelayMs: 60_000 }).delayFor(1, 3_600_000)).toBe(60_000);
    const high = createRetryPolicy({ initialDelayMs: 100, maxDelayMs: 1000, random: () => 0.999_999 });
    expect(high.delayFor(5, 10)).toBe(1000);
  });

  it("survives a broken random source and silly options", () => {
    const policy = createRetryPolicy({
      initialDelayMs: -1,
      maxDelayMs: Number.NaN,
      multiplier: 0,
      random: () => Number.NaN,
    });
    expect(policy.delayFor(3)).toBe(0);
    const big = createRetryPolicy({ random: () => 5 });
    expect(big.delayFor(1)).toBeLessThanOrEqual(1000);
    expect(big.delayFor(1000)).toBeLessThanOrEqual(60_000);
  });
});
