import { describe, expect, it } from "vitest";
import { createCapturedLogger } from "../../../testing/src/captured-logger.js";
import { createManualClock } from "../../../testing/src/manual-clock.js";
import { createPackLogger } from "./logger.js";
import { createScheduler, resolveSchedulerClock, type ScheduledRun, toSlots } from "./scheduler.js";

const at = (iso: string) => Date.parse(iso);
const MINUTE = 60_000;
const HOUR = 3_600_000;

function setup(start: string) {
  const clock = createManualClock(at(start));
  const captured = createCapturedLogger();
  const logger = createPackLogger(captured.logger, "clawscope-test", { now: () => clock.now() });
  const scheduler = createScheduler({ clock, logger });
  const runs: ScheduledRun[] = [];
  const record = (run: ScheduledRun) => {
    runs.push(run);
  };
  const slots = () => runs.map((run) => new Date(run.slot).toISOString());
  return { clock, captured, scheduler, runs, record, slots };
}

describe("schedule", () => {
  it("runs on wall-clock boundaries: on the hour at :05, daily at 02:30 UTC, every 5 minutes", async () => {
    const { clock, scheduler, record, runs } = setup("2026-12-04T10:17:30.000Z");
    const hourly: number[] = [];
    const daily: number[] = [];
    const fives: number[] = [];
    scheduler.schedule("hourly", { every: "hour", at: ":05" }, (run) => void hourly.push(run.slot));
    scheduler.schedule("daily", { every: "day", at: "02:30" }, (run) => void daily.push(run.slot));
    scheduler.schedule("fives", { every: 5 * MINUTE }, (run) => void fives.push(run.slot));
    scheduler.schedule("minute", { every: "minute" }, record);
    expect(scheduler.stats().hourly?.nextAt).toBe(at("2026-12-04T11:05:00.000Z"));
    await clock.advance(24 * HOUR);
    expect(hourly[0]).toBe(at("2026-12-04T11:05:00.000Z"));
    expect(hourly).toHaveLength(24);
    expect(hourly.every((slot, index) => slot === (hourly[0] ?? 0) + index * HOUR)).toBe(true);
    expect(daily).toEqual([at("2026-12-05T02:30:00.000Z")]);
    expect(fives[0]).toBe(at("2026-12-04T10:20:00.000Z"));
    expect(fives).toHaveLength(288);
    expect(runs).toHaveLength(24 * 60);
    // each run starts at its slot, not later, while the process is awake
    expect(runs.every((run) => run.now === run.slot && run.missed === 0)).toBe(true);
    expect(scheduler.stats().minute).toMatchObject({ every: "minute", runs: 1440, failures: 0, missed: 0 });
    await scheduler.stop();
  });

  it("never overlaps a run with itself: slots that come during a long run fold into one run after it", async () => {
    const { clock, scheduler } = setup("2026-12-04T10:00:30.000Z");
    const started: ScheduledRun[] = [];
    let release = () => {};
    let active = 0;
    let maxActive = 0;
    scheduler.schedule("slow", { every: "minute" }, async (run) => {
      started.push(run);
      active += 1;
      maxActive = Math.max(maxActive, active);
      if (started.length === 1) await new Promise<void>((resolve) => (release = resolve));
      active -= 1;
    });
    await clock.advance(3 * MINUTE); // the first run (10:01) holds through 10:02 and 10:03 (now 10:03:30)
    expect(started.map((run) => run.slot)).toEqual([at("2026-12-04T10:01:00.000Z")]);
    expect(scheduler.stats().slow?.running).toBe(true);
    release();
    await clock.settle();
    // one run for the latest slot, covering the one it skipped
    expect(started.map((run) => [run.slot, run.missed])).toEqual([
      [at("2026-12-04T10:01:00.000Z"), 0],
      [at("2026-12-04T10:03:00.000Z"), 1],
    ]);
    await clock.advance(MINUTE);
    expect(started.at(-1)?.slot).toBe(at("2026-12-04T10:04:00.000Z"));
    expect(maxActive).toBe(1);
    expect(scheduler.stats().slow).toMatchObject({ runs: 3, missed: 1, running: false });
    await scheduler.stop();
  });

  it("catches up once, not once per slot, after the process slept 5 hours", async () => {
    const { clock, scheduler, runs, record } = setup("2026-12-04T10:00:30.000Z");
    const hourly: ScheduledRun[] = [];
    scheduler.schedule("minute", { every: "minute" }, record);
    scheduler.schedule("hourly", { every: "hour" }, (run) => void hourly.push(run));
    await clock.advance(MINUTE); // 10:01 runs
    await clock.sleep(5 * HOUR); // wakes at 15:01:30
    expect(runs.map((run) => [new Date(run.slot).toISOString(), run.missed])).toEqual([
      ["2026-12-04T10:01:00.000Z", 0],
      ["2026-12-04T15:01:00.000Z", 299],
    ]);
    expect(runs[1]?.now).toBe(at("2026-12-04T15:01:30.000Z"));
    expect(hourly.map((run) => [new Date(run.slot).toISOString(), run.missed])).toEqual([
      ["2026-12-04T15:00:00.000Z", 4],
    ]);
    await clock.advance(MINUTE);
    expect(runs).toHaveLength(3);
    expect(runs[2]?.slot).toBe(at("2026-12-04T15:02:00.000Z"));
    expect(scheduler.stats().minute).toMatchObject({ runs: 3, missed: 299 });
    await scheduler.stop();
  });

  it("runs nothing twice when the clock steps back an hour", async () => {
    const { clock, scheduler, slots, record } = setup("2026-12-04T10:30:00.000Z");
    const minutes: number[] = [];
    scheduler.schedule("hourly", { every: "hour" }, record);
    scheduler.schedule("minute", { every: "minute" }, (run) => void minutes.push(run.slot));
    await clock.advance(2 * HOUR); // 11:00 and 12:00 run; now 12:30
    expect(slots()).toEqual(["2026-12-04T11:00:00.000Z", "2026-12-04T12:00:00.000Z"]);
    clock.set(at("2026-12-04T11:30:00.000Z")); // NTP steps the clock back an hour
    await clock.advance(2 * HOUR); // through 12:00 again, up to 13:30
    expect(slots()).toEqual([
      "2026-12-04T11:00:00.000Z",
      "2026-12-04T12:00:00.000Z",
      "2026-12-04T13:00:00.000Z",
    ]);
    expect(new Set(minutes).size).toBe(minutes.length);
    // the minute job resumed with the first minute after the last one it ran
    expect(minutes.filter((slot) => slot <= at("2026-12-04T12:30:00.000Z"))).toHaveLength(120);
    expect(minutes.at(-1)).toBe(at("2026-12-04T13:30:00.000Z"));
    await scheduler.stop();
  });

  it("counts a failing run, logs it (rate-limited), and runs again at the next slot", async () => {
    const { clock, scheduler, captured } = setup("2026-12-04T10:00:05.000Z");
    let calls = 0;
    scheduler.schedule("flaky", { every: 10_000 }, async () => {
      calls += 1;
      if (calls <= 2) throw new Error("database is locked");
    });
    await clock.advance(30_000);
    expect(calls).toBe(3);
    expect(scheduler.stats().flaky).toMatchObject({
      runs: 3,
      failures: 2,
      lastError: { message: "scheduled job flaky failed: database is locked" },
    });
    expect(captured.lines.filter((line) => line.level === "error").map((line) => line.message)).toEqual([
      "clawscope-test: scheduled job flaky failed: database is locked",
    ]);
    await scheduler.stop();
  });

  it("stops: aborts the running job, waits for it (bounded), and runs nothing after", async () => {
    const { clock, scheduler, captured } = setup("2026-12-04T10:00:30.000Z");
    let aborted = false;
    let finished = false;
    scheduler.schedule("long", { every: "minute" }, async (run) => {
      await new Promise<void>((resolve) => run.signal.addEventListener("abort", () => resolve()));
      aborted = run.signal.aborted;
      finished = true;
    });
    let hung = 0;
    scheduler.schedule("hung", { every: "minute" }, () => {
      hung += 1;
      return new Promise<void>(() => {});
    });
    await clock.advance(MINUTE);
    expect(hung).toBe(1);
    await scheduler.stop(50);
    expect(aborted && finished).toBe(true);
    expect(captured.lines.map((line) => line.message)).toContain(
      "clawscope-test: scheduled job(s) hung still running after 50 ms at stop; carrying on",
    );
    expect(clock.pendingTimers()).toBe(0);
    await clock.advance(10 * MINUTE);
    expect(hung).toBe(1);
    expect(scheduler.stats().long?.nextAt).toBeUndefined();
  });

  it("refuses a bad schedule with one line naming what is wrong", () => {
    const { scheduler } = setup("2026-12-04T10:00:00.000Z");
    const job = () => {};
    expect(() => scheduler.schedule("x", { every: "week" as never }, job)).toThrow(
      'schedule every: expected "minute", "hour", "day" or milliseconds from 1000 to 7 days, got week',
    );
    expect(() => scheduler.schedule("x", { every: 10 }, job)).toThrow(/milliseconds from 1000/);
    expect(() => scheduler.schedule("x", { every: "day", at: "25:00" }, job)).toThrow(
      'schedule at: "25:00" is not within one day (use "HH:MM")',
    );
    expect(() => scheduler.schedule("x", { every: "hour", at: HOUR }, job)).toThrow(/not within one hour/);
    expect(() => scheduler.schedule("x", { every: "day", timeZone: "Mars/Olympus" }, job)).toThrow(
      'schedule timeZone: "Mars/Olympus" is not a time zone',
    );
    expect(() => scheduler.schedule("Bad Name", { every: "day" }, job)).toThrow(/lower-case/);
    scheduler.schedule("x", { every: "day" }, job);
    expect(() => scheduler.schedule("x", { every: "hour" }, job)).toThrow(
      'a job named "x" is already scheduled',
    );
  });

  it("aligns days to the operator's time zone, across a daylight-saving change", () => {
    const paris = toSlots({ every: "day", at: "02:30", timeZone: "Europe/Paris" });
    // winter: UTC+1
    expect(new Date(paris.after(at("2026-12-04T12:00:00.000Z"))).toISOString()).toBe(
      "2026-12-05T01:30:00.000Z",
    );
    // summer: UTC+2
    expect(new Date(paris.after(at("2026-07-01T12:00:00.000Z"))).toISOString()).toBe(
      "2026-07-02T00:30:00.000Z",
    );
    // the night of the change (29 March 2026, 02:00 → 03:00): 02:30 does not exist; the day still has one run
    const march = paris.after(at("2026-03-28T12:00:00.000Z"));
    const next = paris.after(march);
    expect(next - march).toBeGreaterThan(20 * HOUR);
    expect(paris.atOrBefore(next)).toBe(next);
    expect(paris.countBetween(at("2026-03-27T12:00:00.000Z"), at("2026-03-31T12:00:00.000Z"))).toBe(4);
    const utc = toSlots({ every: "day" });
    expect(utc.countBetween(at("2026-12-04T00:00:00.000Z"), at("2026-12-09T00:00:00.000Z"))).toBe(5);
  });
});

describe("resolveSchedulerClock", () => {
  it("shifts the system clock by CLAWSCOPE_CLOCK_OFFSET_MS, says so, and ignores a bad value with a line", () => {
    const plain = resolveSchedulerClock({});
    expect(plain.notice).toBeUndefined();
    const shifted = resolveSchedulerClock({ CLAWSCOPE_CLOCK_OFFSET_MS: "86400000" });
    expect(shifted.clock.now() - Date.now()).toBeGreaterThanOrEqual(86_400_000 - 50);
    expect(shifted.clock.now() - Date.now()).toBeLessThanOrEqual(86_400_000 + 50);
    expect(shifted.notice).toMatch(/shifted by 86400000 ms .*tests and drills only/);
    const bad = resolveSchedulerClock({ CLAWSCOPE_CLOCK_OFFSET_MS: "tomorrow" });
    expect(bad.clock.now() - Date.now()).toBeLessThan(50);
    expect(bad.notice).toMatch(/ignored/);
  });
});
