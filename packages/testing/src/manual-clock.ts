/**
 * A clock for the kit's scheduler that tests drive by hand: `advance` walks time forward firing
 * each timer at its due time (as a running process would), `sleep` jumps forward and fires the
 * late timers only at the end (a suspended laptop, a paused container), `set` moves the wall clock
 * anywhere — back included — without firing anything. After each timer it lets pending promise
 * chains settle, so async jobs make progress between timers.
 */
import type { SchedulerClock } from "@clawscope/kit";

/** A {@link SchedulerClock} plus the controls. */
export interface ManualClock extends SchedulerClock {
  advance(ms: number): Promise<void>;
  sleep(ms: number): Promise<void>;
  set(time: number): void;
  /** Lets pending promise chains and I/O callbacks run. */
  settle(): Promise<void>;
  pendingTimers(): number;
}

interface Timer {
  id: number;
  at: number;
  callback: () => void;
}

/** A manual clock starting at `start` (epoch ms). */
export function createManualClock(start: number): ManualClock {
  let now = start;
  let nextId = 1;
  const timers: Timer[] = [];
  const settle = async () => {
    for (let round = 0; round < 5; round++) await new Promise<void>((resolve) => setImmediate(resolve));
  };
  const takeDue = (limit: number): Timer | undefined => {
    let index = -1;
    for (let i = 0; i < timers.length; i++) {
      const timer = timers[i] as Timer;
      if (timer.at <= limit && (index < 0 || timer.at < (timers[index] as Timer).at)) index = i;
    }
    return index < 0 ? undefined : timers.splice(index, 1)[0];
  };
  return {
    now: () => now,
    setTimer(callback, ms) {
      const timer = { id: nextId++, at: now + Math.max(0, ms), callback };
      timers.push(timer);
      return timer.id;
    },
    clearTimer(handle) {
      const index = timers.findIndex((timer) => timer.id === handle);
      if (index >= 0) timers.splice(index, 1);
    },
    async advance(ms) {
      const target = now + ms;
      for (let timer = takeDue(target); timer; timer = takeDue(target)) {
        now = Math.max(now, timer.at);
        timer.callback();
        await settle();
      }
      now = target;
      await settle();
    },
    async sleep(ms) {
      now += ms;
      for (let timer = takeDue(now); timer; timer = takeDue(now)) {
        timer.callback();
        await settle();
      }
    },
    set(time) {
      now = time;
    },
    settle,
    pendingTimers: () => timers.length,
  };
}
