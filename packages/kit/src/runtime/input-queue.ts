/**
 * Keeps the host's emit path cheap: bus events and hook calls are appended to a bounded queue and
 * handed to the turn assembler on a later turn of the event loop, in slices, so correlation, turn
 * close, mapping and enqueueing never run inside the host's `emit` or its hook dispatch.
 */

/** One piece of input, in arrival order (events and hooks share the queue so their order holds). */
export type RuntimeInput =
  | { kind: "event"; event: unknown; metadata: unknown }
  | { kind: "hook"; name: string; event: unknown; context: unknown };

/** Options of {@link createInputQueue}. */
export interface InputQueueOptions {
  /** Called for each input, outside the producer's call stack. Must not throw (errors are caught and counted). */
  process: (input: RuntimeInput) => void;
  /** Inputs held at most; beyond it new inputs are dropped and counted (default 20 000). */
  maxItems?: number;
  /** Inputs processed per drain before yielding to the event loop (default 256). */
  sliceItems?: number;
  /** Called once per dropped input (the caller rate-limits its warning). */
  onOverflow?: () => void;
  /** Called when `process` throws. */
  onError?: (error: unknown) => void;
}

/** What {@link createInputQueue} returns. */
export interface InputQueue {
  push: (input: RuntimeInput) => void;
  /** Processes everything queued now, synchronously (before a tick, at stop). */
  drain: () => void;
  stats: () => { queued: number; overflowed: number; maxQueued: number };
}

/**
 * Creates the queue. A drain is scheduled with `setImmediate` on the first push after an empty
 * queue; a drain that hits the slice size schedules the next one, so a burst never blocks I/O.
 */
export function createInputQueue(options: InputQueueOptions): InputQueue {
  const maxItems = options.maxItems ?? 20_000;
  const sliceItems = options.sliceItems ?? 256;
  // a ring would save the shift cost; an array with a head index does the same with less code
  let items: RuntimeInput[] = [];
  let head = 0;
  let scheduled = false;
  let overflowed = 0;
  let maxQueued = 0;

  const processOne = (input: RuntimeInput): void => {
    try {
      options.process(input);
    } catch (error) {
      try {
        options.onError?.(error);
      } catch {}
    }
  };

  const compact = (): void => {
    if (head === items.length) {
      items = [];
      head = 0;
    } else if (head > 1024 && head * 2 > items.length) {
      items = items.slice(head);
      head = 0;
    }
  };

  const drainSlice = (): void => {
    scheduled = false;
    const end = Math.min(items.length, head + sliceItems);
    while (head < end) {
      const input = items[head] as RuntimeInput;
      items[head] = undefined as unknown as RuntimeInput;
      head += 1;
      processOne(input);
    }
    compact();
    if (head < items.length) schedule();
  };

  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(drainSlice);
  };

  return {
    push(input) {
      if (items.length - head >= maxItems) {
        overflowed += 1;
        try {
          options.onOverflow?.();
        } catch {}
        return;
      }
      items.push(input);
      maxQueued = Math.max(maxQueued, items.length - head);
      schedule();
    },
    drain() {
      while (head < items.length) {
        const input = items[head] as RuntimeInput;
        items[head] = undefined as unknown as RuntimeInput;
        head += 1;
        processOne(input);
      }
      compact();
    },
    stats: () => ({ queued: items.length - head, overflowed, maxQueued }),
  };
}
