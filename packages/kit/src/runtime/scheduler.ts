/**
 * Time for the stateful extensions: named jobs that run on wall-clock boundaries (every minute, on
 * the hour, at 02:30 each day, every 5 minutes), never two runs of one job at once, and never a run
 * for a slot already run. A job's slot is the boundary it runs for; the scheduler remembers the last
 * slot of each job, so
 *
 * - after the process slept or the clock jumped forward past several boundaries, the job runs
 *   once, for the latest slot, told how many it skipped (`missed`) — not once per slot;
 * - when the clock steps back, slots already run are not run again: the next run is the first
 *   boundary after the last slot;
 * - when a run outlasts its period, the slots that came meanwhile fold into one run after it.
 *
 * The clock is injected (tests run a day in milliseconds) and the scheduler wakes at least once a
 * minute, so a clock that jumps is noticed without waiting for a far timer. Runs, failures and
 * durations are kept per job for health; a job that throws is logged (rate-limited) and retried at
 * its next slot, never rethrown. `stop` cancels the timers, aborts and awaits running jobs (bounded),
 * before the runtime stops the pipelines.
 */
import { describeError } from "./describe-error.js";
import type { PackLogger } from "./logger.js";
import { withTimeout } from "./runtime-lifecycle.js";

/** How often a job runs: a calendar unit (aligned to its start in the time zone) or a period in ms. */
export type ScheduleEvery = "minute" | "hour" | "day" | number;

/** When and where a job runs. */
export interface ScheduleOptions {
  every: ScheduleEvery;
  /**
   * Offset into each period: milliseconds, or for `day` `"HH:MM"` (`"02:30"`), for `hour` `":MM"`
   * (`":05"`), for `minute` `"::SS"`. Default: the start of the period.
   */
  at?: number | string;
  /** An IANA time zone for `day` and `hour` boundaries (`"Europe/Paris"`); default UTC. */
  timeZone?: string;
}

/** What a job is handed. */
export interface ScheduledRun {
  /** The boundary this run is for (epoch ms). */
  slot: number;
  /** Slots that passed without a run and are covered by this one (0 normally). */
  missed: number;
  /** The clock's time when the run started. */
  now: number;
  /** Aborted when the extension stops; a long job should stop at the next safe point. */
  signal: AbortSignal;
}

/** A job: may be async; a throw or rejection counts as a failure. */
export type ScheduledJob = (run: ScheduledRun) => void | Promise<void>;

/** One job's figures, for health. */
export interface ScheduleStats {
  every: string;
  runs: number;
  failures: number;
  /** Slots folded into later runs (sleep, clock jumps, runs longer than a period). */
  missed: number;
  running: boolean;
  lastSlot?: number;
  lastRunAt?: number;
  lastDurationMs?: number;
  maxDurationMs?: number;
  nextAt?: number;
  lastError?: { message: string; at: number };
}

