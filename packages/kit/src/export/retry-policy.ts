/** Exponential backoff with full jitter that never retries sooner than the server asked. */

/** Options for {@link createRetryPolicy}. */
export interface RetryPolicyOptions {
  /** Ceiling of the first delay in ms (default 1000). */
  initialDelayMs?: number;
  /** Largest ceiling in ms (default 60 000). */
  maxDelayMs?: number;
  /** Growth of the ceiling per consecutive failure (default 2). */
  multiplier?: number;
  /** Largest `Retry-After` honoured, in ms (default and ceiling: `maxDelayMs`). */
  maxRetryAfterMs?: number;
  /** Source of randomness in [0, 1); injectable for tests (default `Math.random`). */
  random?: () => number;
}

/** Computes how long to wait before the next attempt. */
export interface RetryPolicy {
  /**
   * Delay in ms after `failures` consecutive failures (1 for the first): a uniform draw in
   * [0, min(max, initial × multiplier^(failures−1))], and at least `retryAfterMs` when given.
   */
  delayFor(failures: number, retryAfterMs?: number): number;
}

function positive(value: number | undefined, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : fallback;
}

/** Creates a full-jitter backoff policy (AWS "full jitter": spreads retries of many clients apart). */
export function createRetryPolicy(options: RetryPolicyOptions = {}): RetryPolicy {
  const initial = positive(options.initialDelayMs, 1000);
  const max = Math.max(initial, positive(options.maxDelayMs, 60_000));
  const multiplier = Math.max(1, positive(options.multiplier, 2));
  // a server asking for longer than the operator's ceiling is asked again at the ceiling
  const maxRetryAfter = Math.min(positive(options.maxRetryAfterMs, max), max);
  const random = options.random ?? Math.random;
  return {
    delayFor(failures, retryAfterMs) {
      const exponent = Math.max(0, Math.min(Math.floor(failures) - 1, 64));
      const ceiling = Math.min(max, initial * multiplier ** exponent);
      let draw = Number(random());
      if (!Number.isFinite(draw) || draw < 0) draw = 0;
      if (draw >= 1) draw = 0.999_999;
      const jittered = Math.round(draw * ceiling);
      if (typeof retryAfterMs === "number" && Number.isFinite(retryAfterMs) && retryAfterMs > 0) {
        return Math.max(jittered, Math.min(Math.ceil(retryAfterMs), maxRetryAfter));
      }
      return jittered;
    },
  };
}
