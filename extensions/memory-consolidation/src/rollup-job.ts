/**
 * Which minutes need rolling up, and rolling them up: a minute is marked when facts of it were
 * written, and rolled up (recomputed whole from its facts) at the next run. The first run also
 * marks the recent minutes that hold facts, so facts written just before a crash — or re-sent
 * from the spool after it — reach the rollups.
 */
import { MINUTE_MS } from "./domain/turn-fact.js";
import type { RollupRepository } from "./store/rollup-repository.js";

const HOUR_MS = 3_600_000;

export interface RollupJob {
  /** Marks the minutes of facts just written. */
  markWritten(minutes: Iterable<number>): void;
  /** Rolls up the marked minutes; a minute marked again meanwhile stays marked. */
  run(): Promise<void>;
  readonly dirtyMinutes: number;
  readonly lastRollup: { at: number; minutes: number } | undefined;
}

export function createRollupJob(options: {
  repository: RollupRepository;
  gateway: string;
  /** Hours of facts marked again at the first run (0: none). */
  recomputeHours: number;
  now: () => number;
}): RollupJob {
  const dirty = new Set<number>();
  let scanPending = options.recomputeHours > 0;
  let lastRollup: { at: number; minutes: number } | undefined;
  return {
    markWritten(minutes) {
      for (const minute of minutes) dirty.add(minute);
    },
    async run() {
      if (scanPending) {
        const now = options.now();
        const from = now - options.recomputeHours * HOUR_MS;
        for (const minute of await options.repository.minutesWithFacts(
          options.gateway,
          from,
          now + MINUTE_MS,
        ))
          dirty.add(minute);
        scanPending = false;
      }
      const minutes = [...dirty];
      if (minutes.length === 0) return;
      await options.repository.rollUp(options.gateway, minutes);
      for (const minute of minutes) dirty.delete(minute);
      lastRollup = { at: options.now(), minutes: minutes.length };
    },
    get dirtyMinutes() {
      return dirty.size;
    },
    get lastRollup() {
      return lastRollup;
    },
  };
}
