/**
 * The kit's export pipeline against a real HTTP receiver: outages, restarts, every status class,
 * spool bounds, corrupt files, and the event loop. Lives here because kit cannot depend on testing.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createExportPipeline, type ExportPipelineOptions } from "../../kit/src/export/export-pipeline.js";
import { classifyHttpResponse } from "../../kit/src/export/http-result.js";
import { toSpoolFileName, toSpoolLine } from "../../kit/src/export/spool.js";
import type { ExportItem, SendBatch } from "../../kit/src/export/types.js";
import { createHttpReceiver, type HttpReceiver, waitFor } from "./http-receiver.js";

interface WireItem {
  id: string;
  enqueuedAt: number;
  payload: unknown;
}

/** The `send` a backend would write: one JSON POST per batch, classified by status. */
function createHttpSend(url: string): SendBatch<unknown> {
  return async (items: ExportItem<unknown>[], signal: AbortSignal) => {
    const response = await fetch(`${url}/v1/items`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        items: items.map(({ id, enqueuedAt, payload }) => ({ id, enqueuedAt, payload })),
      }),
      signal,
    });
    await response.arrayBuffer();
    return classifyHttpResponse(response.status, response.headers);
  };
}

const accepted = (receiver: HttpReceiver): WireItem[][] =>
  receiver.requests
    .filter((request) => request.status === 200 && request.path === "/v1/items")
    .map((request) => (request.json as { items: WireItem[] }).items);
const acceptedIds = (receiver: HttpReceiver): string[] =>
  accepted(receiver).flatMap((batch) => batch.map((item) => item.id));
