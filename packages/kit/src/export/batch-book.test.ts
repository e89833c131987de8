import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BatchBook } from "./batch-book.js";
import { createBatchBook } from "./batch-book.js";
import type { ExportPipelineOptions } from "./pipeline-options.js";
import { resolvePipelineOptions } from "./pipeline-options.js";

let dir: string;
let now: number;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "clawscope-book-"));
  now = 1_000_000;
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const clock = {
  now: () => now,
  setTimer: () => undefined,
  clearTimer: () => undefined,
};

function openBook(options: Partial<ExportPipelineOptions<unknown>> = {}) {
  const errors: string[] = [];
  const config = resolvePipelineOptions<unknown>({
    name: "book",
    send: async () => ({ kind: "ok" }),
    spoolDir: dir,
    maxBatchItems: 4,
    maxQueueItems: 20,
    spoolAfterMs: 100,
    clock,
    ...options,
  });
  return { book: createBatchBook(config, (message) => errors.push(message)), errors };
}

const item = (id: string) => ({ id, payload: { id }, enqueuedAt: now });

/** Every item is in exactly one place: queued or cut in memory, on disk, dead-lettered, exported or dropped. */
function accounted(book: BatchBook<unknown>, exported: number): number {
  const stats = book.stats();
  const dropped = Object.values(stats.dropped).reduce((sum: number, value) => sum + (value ?? 0), 0);
  return stats.pendingMemory + stats.pendingSpool + (stats.deadLetterPending ?? 0) + dropped + exported;
}

describe("createBatchBook", () => {
  it("keeps every item in exactly one place from queue to memory to disk to delivery", async () => {
    const { book } = openBook();
    for (let index = 0; index < 10; index += 1) expect(book.accept(item(`i${index}`))).toBe(true);
    expect(book.queued).toBe(10);

    const cuts = [book.cutBatch(), book.cutBatch(), book.cutBatch(), book.cutBatch()];
    expect(cuts.map((cut) => cut?.batch.itemCount)).toEqual([4, 4, 2, undefined]);
    const real = cuts.filter((cut) => cut !== undefined);
    book.append(real.map((cut) => cut.batch));
    expect(book.queued).toBe(0);
    expect(book.memoryItems).toBe(10);
    expect(accounted(book, 0)).toBe(10);

    // nothing is due for the disk until spoolAfterMs has passed since the cut
    expect(book.nextSpoolDueAt()).toBe(now + 100);
    await book.spoolWaiting(false);
    expect(book.spooledItems).toBe(0);
    now += 100;
    await book.spoolWaiting(false);
    expect(book.spooledItems).toBe(10);
    expect(book.memoryItems).toBe(0);
    expect((await readdir(dir)).filter((name) => name.startsWith("batch-"))).toHaveLength(3);
    expect(book.stats().spooled).toBe(10);
    expect(accounted(book, 0)).toBe(10);

    // the first batch delivered with one item refused: the rest counts as delivered, the one is kept
    const first = book.ready[0];
    if (!first) throw new Error("no batch");
    const items = (await book.itemsOf(first)) ?? [];
    await book.retire(first, items.slice(0, 1), "bad item");
    expect(book.ready).toHaveLength(2);
    expect(book.stats().deadLetterPending).toBe(1);
    expect(accounted(book, 3)).toBe(10);
    expect((await readdir(dir)).filter((name) => name.startsWith("batch-"))).toHaveLength(2);
  });

  it("splits a batch in its place, both halves on disk when the whole was, without counting against the bound twice", async () => {
    const { book } = openBook({ spoolAfterMs: 0 });
    for (let index = 0; index < 8; index += 1) book.accept(item(`s${index}`));
    const cuts = [book.cutBatch(), book.cutBatch()].filter((cut) => cut !== undefined);
    await book.persist(cuts);
    book.append(cuts.map((cut) => cut.batch));
    const [first, second] = book.ready;
    if (!first || !second) throw new Error("no batches");
    await book.split(first, (await book.itemsOf(first)) ?? []);
    expect(book.ready.map((batch) => batch.itemCount)).toEqual([2, 2, 4]);
    expect(book.ready[2]).toBe(second);
    expect(book.ready.every((batch) => batch.entry !== undefined)).toBe(true);
    expect(book.spooledItems).toBe(8);
    expect((await readdir(dir)).filter((name) => name.startsWith("batch-"))).toHaveLength(3);
    expect(accounted(book, 0)).toBe(8);
  });

  it("refuses items beyond its memory bound, counting each, and counts what stop cannot keep", async () => {
    const { book } = openBook({ spoolDir: undefined, maxQueueItems: 5 });
    const accepted = Array.from({ length: 8 }, (_, index) => book.accept(item(`q${index}`)));
    expect(accepted.filter(Boolean)).toHaveLength(5);
    expect(book.stats().dropped.queueFull).toBe(3);
    const cut = book.cutBatch();
    if (cut) book.append([cut.batch]);
    // cut items still count against memory: the bound is on what a crash would lose
    expect(book.accept(item("late"))).toBe(false);
    expect(await book.spoolRest()).toBe(5);
    expect(book.stats().dropped.shutdown).toBe(5);
  });

  it("drops the oldest spooled batch to make room, never the one being sent", async () => {
    const { book } = openBook({ spoolAfterMs: 0, maxSpoolFiles: 2 });
    for (let index = 0; index < 12; index += 1) book.accept(item(`b${index}`));
    const first = book.cutBatch();
    const second = book.cutBatch();
    if (!first || !second) throw new Error("no cuts");
    await book.persist([first, second]);
    book.append([first.batch, second.batch]);
    book.markInFlight(first.batch);
    const third = book.cutBatch();
    if (!third) throw new Error("no cut");
    await book.persist([third]);
    book.append([third.batch]);
    expect(book.ready).toEqual([first.batch, third.batch]);
    expect(book.stats().dropped.spoolFull).toBe(4);
    expect(accounted(book, 0)).toBe(12);
  });

  it("resumes the batches a previous process left on disk, oldest first, with new cuts numbered after them", async () => {
    const { book: before } = openBook({ spoolAfterMs: 0 });
    for (let index = 0; index < 6; index += 1) before.accept(item(`r${index}`));
    const cuts = [before.cutBatch(), before.cutBatch()].filter((cut) => cut !== undefined);
    await before.persist(cuts);

    const { book: after } = openBook({ spoolAfterMs: 0 });
    await after.recover();
    expect(after.ready.map((batch) => batch.itemCount)).toEqual([4, 2]);
    expect(after.spooledItems).toBe(6);
    const firstBack = after.ready[0];
    if (!firstBack) throw new Error("nothing recovered");
    expect((await after.itemsOf(firstBack))?.map((entry) => entry.id)).toEqual(["r0", "r1", "r2", "r3"]);
    after.accept(item("new"));
    const next = after.cutBatch();
    expect(next?.batch.seq).toBeGreaterThan(Math.max(...after.ready.map((batch) => batch.seq)));
  });
});
