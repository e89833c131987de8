import { describe, expect, it } from "vitest";
import { createInputQueue, type RuntimeInput } from "./input-queue.js";

const event = (index: number): RuntimeInput => ({ kind: "event", event: { type: "x", index }, metadata: {} });
const turnOfLoop = () => new Promise((resolve) => setImmediate(resolve));

describe("createInputQueue", () => {
  it("never processes inside push, and processes in arrival order on a later turn of the loop", async () => {
    const seen: unknown[] = [];
    const queue = createInputQueue({
      process: (input) =>
        seen.push(input.kind === "event" ? (input.event as { index: number }).index : input.name),
    });
    queue.push(event(1));
    queue.push({ kind: "hook", name: "agent_end", event: {}, context: {} });
    queue.push(event(2));
    expect(seen).toEqual([]);
    await turnOfLoop();
    expect(seen).toEqual([1, "agent_end", 2]);
    expect(queue.stats()).toMatchObject({ queued: 0, overflowed: 0, maxQueued: 3 });
  });

  it("works through a burst in slices, letting other callbacks run between them", async () => {
    const order: string[] = [];
    const queue = createInputQueue({ sliceItems: 10, process: () => order.push("item") });
    for (let index = 0; index < 35; index += 1) queue.push(event(index));
    // scheduled after the first slice: it must run before the queue is through
    setImmediate(() => order.push("other"));
    for (let turn = 0; turn < 6; turn += 1) await turnOfLoop();
    expect(order.filter((entry) => entry === "item")).toHaveLength(35);
    const other = order.indexOf("other");
    expect(other).toBeGreaterThan(0);
    expect(other).toBeLessThan(35);
  });

  it("drops and counts input beyond its bound instead of growing", async () => {
    let overflowCalls = 0;
    let processed = 0;
    const queue = createInputQueue({
      maxItems: 5,
      process: () => {
        processed += 1;
      },
      onOverflow: () => {
        overflowCalls += 1;
      },
    });
    for (let index = 0; index < 8; index += 1) queue.push(event(index));
    expect(queue.stats()).toMatchObject({ queued: 5, overflowed: 3 });
    expect(overflowCalls).toBe(3);
    await turnOfLoop();
    expect(processed).toBe(5);
    queue.push(event(9));
    await turnOfLoop();
    expect(processed).toBe(6);
  });

  it("drain() processes everything at once, and a throwing handler neither stops it nor escapes", () => {
    const errors: unknown[] = [];
    const seen: number[] = [];
    const queue = createInputQueue({
      process: (input) => {
        const index = (input as { event: { index: number } }).event.index;
        if (index === 1) throw new Error("bad input");
        seen.push(index);
      },
      onError: (error) => errors.push(error),
    });
    for (let index = 0; index < 3; index += 1) queue.push(event(index));
    queue.drain();
    expect(seen).toEqual([0, 2]);
    expect(errors).toHaveLength(1);
    expect(queue.stats().queued).toBe(0);
  });
});