const uniqueIds = (receiver: HttpReceiver): Set<string> => new Set(acceptedIds(receiver));
const ids = (count: number, prefix = "item") =>
  Array.from({ length: count }, (_, index) => `${prefix}-${index}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const batchFiles = async (dir: string) =>
  (await readdir(dir)).filter((name) => name.startsWith("batch-")).sort();
async function spoolSize(dir: string): Promise<number> {
  let total = 0;
  for (const name of await batchFiles(dir))
    total += await stat(join(dir, name)).then(
      (info) => info.size,
      () => 0,
    );
  return total;
}

/**
 * Timer-tick gaps with the CPU time this thread spent in each gap: a gap full of CPU is code blocking
 * the loop; a gap without CPU is the OS giving the core to another process on a busy machine.
 */
function watchStalls(intervalMs = 5) {
  let lastWall = performance.now();
  let lastCpu = process.threadCpuUsage();
  let worst = { wallMs: 0, cpuMs: 0 };
  let busiest = { wallMs: 0, cpuMs: 0 };
  const timer = setInterval(() => {
    const wall = performance.now();
    const cpu = process.threadCpuUsage();
    const gap = {
      wallMs: wall - lastWall - intervalMs,
      cpuMs: (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000,
    };
    if (gap.wallMs > worst.wallMs) worst = gap;
    if (gap.cpuMs > busiest.cpuMs) busiest = gap;
    lastWall = wall;
    lastCpu = cpu;
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return { worst, busiest };
    },
  };
}

describe("export pipeline over HTTP", () => {
  let receiver: HttpReceiver;
  let dir: string;
  const stops: (() => Promise<void>)[] = [];
  const open = (options: Partial<ExportPipelineOptions<unknown>> = {}) => {
    const pipeline = createExportPipeline<unknown>({
      name: "test",
      send: createHttpSend(receiver.url),
      spoolDir: dir,
      flushIntervalMs: 20,
      retry: { initialDelayMs: 10, maxDelayMs: 60 },
      ...options,
    });
    stops.push(() => pipeline.stop({ timeoutMs: 200 }));
    return pipeline;
  };

  beforeEach(async () => {
    receiver = await createHttpReceiver();
    dir = await mkdtemp(join(tmpdir(), "clawscope-export-http-"));
  });
  afterEach(async () => {
    await Promise.all(stops.splice(0).map((stop) => stop()));
    await receiver.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("delivers 1000 items once each, in batches bounded by count and bytes", async () => {
    const pipeline = open({ maxBatchItems: 100, maxBatchBytes: 20_000 });
    pipeline.start();
    for (const id of ids(600, "small")) pipeline.enqueue(id, { n: id });
    for (const id of ids(400, "large")) pipeline.enqueue(id, { text: "z".repeat(1000) });
    await pipeline.flush();
    await waitFor(() => acceptedIds(receiver).length >= 1000, 5000);
    expect(acceptedIds(receiver)).toEqual([...ids(600, "small"), ...ids(400, "large")]);
    const batches = accepted(receiver);
    expect(batches.every((batch) => batch.length <= 100)).toBe(true);
    expect(batches.filter((batch) => batch.length === 100).length).toBeGreaterThanOrEqual(6);
    for (const batch of batches) {
      expect(batch.reduce((sum, item) => sum + Buffer.byteLength(toSpoolLine(item)), 0)).toBeLessThanOrEqual(
        20_000,
      );
    }
    // ~1 KB items under a 20 KB bound: the byte limit, not the count, cut those batches
    expect(
      batches.some((batch) => batch.length < 100 && batch.length >= 15 && batch[0]?.id.startsWith("large")),
    ).toBe(true);
    expect(pipeline.stats()).toMatchObject({
      enqueued: 1000,
      exported: 1000,
      retried: 0,
      pendingMemory: 0,
      pendingSpool: 0,
    });
    expect(await batchFiles(dir)).toEqual([]);
  });

  it("rides out an outage: every item delivered, exactly once after de-duplication", async () => {
    const pipeline = open({ maxBatchItems: 50 });
    pipeline.start();
    await receiver.down();
    for (let chunk = 0; chunk < 10; chunk++) {
      for (const id of ids(50, `c${chunk}`)) pipeline.enqueue(id, { chunk });
      await sleep(15);
    }
    await waitFor(() => pipeline.stats().retried >= 3, 3000);
    expect(pipeline.stats().exported).toBe(0);
    expect(pipeline.stats().pendingSpool).toBeGreaterThan(0);
    await receiver.up();
    await waitFor(() => pipeline.stats().exported === 500, 5000);
    await pipeline.flush(); // the last file is deleted just after the count moves
    const expected = Array.from({ length: 10 }, (_, chunk) => ids(50, `c${chunk}`)).flat();
    expect([...uniqueIds(receiver)].sort()).toEqual([...expected].sort());
    expect(acceptedIds(receiver).length).toBeGreaterThanOrEqual(500);
    const stats = pipeline.stats();
    // what waited while the receiver was down went to disk; what was cut after it came back did not need to
    expect(stats.spooled).toBeGreaterThan(0);
    expect(stats.lastError?.message).toMatch(/ECONNREFUSED|fetch failed/);
    expect(stats).toMatchObject({ pendingMemory: 0, pendingSpool: 0, spoolBytes: 0 });
    expect(Object.values(stats.dropped).every((value) => value === 0)).toBe(true);
    expect(await batchFiles(dir)).toEqual([]);
  });

  it("survives a gateway restart: the next process delivers what the last one spooled", async () => {
    await receiver.down();
    const first = open({ maxBatchItems: 40 });
    first.start();
    for (const id of ids(300, "before-restart")) first.enqueue(id, { id });
    await sleep(50);
    await first.stop({ timeoutMs: 150 });
    expect(first.stats()).toMatchObject({ exported: 0, pendingMemory: 0, pendingSpool: 300 });
    expect((await batchFiles(dir)).length).toBeGreaterThan(0);

    await receiver.up();
    const second = open({ maxBatchItems: 40 });
    second.start();
    second.enqueue("after-restart", { fresh: true });
    await waitFor(() => uniqueIds(receiver).size === 301, 5000);
    await second.flush();
    const delivered = acceptedIds(receiver);
    expect(new Set(delivered)).toEqual(new Set([...ids(300, "before-restart"), "after-restart"]));
    // oldest first: every spooled item arrived before the new one
    expect(delivered.indexOf("after-restart")).toBe(delivered.length - 1);
    expect(second.stats()).toMatchObject({ exported: 301, pendingSpool: 0 });
    expect(await batchFiles(dir)).toEqual([]);
  });

  it("retries a 500, then delivers", async () => {
    receiver.respondWith({ status: 500 }, 1);
    const pipeline = open();
    pipeline.start();
    for (const id of ids(10)) pipeline.enqueue(id, 1);
    await waitFor(() => pipeline.stats().exported === 10, 3000);
    expect(receiver.requests.map((request) => request.status)).toEqual([500, 200]);
    expect(acceptedIds(receiver)).toEqual(ids(10));
    expect(pipeline.stats().retried).toBe(1);
  });

  it("waits at least Retry-After after a 429", async () => {
    receiver.respondWith({ status: 429, headers: { "retry-after": "1" } }, 1);
    const pipeline = open({ retry: { initialDelayMs: 1, maxDelayMs: 2000 } });
    pipeline.start();
    pipeline.enqueue("a", 1);
    await waitFor(() => pipeline.stats().exported === 1, 4000);
    const [refused, retried] = receiver.requests;
    expect([refused?.status, retried?.status]).toEqual([429, 200]);
    expect((retried?.receivedAt ?? 0) - (refused?.receivedAt ?? 0)).toBeGreaterThanOrEqual(1000);
  });

  it("never waits longer than maxDelayMs, whatever Retry-After asks (999999999 s, a date in 2099)", async () => {
    const script = [
      { status: 429, headers: { "retry-after": "999999999" } },
      { status: 503, headers: { "retry-after": "Wed, 01 Jan 2099 00:00:00 GMT" } },
    ];
    receiver.setDefaultAnswer(() => script.shift() ?? { status: 200 });
    const pipeline = open({ retry: { initialDelayMs: 1, maxDelayMs: 300 } });
    pipeline.start();
    pipeline.enqueue("a", 1);
    await waitFor(() => pipeline.stats().exported === 1, 4000);
    expect(receiver.requests.map((request) => request.status)).toEqual([429, 503, 200]);
    const times = receiver.requests.map((request) => request.receivedAt);
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(300);
    expect((times[2] ?? 0) - (times[0] ?? 0)).toBeLessThan(2000);
  });

  it("splits on 413 and dead-letters only the single item that is still too large, re-sendable", async () => {
    receiver.setMaxBodyBytes(2500);
    const pipeline = open({ maxBatchItems: 16 });
    pipeline.start();
    for (const id of ids(15)) pipeline.enqueue(id, { text: "s".repeat(100) });
    pipeline.enqueue("huge", { text: "h".repeat(5000) });
    await pipeline.flush();
    await waitFor(() => pipeline.stats().exported === 15 && pipeline.stats().deadLettered === 1, 3000);
    await pipeline.flush(); // the last file is deleted just after the count moves
    expect(new Set(acceptedIds(receiver))).toEqual(new Set(ids(15)));
    expect(acceptedIds(receiver)).toHaveLength(15);
    expect(receiver.requests.filter((request) => request.status === 413).length).toBeGreaterThanOrEqual(3);
    expect(pipeline.stats()).toMatchObject({
      retried: 0,
      pendingSpool: 0,
      deadLetterPending: 1,
      dropped: { tooLarge: 0, rejected: 0 },
    });
    expect(await batchFiles(dir)).toEqual([]);
    // the proxy's limit is lifted: what it refused goes out again, once
    receiver.setMaxBodyBytes(1_000_000);
    expect(await pipeline.redeliverDeadLetters()).toEqual({ files: 1, items: 1 });
    await waitFor(() => pipeline.stats().exported === 16, 3000);
    expect(acceptedIds(receiver).filter((id) => id === "huge")).toHaveLength(1);
    expect(pipeline.stats().deadLetterPending).toBe(0);
    expect(await readdir(join(dir, "dead-letter"))).toEqual([]);
  });

  for (const status of [413, 400, 404]) {
    it(`dead-letters every item of a proxy that refuses everything with ${status}, loses none, and re-sends them`, async () => {
      receiver.respondWith({ status }, 1000);
      const pipeline = open({ maxBatchItems: 8 });
      pipeline.start();
      for (const id of ids(20)) pipeline.enqueue(id, 1);
      await pipeline.flush();
      await waitFor(() => pipeline.stats().deadLettered === 20, 5000);
      expect(pipeline.stats()).toMatchObject({
        exported: 0,
        deadLetterPending: 20,
        dropped: { tooLarge: 0, rejected: 0 },
      });
      // the proxy is fixed: every refused item goes out again, each once
      receiver.reset();
      expect((await pipeline.redeliverDeadLetters()).items).toBe(20);
      await waitFor(() => pipeline.stats().exported === 20, 5000);
      expect(acceptedIds(receiver).sort()).toEqual(ids(20).sort());
      expect(pipeline.stats().deadLetterPending).toBe(0);
    });
  }

  it("moves a batch rejected with 400 to the dead-letter directory and goes on", async () => {
    receiver.respondWith({ status: 400, body: "bad request" }, 1);
    const pipeline = open();
    pipeline.start();
    pipeline.enqueue("poison", { bad: true });
    await pipeline.flush();
    pipeline.enqueue("fine", { bad: false });
    await pipeline.flush();
    expect(acceptedIds(receiver)).toEqual(["fine"]);
    const [file, ...rest] = await readdir(join(dir, "dead-letter"));
    expect(rest).toEqual([]);
    const body = await readFile(join(dir, "dead-letter", file ?? ""), "utf8");
    expect(body).toContain('"id":"poison"');
    expect(body).toContain("HTTP 400");
    expect(pipeline.stats()).toMatchObject({ deadLettered: 1, exported: 1, dropped: { rejected: 0 } });
  });

  it("pauses on 401 without losing anything, probing one request at a time, and resumes once fixed", async () => {
    receiver.respondWith({ status: 401 }, 1000);
    const pipeline = open({ maxBatchItems: 10, retry: { initialDelayMs: 50, maxDelayMs: 200 } });
    pipeline.start();
    for (const id of ids(25)) pipeline.enqueue(id, 1);
    await pipeline.flush();
    expect(pipeline.stats()).toMatchObject({ authPaused: true, exported: 0, pendingSpool: 25 });
    const pausedAt = Date.now();
    await waitFor(() => receiver.requests.length >= 3, 5000);
    // one request per backoff step (jitter draws from [0, 200 ms] here, the first from [0, 50 ms]), never a burst
    const elapsed = Date.now() - pausedAt;
    expect(receiver.requests.length).toBeLessThanOrEqual(3 + Math.ceil(elapsed / 10));
    expect(
      receiver.requests.every((request) => (request.json as { items?: unknown[] })?.items?.length === 10),
    ).toBe(true);
    // the backend is fixed without any config change: the next probe resumes delivery by itself
    receiver.reset();
    await waitFor(() => pipeline.stats().exported === 25, 3000);
    await pipeline.flush(); // the last file is deleted just after the count moves
    expect(new Set(acceptedIds(receiver))).toEqual(new Set(ids(25)));
    expect(pipeline.stats().authPaused).toBe(false);
    expect(await batchFiles(dir)).toEqual([]);
  });

  it("keeps the spool within its bound while the backend is down, counting what it drops", async () => {
    await receiver.down();
    const maxSpoolBytes = 20_000;
    const maxBatchBytes = 4000;
    const pipeline = open({ maxBatchItems: 20, maxBatchBytes, maxSpoolBytes });
    pipeline.start();
    let largest = 0;
    for (let chunk = 0; chunk < 20; chunk++) {
      for (const id of ids(100, `c${chunk}`)) pipeline.enqueue(id, { text: "p".repeat(80) });
      await sleep(5);
      largest = Math.max(largest, await spoolSize(dir));
    }
    await pipeline.flush();
    largest = Math.max(largest, await spoolSize(dir));
    expect(largest).toBeLessThanOrEqual(maxSpoolBytes + maxBatchBytes);
    const held = pipeline.stats();
    expect(held.spoolBytes).toBeLessThanOrEqual(maxSpoolBytes);
    // while the backend is down every item is on disk, in memory or counted as dropped; how the
    // 2000 split between those depends on how fast the disk keeps up (on a loaded machine more wait
    // in memory), so only the sum is fixed — and the spool, at ~130 bytes an item, holds < 200
    expect(held.exported).toBe(0);
    expect(held.pendingSpool).toBeLessThan(200);
    expect(held.dropped.spoolFull).toBeGreaterThan(0);
    expect(held.pendingSpool + held.pendingMemory + held.dropped.spoolFull + held.dropped.queueFull).toBe(
      2000,
    );
    await receiver.up();
    await waitFor(() => pipeline.stats().pendingSpool === 0 && pipeline.stats().pendingMemory === 0, 5000);
    // nothing silently lost: every item was either delivered or counted as dropped
    const { dropped } = pipeline.stats();
    expect(uniqueIds(receiver).size + dropped.spoolFull + dropped.queueFull).toBe(2000);
  });

  it("skips a corrupt spool file, counts it, and delivers the others", async () => {
    const lines = (...names: string[]) =>
      names.map((id) => toSpoolLine({ id, enqueuedAt: 1, payload: id })).join("");
    await writeFile(join(dir, toSpoolFileName(1, 2)), lines("a", "b"));
    await writeFile(join(dir, toSpoolFileName(2, 5)), Buffer.from([0, 255, 13, 10, 7, 200]));
    await writeFile(join(dir, toSpoolFileName(3, 3)), `${lines("c", "d")}{"id":"e","enq`);
    await writeFile(join(dir, toSpoolFileName(4, 1)), lines("f"));
    await writeFile(join(dir, `${toSpoolFileName(5, 9)}.tmp`), "interrupted");
    const pipeline = open();
    pipeline.start();
    await waitFor(() => pipeline.stats().exported === 5, 3000);
    await pipeline.flush();
    expect(acceptedIds(receiver)).toEqual(["a", "b", "c", "d", "f"]);
    expect(pipeline.stats().pendingSpool).toBe(0);
    expect(pipeline.stats().dropped.corrupt).toBe(6);
    expect(await batchFiles(dir)).toEqual([]);
    expect((await readdir(join(dir, "dead-letter")))[0]).toMatch(/^corrupt-.*batch-000000000002-5\.jsonl$/);
  });

  it("never blocks the event loop while 50k items spool through a flapping backend", async () => {
    const maxSpoolBytes = 1_000_000;
    const pipeline = open({ maxBatchItems: 512, maxSpoolBytes, flushIntervalMs: 50 });
    pipeline.start();
    // the first fetch in a process loads undici; that one-off cost is not the pipeline's
    await fetch(`${receiver.url}/warm-up`).then((response) => response.arrayBuffer());
    const histogram = monitorEventLoopDelay({ resolution: 10 });
    histogram.enable();
    const stalls = watchStalls();
    let flapping = true;
    const flapper = (async () => {
      while (flapping) {
        await receiver.down();
        await sleep(120);
        await receiver.up();
        await sleep(60);
      }
    })();
    let largest = 0;
    let sawPromise = false;
    for (let chunk = 0; chunk < 100; chunk++) {
      for (let index = 0; index < 500; index++) {
        const before = pipeline.stats().enqueued;
        const returned: unknown = pipeline.enqueue(`e-${chunk}-${index}`, {
          chunk,
          index,
          text: "q".repeat(60),
        });
        if (returned !== undefined || pipeline.stats().enqueued !== before + 1) sawPromise = true;
      }
      await new Promise((resolve) => setImmediate(resolve));
      if (chunk % 10 === 0) largest = Math.max(largest, await spoolSize(dir));
    }
    flapping = false;
    await flapper;
    await receiver.up();
    await waitFor(() => pipeline.stats().pendingSpool === 0 && pipeline.stats().pendingMemory === 0, 15_000);
    histogram.disable();
    const stall = stalls.stop();
    if (process.env.CLAWSCOPE_DEBUG)
      console.log(
        "event-loop delay max ms",
        histogram.max / 1e6,
        histogram.percentile(99) / 1e6,
        histogram.percentile(99.9) / 1e6,
        histogram.count,
        pipeline.stats().exported,
        JSON.stringify(stall),
      );
    expect(sawPromise).toBe(false);
    // Blocking is CPU on this thread: no timer gap may hold more than 40 ms of it (seen: 12-15 ms).
    expect(stall.busiest.cpuMs).toBeLessThan(40);
    // Wall-clock delay also counts time the OS gave the core to other processes (two shared cores,
    // spikes of 160-240 ms seen with under 15 ms of our CPU in them): typical delay near the 10 ms
    // resolution, the worst bounded loosely.
    expect(histogram.percentile(50) / 1e6).toBeLessThan(30);
    expect(histogram.max / 1e6).toBeLessThan(1000);
    expect(largest).toBeLessThanOrEqual(maxSpoolBytes + 1024 * 1024);
    const { dropped, exported } = pipeline.stats();
    expect(exported).toBeGreaterThan(0);
    expect(uniqueIds(receiver).size + dropped.spoolFull + dropped.queueFull).toBe(50_000);
  }, 30_000);

  it("stop() against a backend that never answers returns in time and spools everything", async () => {
    receiver.setDelay(Number.POSITIVE_INFINITY);
    const pipeline = open({ requestTimeoutMs: 30_000, maxBatchItems: 20 });
    pipeline.start();
    for (const id of ids(50)) pipeline.enqueue(id, 1);
    await waitFor(() => receiver.requests.length === 1, 2000);
    const started = Date.now();
    await pipeline.stop({ timeoutMs: 300 });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(300 + 250);
    expect(pipeline.stats()).toMatchObject({ exported: 0, pendingMemory: 0, pendingSpool: 50 });
    const files = await batchFiles(dir);
    expect(files.reduce((sum, name) => sum + Number(name.split("-")[2]?.split(".")[0]), 0)).toBe(50);
  });
});