/** The clock and timers the scheduler runs on; the real one by default. */
export interface SchedulerClock {
  now(): number;
  setTimer(callback: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

/** The longest shift `CLAWSCOPE_CLOCK_OFFSET_MS` may ask for: 400 days either way. */
const MAX_CLOCK_OFFSET_MS = 400 * 86_400_000;

/**
 * The system clock, shifted by `CLAWSCOPE_CLOCK_OFFSET_MS` when that is set: end-to-end tests and
 * drills run a real gateway at 00:59 of another day so the hour's snapshot and the daily
 * consolidation come within a minute. Only the scheduled jobs' time moves (turns keep the host's
 * timestamps). Returns the clock and, when shifted, the line to log; a bad value is ignored with a line.
 */
export function resolveSchedulerClock(env: Record<string, string | undefined>): {
  clock: SchedulerClock;
  notice?: string;
} {
  const raw = env.CLAWSCOPE_CLOCK_OFFSET_MS?.trim();
  if (!raw) return { clock: systemClock };
  const offset = Number(raw);
  if (!/^-?\d+$/.test(raw) || Math.abs(offset) > MAX_CLOCK_OFFSET_MS)
    return {
      clock: systemClock,
      notice: `CLAWSCOPE_CLOCK_OFFSET_MS=${raw.slice(0, 20)} ignored: a whole number of milliseconds within ±400 days`,
    };
  return {
    clock: { ...systemClock, now: () => Date.now() + offset },
    notice: `scheduled jobs run on a clock shifted by ${offset} ms (CLAWSCOPE_CLOCK_OFFSET_MS): for tests and drills only`,
  };
}

/** A set of named jobs that share a clock and stop together. */
export interface Scheduler {
  /** Registers a job; throws on a bad `every`, `at` or `timeZone`, or a name already used. */
  schedule(name: string, options: ScheduleOptions, job: ScheduledJob): void;
  /** Per-job figures, by name. */
  stats(): Record<string, ScheduleStats>;
  /** Cancels timers, aborts running jobs and waits for them, at most `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

/** The real clock: `Date.now` and unref'd timers (a pending job never keeps the process alive). */
export const systemClock: SchedulerClock = {
  now: () => Date.now(),
  setTimer(callback, ms) {
    const timer = setTimeout(callback, ms);
    timer.unref?.();
    return timer;
  },
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** The longest the scheduler sleeps, so a clock that jumps is noticed within this. */
const MAX_SLEEP_MS = MINUTE;
const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Creates a scheduler on `clock`; failures are logged through `logger`. */
export function createScheduler(options: { clock?: SchedulerClock; logger: PackLogger }): Scheduler {
  const clock = options.clock ?? systemClock;
  const { logger } = options;
  const jobs = new Map<string, JobState>();
  const abort = new AbortController();
  let stopped = false;

  const arm = (state: JobState) => {
    if (stopped) return;
    if (state.timer !== undefined) clock.clearTimer(state.timer);
    const now = clock.now();
    const next = state.slots.after(Math.max(now, state.lastSlot));
    state.stats.nextAt = next;
    const wait = Math.min(Math.max(next - now, 0), MAX_SLEEP_MS);
    state.timer = clock.setTimer(() => {
      state.timer = undefined;
      wake(state);
    }, wait);
  };

  const wake = (state: JobState) => {
    if (stopped) return;
    if (state.running) return; // the run in progress re-checks when it ends
    const now = clock.now();
    const due = state.slots.atOrBefore(now);
    if (due <= state.lastSlot) {
      // nothing new is due: before the next boundary, or the clock went back over slots already run
      arm(state);
      return;
    }
    const missed = Math.max(0, state.slots.countBetween(state.lastSlot, due) - 1);
    state.lastSlot = due;
    void run(state, { slot: due, missed, now, signal: abort.signal });
  };

  const run = async (state: JobState, runInfo: ScheduledRun) => {
    state.running = true;
    const { stats } = state;
    stats.running = true;
    stats.missed += runInfo.missed;
    stats.lastSlot = runInfo.slot;
    stats.lastRunAt = runInfo.now;
    try {
      await state.job(runInfo);
    } catch (error) {
      stats.failures += 1;
      const message = `scheduled job ${state.name} failed: ${describeError(error)}`;
      stats.lastError = { message, at: clock.now() };
      logger.limited("error", `schedule:${state.name}`, message);
    } finally {
      const duration = Math.max(0, clock.now() - runInfo.now);
      stats.runs += 1;
      stats.lastDurationMs = duration;
      stats.maxDurationMs = Math.max(stats.maxDurationMs ?? 0, duration);
      stats.running = false;
      state.running = false;
      state.settled?.();
      // a slot that came during the run runs now (once); otherwise sleep until the next one
      if (!stopped) wake(state);
    }
  };

  return {
    schedule(name, scheduleOptions, job) {
      if (!NAME.test(name))
        throw new Error(`schedule name "${name}" must be lower-case letters, digits, . _ -`);
      if (jobs.has(name)) throw new Error(`a job named "${name}" is already scheduled`);
      if (typeof job !== "function") throw new Error(`schedule ${name}: the job must be a function`);
      const slots = toSlots(scheduleOptions);
      const state: JobState = {
        name,
        job,
        slots,
        // the first run is at the first boundary after now, not at once
        lastSlot: slots.atOrBefore(clock.now()),
        running: false,
        stats: { every: describeEvery(scheduleOptions), runs: 0, failures: 0, missed: 0, running: false },
      };
      jobs.set(name, state);
      arm(state);
    },
    stats() {
      const result: Record<string, ScheduleStats> = {};
      for (const [name, state] of jobs) result[name] = { ...state.stats };
      return result;
    },
    async stop(timeoutMs = 5000) {
      stopped = true;
      abort.abort();
      const running: Promise<void>[] = [];
      for (const state of jobs.values()) {
        if (state.timer !== undefined) clock.clearTimer(state.timer);
        state.timer = undefined;
        state.stats.nextAt = undefined;
        if (state.running) {
          running.push(
            new Promise<void>((resolve) => {
              state.settled = resolve;
            }),
          );
        }
      }
      if (running.length === 0) return;
      await withTimeout(Promise.all(running), timeoutMs);
      const still = [...jobs.values()].filter((state) => state.running).map((state) => state.name);
      if (still.length > 0)
        logger.warn(
          `scheduled job(s) ${still.join(", ")} still running after ${timeoutMs} ms at stop; carrying on`,
        );
    },
  };
}

interface JobState {
  name: string;
  job: ScheduledJob;
  slots: SlotCalendar;
  /** The slot last run (or, before the first run, the boundary at or before the start). */
  lastSlot: number;
  running: boolean;
  timer?: unknown;
  settled?: () => void;
  stats: ScheduleStats;
}

/** Boundaries of one schedule. */
export interface SlotCalendar {
  /** The latest boundary at or before `time`. */
  atOrBefore(time: number): number;
  /** The first boundary strictly after `time`. */
  after(time: number): number;
  /** Boundaries in (from, to]. */
  countBetween(from: number, to: number): number;
}

/** The boundaries of a schedule; throws one line naming what is wrong. */
export function toSlots(options: ScheduleOptions): SlotCalendar {
  const { every } = options;
  const period = every === "minute" ? MINUTE : every === "hour" ? HOUR : every === "day" ? DAY : every;
  if (typeof period !== "number" || !Number.isFinite(period) || period < 1000 || period > DAY * 7) {
    throw new Error(
      `schedule every: expected "minute", "hour", "day" or milliseconds from 1000 to 7 days, got ${String(every)}`,
    );
  }
  const offset = toOffset(options.at, every, period);
  const zone = options.timeZone;
  if (zone === undefined || zone === "UTC" || typeof every === "number" || every === "minute") {
    if (zone !== undefined) toZoneOffset(zone, 0); // validates the name even where it changes nothing
    return fixedSlots(period, offset);
  }
  return zonedSlots(period, offset, zone);
}

/** Boundaries every `period` ms from the epoch, shifted by `offset` (UTC days and hours; ms periods). */
function fixedSlots(period: number, offset: number): SlotCalendar {
  const atOrBefore = (time: number) => Math.floor((time - offset) / period) * period + offset;
  return {
    atOrBefore,
    after: (time) => atOrBefore(time) + period,
    countBetween: (from, to) => Math.max(0, Math.round((atOrBefore(to) - atOrBefore(from)) / period)),
  };
}

/**
 * Day or hour boundaries in a time zone: the period's start in local time plus `offset`. Local
 * boundaries are found by shifting into the zone's wall time and back; across a DST change a day
 * is 23 or 25 hours long, as the operator's wall clock says.
 */
function zonedSlots(period: number, offset: number, zone: string): SlotCalendar {
  toZoneOffset(zone, 0);
  const local = fixedSlots(period, offset);
  const toUtc = (wall: number) => {
    // the zone's offset at the instant that wall time denotes (two passes settle a DST edge)
    let utc = wall - toZoneOffset(zone, wall);
    utc = wall - toZoneOffset(zone, utc);
    return utc;
  };
  const atOrBefore = (time: number) => {
    const wall = time + toZoneOffset(zone, time);
    let slot = toUtc(local.atOrBefore(wall));
    if (slot > time) slot = toUtc(local.atOrBefore(wall) - period);
    return slot;
  };
  const after = (time: number) => {
    const wall = time + toZoneOffset(zone, time);
    let slot = toUtc(local.after(wall));
    if (slot <= time) slot = toUtc(local.after(wall) + period);
    return slot;
  };
  return {
    atOrBefore,
    after,
    countBetween(from, to) {
      let count = 0;
      for (let slot = after(from); slot <= to && count < 10_000; slot = after(slot)) count += 1;
      return count;
    },
  };
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

/** The zone's offset from UTC at `time`, in ms (positive east of Greenwich). Throws on an unknown zone. */
function toZoneOffset(zone: string, time: number): number {
  let format = zoneFormats.get(zone);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat("en-US", {
        timeZone: zone,
        hourCycle: "h23",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
        second: "numeric",
      });
    } catch {
      throw new Error(
        `schedule timeZone: "${zone}" is not a time zone this Node knows (use an IANA name such as "Europe/Paris")`,
      );
    }
    zoneFormats.set(zone, format);
  }
  const parts: Record<string, number> = {};
  for (const part of format.formatToParts(new Date(time))) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  const wall = Date.UTC(
    parts.year ?? 1970,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  );
  return wall - (time - (((time % 1000) + 1000) % 1000));
}

function toOffset(at: ScheduleOptions["at"], every: ScheduleEvery, period: number): number {
  if (at === undefined) return 0;
  let offset: number | undefined;
  if (typeof at === "number") offset = at;
  else {
    const match = /^(\d{1,2})?:(\d{1,2})?(?::(\d{1,2}))?$/.exec(at.trim());
    if (match) {
      const [hours, minutes, seconds] = [match[1], match[2], match[3]].map((part) => Number(part ?? 0));
      if ((hours ?? 0) < 24 && (minutes ?? 0) < 60 && (seconds ?? 0) < 60) {
        offset = (hours ?? 0) * HOUR + (minutes ?? 0) * MINUTE + (seconds ?? 0) * 1000;
      }
    }
  }
  if (offset === undefined || !Number.isFinite(offset) || offset < 0 || offset >= period) {
    throw new Error(
      `schedule at: ${JSON.stringify(at)} is not within one ${typeof every === "number" ? `${every} ms period` : every} (use ${every === "day" ? '"HH:MM"' : every === "hour" ? '":MM"' : "milliseconds"})`,
    );
  }
  return offset;
}

function describeEvery(options: ScheduleOptions): string {
  const every = typeof options.every === "number" ? `${options.every} ms` : options.every;
  const at = options.at === undefined ? "" : ` at ${String(options.at)}`;
  return `${every}${at}${options.timeZone ? ` (${options.timeZone})` : ""}`;
}
