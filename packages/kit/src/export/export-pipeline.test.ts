import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { KitLogger } from "../runtime/logger.js";
import { createExportPipeline } from "./export-pipeline.js";
import type { ExportItem, SendResult } from "./types.js";

/** A backend in memory: answers scripted results in order, then ok; records every attempt. */
function createFakeBackend(script: (SendResult | Error | "hang")[] = []) {
  const attempts: string[][] = [];
  const delivered: string[] = [];
  const send = async (items: ExportItem<unknown>[], signal: AbortSignal): Promise<SendResult> => {
    attempts.push(items.map((item) => item.id));
    const next = script.shift() ?? { kind: "ok" };
    if (next === "hang") return new Promise<SendResult>(() => undefined);
    if (next instanceof Error) throw next;
    if (next.kind === "ok" && !signal.aborted) delivered.push(...items.map((item) => item.id));
    return next;
  };
  return { send, attempts, delivered, script };
}

function createRecordingLogger() {
  const lines: string[] = [];
  const logger: KitLogger = {
    info: (message) => lines.push(`info ${message}`),
    warn: (message) => lines.push(`warn ${message}`),
    error: (message) => lines.push(`error ${message}`),
  };
  return { logger, lines };
}

async function until(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const fast = { flushIntervalMs: 20, retry: { initialDelayMs: 5, maxDelayMs: 20 } };
const ids = (count: number, prefix = "item") =>
  Array.from({ length: count }, (_, index) => `${prefix}-${index}`);

describe("createExportPipeline (memory only)", () => {
  it("batches by count and by bytes, in order", async () => {
    const backend = createFakeBackend();
    const pipeline = createExportPipeline({
      ...fast,
      name: "t",
      send: backend.send,
      maxBatchItems: 10,
      maxBatchBytes: 2000,
    });
    pipeline.start();
    for (const id of ids(25)) pipeline.enqueue(id, { text: "x".repeat(10) });
    await pipeline.flush();
    for (const id of ids(5, "big")) pipeline.enqueue(id, { text: "y".repeat(900) });
    await pipeline.flush();
    expect(backend.delivered).toEqual([...ids(25), ...ids(5, "big")]);
    expect(backend.attempts.slice(0, 3).map((batch) => batch.length)).toEqual([10, 10, 5]);
    // ~950-byte lines under a 2000-byte bound: two per batch
    expect(backend.attempts.slice(3).map((batch) => batch.length)).toEqual([2, 2, 1]);
    expect(pipeline.stats()).toMatchObject({ enqueued: 30, exported: 30, pendingMemory: 0, pendingSpool: 0 });
    await pipeline.stop({ timeoutMs: 100 });
  });

  it("cuts a partial batch after flushIntervalMs without an explicit flush", async () => {
    const backend = createFakeBackend();
    const pipeline = createExportPipeline({ ...fast, name: "t", send: backend.send });
    pipeline.start();
    pipeline.enqueue("only", 1);
    await until(() => backend.delivered.length === 1);
    await pipeline.stop({ timeoutMs: 100 });
  });

  it("retries transient failures and throws, then delivers", async () => {
    const backend = createFakeBackend([{ kind: "retry", reason: "HTTP 503" }, new Error("socket hang up")]);
    const pipeline = createExportPipeline({ ...fast, name: "t", send: backend.send });
    pipeline.start();
    pipeline.enqueue("a", 1);
    await until(() => backend.delivered.length === 1);
    expect(backend.attempts).toEqual([["a"], ["a"], ["a"]]);
    expect(pipeline.stats()).toMatchObject({ retried: 2, exported: 1 });
    expect(pipeline.stats().lastError?.message).toBe("socket hang up");
    await pipeline.stop({ timeoutMs: 100 });
  });

  it("aborts a send that hangs after requestTimeoutMs and tries again", async () => {
    const backend = createFakeBackend(["hang"]);
    const pipeline = createExportPipeline({ ...fast, name: "t", send: backend.send, requestTimeoutMs: 30 });
    pipeline.start();
    pipeline.enqueue("a", 1);
    await until(() => backend.delivered.length === 1);
    expect(pipeline.stats().retried).toBe(1);
    expect(pipeline.stats().lastError?.message).toMatch(/timed out after 30 ms/);
    await pipeline.stop({ timeoutMs: 100 });
  });

  it("splits on too-large down to single items; a single item still too large is refused, not retried", async () => {
    const tooLarge: SendResult = { kind: "too-large", reason: "HTTP 413" };
    const { logger, lines } = createRecordingLogger();
    // 4 items: [a,b,c,d] 413 -> [a,b] 413 -> [a] 413 (refused: no spool to keep it) -> [b] ok -> [c,d] ok
    const backend = createFakeBackend([tooLarge, tooLarge, tooLarge]);
    const pipeline = createExportPipeline({ ...fast, name: "t", send: backend.send, logger });
    pipeline.start();
    for (const id of ["a", "b", "c", "d"]) pipeline.enqueue(id, id);
    await pipeline.flush();
    await until(() => backend.delivered.length === 3);
    expect(backend.attempts).toEqual([["a", "b", "c", "d"], ["a", "b"], ["a"], ["b"], ["c", "d"]]);
    expect(pipeline.stats()).toMatchObject({ exported: 3, retried: 0, dropped: { rejected: 1 } });
    expect(lines.some((line) => line.includes("refused 1 item(s) (HTTP 413); dropped: no spool"))).toBe(true);
    await pipeline.stop({ timeoutMs: 100 });
  });

  it("dead-letters the items a backend refuses one by one and counts the rest as delivered", async () => {
    const rejected = {
      kind: "ok",
      rejected: [{ id: "bad", reason: "HTTP 400 invalid score" }],
    } as SendResult;
    const backend = createFakeBackend([rejected]);
    const pipeline = createExportPipeline({ ...fast, name: "t", send: backend.send });
    pipeline.start();
    for (const id of ["good-1", "bad", "good-2"]) pipeline.enqueue(id, id);
    await pipeline.flush();
    // memory only: nowhere to keep it, so it is counted as dropped (with a spool it is dead-lettered)
    expect(pipeline.stats()).toMatchObject({ exported: 2, dropped: { rejected: 1 } });
    await pipeline.stop({ timeoutMs: 100 });
  });

  it("counts a rejected batch as dropped.rejected when there is no spool", async () => {
    const backend = createFakeBackend([{ kind: "reject", reason: "HTTP 400" }]);
    const pipeline = createExportPipeline({ ...fast, name: "t", send: backend.send });
    pipeline.start();
    pipeline.enqueue("bad", 1);
    await pipeline.flush();
    pipeline.enqueue("good", 2);
    await pipeline.flush();
    expect(backend.delivered).toEqual(["good"]);
    expect(pipeline.stats()).toMatchObject({ deadLettered: 0, dropped: { rejected: 1 }, exported: 1 });
    await pipeline.stop({ timeoutMs: 100 });
  });

  it("pauses on auth failure, keeps the data, resumes on resumeAfterAuthChange or when a probe succeeds", async () => {
    const backend = createFakeBackend([
      { kind: "auth", reason: "HTTP 401" },
      { kind: "auth", reason: "HTTP 403" },
    ]);
    const { logger, lines } = createRecordingLogger();
    const pipeline = createExportPipeline({
      ...fast,
      name: "t",
      send: backend.send,
      logger,
      authRetryMs: 150,
    });
    pipeline.start();
    pipeline.enqueue("a", 1);
    await pipeline.flush();
    pipeline.enqueue("b", 2);
    await pipeline.flush();
    expect(pipeline.stats()).toMatchObject({ authPaused: true, exported: 0, pendingMemory: 2 });
    // while paused, a single request probes with backoff (here within 150 ms)
    expect(backend.attempts.length).toBeLessThanOrEqual(2);
    expect(lines.filter((line) => line.includes("refused the credentials"))).toHaveLength(1);
    pipeline.resumeAfterAuthChange();
    // the next answer is 403 again: paused once more, then the next probe succeeds
    await until(() => backend.delivered.length === 2);
    expect(backend.attempts.slice(-2)).toEqual([["a"], ["b"]]);
    expect(backend.attempts.filter((attempt) => attempt[0] === "b")).toHaveLength(1);
    expect(pipeline.stats()).toMatchObject({ authPaused: false, exported: 2, pendingMemory: 0 });
    await pipeline.stop({ timeoutMs: 100 });
  });

  it("bounds the queue, drops unserializable items, and never throws from enqueue", async () => {
    const backend = createFakeBackend();
    const pipeline = createExportPipeline({ ...fast, name: "t", send: backend.send, maxQueueItems: 5 });
    for (const id of ids(8)) pipeline.enqueue(id, 1);
    expect(pipeline.stats()).toMatchObject({ enqueued: 8, pendingMemory: 5, dropped: { queueFull: 3 } });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    pipeline.start();
    await pipeline.flush();
    expect(() => pipeline.enqueue(null as unknown as string, circular)).not.toThrow();
    pipeline.enqueue("big-int", 10n);
    await pipeline.flush();
    expect(backend.delivered).toEqual(ids(5));
    expect(pipeline.stats().dropped.rejected).toBe(2);
    await pipeline.stop({ timeoutMs: 100 });
    pipeline.enqueue("late", 1);
    expect(pipeline.stats().dropped.shutdown).toBe(1);
  });

  it("counts what is still only in memory at stop when there is no spool", async () => {
    const unavailable: SendResult = { kind: "retry", reason: "HTTP 503" };
    const backend = createFakeBackend(Array.from({ length: 1000 }, () => unavailable));
    const pipeline = createExportPipeline({ ...fast, name: "t", send: backend.send });
    pipeline.start();
    for (const id of ids(3)) pipeline.enqueue(id, 1);
    await pipeline.flush();
    await pipeline.stop({ timeoutMs: 50 });
    expect(pipeline.stats()).toMatchObject({ exported: 0, dropped: { shutdown: 3 } });
  });
});

describe("createExportPipeline (spool)", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "clawscope-pipeline-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const batchFiles = async (where = dir) =>
    (await readdir(where)).filter((name) => name.startsWith("batch-")).sort();

  it("costs no disk write while the backend takes each batch at once", async () => {
    const seen: string[][] = [];
    const pipeline = createExportPipeline({
      ...fast,
      name: "t",
      spoolDir: dir,
      send: async () => {
        seen.push(await batchFiles());
        return { kind: "ok" };
      },
    });
    pipeline.start();
    for (const id of ids(3)) pipeline.enqueue(id, 1);
    await pipeline.flush();
    await pipeline.stop({ timeoutMs: 100 });
    expect(seen).toEqual([[]]);
    expect(await batchFiles()).toEqual([]);
    expect(pipeline.stats()).toMatchObject({ spooled: 0, exported: 3, spoolBytes: 0, pendingSpool: 0 });
  });

  it("with spoolAfterMs 0 writes a batch to disk before its first attempt and deletes it after success", async () => {
    const seen: string[][] = [];
    const pipeline = createExportPipeline({
      ...fast,
      spoolAfterMs: 0,
      name: "t",
      spoolDir: dir,
      send: async () => {
        seen.push(await batchFiles());
        return { kind: "ok" };
      },
    });
    pipeline.start();
    pipeline.enqueue("a", 1);
    await pipeline.flush();
    expect(seen).toEqual([["batch-000000000001-1.jsonl"]]);
    expect(await batchFiles()).toEqual([]);
    expect(pipeline.stats()).toMatchObject({ spooled: 1, exported: 1, spoolBytes: 0, pendingSpool: 0 });
    await pipeline.stop({ timeoutMs: 100 });
  });

  it("spools a batch whose send outlasts spoolAfterMs, and deletes the file once it is delivered", async () => {
    let answer: (result: SendResult) => void = () => undefined;
    const pipeline = createExportPipeline({
      ...fast,
      spoolAfterMs: 30,
      name: "t",
      spoolDir: dir,
      send: () =>
        new Promise<SendResult>((resolve) => {
          answer = resolve;
        }),
    });
    pipeline.start();
    pipeline.enqueue("slow", 1);
    await until(() => pipeline.stats().pendingSpool === 1);
    expect(await batchFiles()).toEqual(["batch-000000000001-1.jsonl"]);
    answer({ kind: "ok" });
    await until(() => pipeline.stats().exported === 1);
    await until(() => pipeline.stats().spoolBytes === 0);
    expect(await batchFiles()).toEqual([]);
    expect(pipeline.stats()).toMatchObject({ spooled: 1, pendingSpool: 0, pendingMemory: 0 });
    await pipeline.stop({ timeoutMs: 100 });
  });

  it("spools everything waiting at the first failed send, long before spoolAfterMs; a restart delivers it", async () => {
    const unavailable: SendResult = { kind: "retry", reason: "HTTP 503" };
    const failing = createFakeBackend(Array.from({ length: 1000 }, () => unavailable));
    const first = createExportPipeline({
      ...fast,
      maxBatchItems: 1,
      spoolAfterMs: 60_000,
      name: "t",
      spoolDir: dir,
      send: failing.send,
    });
    first.start();
    for (const id of ids(3)) first.enqueue(id, 1);
    await until(() => first.stats().pendingSpool === 3);
    expect(await batchFiles()).toHaveLength(3);
    await first.stop({ timeoutMs: 50 });
    expect(first.stats().dropped.shutdown).toBe(0);

    const healthy = createFakeBackend();
    const second = createExportPipeline({ ...fast, name: "t", spoolDir: dir, send: healthy.send });
    second.start();
    await until(() => healthy.delivered.length === 3);
    expect(healthy.delivered).toEqual(ids(3));
    await second.stop({ timeoutMs: 100 });
    expect(await batchFiles()).toEqual([]);
  });

  it("at stop, spools what a hanging backend has not taken by spoolAfterMs; a restart delivers it", async () => {
    const hanging = createFakeBackend(["hang"]);
    const first = createExportPipeline({
      ...fast,
      spoolAfterMs: 40,
      name: "t",
      spoolDir: dir,
      send: hanging.send,
    });
    first.start();
    for (const id of ids(2)) first.enqueue(id, 1);
    await until(() => hanging.attempts.length === 1);
    // stop before the batch is due: the stop itself must put it on disk
    await first.stop({ timeoutMs: 300 });
    expect(first.stats()).toMatchObject({ dropped: { shutdown: 0 }, pendingSpool: 2 });
    expect(await batchFiles()).toHaveLength(1);

    const healthy = createFakeBackend();
    const second = createExportPipeline({ ...fast, name: "t", spoolDir: dir, send: healthy.send });
    second.start();
    await until(() => healthy.delivered.length === 2);
    await second.stop({ timeoutMs: 100 });
  });

  it("dead-letters the items a backend refuses one by one, re-sendable", async () => {
    let refuse = true;
    const sent: string[] = [];
    const pipeline = createExportPipeline({
      ...fast,
      name: "t",
      spoolDir: dir,
      send: async (items: ExportItem<unknown>[]): Promise<SendResult> => {
        sent.push(...items.map((item) => item.id));
        return refuse ? { kind: "ok", rejected: [{ id: "bad", reason: "HTTP 404" }] } : { kind: "ok" };
      },
    });
    pipeline.start();
    for (const id of ["good", "bad"]) pipeline.enqueue(id, id);
    await pipeline.flush();
    expect(pipeline.stats()).toMatchObject({ exported: 1, deadLettered: 1, deadLetterPending: 1 });
    refuse = false;
    expect(await pipeline.redeliverDeadLetters()).toEqual({ files: 1, items: 1 });
    await pipeline.flush();
    expect(sent).toEqual(["good", "bad", "bad"]);
    expect(pipeline.stats()).toMatchObject({ exported: 2, deadLetterPending: 0 });
    await pipeline.stop({ timeoutMs: 100 });
  });

  it("dead-letters a rejected batch", async () => {
    const backend = createFakeBackend([{ kind: "reject", reason: "HTTP 422" }]);
    const pipeline = createExportPipeline({ ...fast, name: "t", spoolDir: dir, send: backend.send });
    pipeline.start();
    pipeline.enqueue("bad", { field: "value" });
    await pipeline.flush();
    const files = await readdir(join(dir, "dead-letter"));
    expect(files).toHaveLength(1);
    expect(pipeline.stats()).toMatchObject({ deadLettered: 1, dropped: { rejected: 0 }, pendingSpool: 0 });
    await pipeline.stop({ timeoutMs: 100 });
  });

  it("keeps working in memory when the spool directory cannot be created", async () => {
    const blocker = join(dir, "not-a-dir");
    await writeFile(blocker, "x");
    const backend = createFakeBackend();
    const { logger, lines } = createRecordingLogger();
    const pipeline = createExportPipeline({
      ...fast,
      name: "t",
      spoolDir: join(blocker, "spool"),
      send: backend.send,
      logger,
    });
    pipeline.start();
    for (const id of ids(3)) pipeline.enqueue(id, 1);
    await pipeline.flush();
    expect(backend.delivered).toEqual(ids(3));
    expect(pipeline.stats().spooled).toBe(0);
    expect(pipeline.stats().lastError?.message).toMatch(/ENOTDIR|EEXIST/);
    expect(
      lines.filter((line) => line.startsWith("error") && line.includes("new data is kept in memory")),
    ).toHaveLength(1);
    await pipeline.stop({ timeoutMs: 100 });
  });
});

/** Virtual time: timers fire only when the test advances the clock, so no wait depends on the machine. */
function createManualClock(start = 1_700_000_000_000) {
  let now = start;
  let nextId = 1;
  const timers = new Map<number, { at: number; callback: () => void }>();
  const settle = async () => {
    for (let round = 0; round < 20; round += 1) await new Promise((resolve) => setImmediate(resolve));
  };
  return {
    clock: {
      now: () => now,
      setTimer(callback: () => void, delayMs: number) {
        const id = nextId++;
        timers.set(id, { at: now + Math.max(0, delayMs), callback });
        return id;
      },
      clearTimer(handle: unknown) {
        timers.delete(handle as number);
      },
    },
    settle,
    /** Moves time forward by `ms`, firing due timers in order and letting the pipeline react to each. */
    async advance(ms: number) {
      const end = now + ms;
      await settle();
      for (;;) {
        const due = [...timers.entries()]
          .filter(([, timer]) => timer.at <= end)
          .sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].callback();
        await settle();
      }
      now = end;
    },
  };
}

describe("createExportPipeline (virtual time)", () => {
  const retryAfterAsks = [
    ["999999999 s", 999_999_999_000],
    ["a date in 2099", Date.parse("2099-01-01T00:00:00Z") - 1_700_000_000_000],
  ] as const;
  for (const [label, retryAfterMs] of retryAfterAsks) {
    it(`asks again after retryMaxDelayMs when Retry-After asks for ${label}, with one warning`, async () => {
      const manual = createManualClock();
      const backend = createFakeBackend([{ kind: "retry", reason: "HTTP 429", retryAfterMs }]);
      const { logger, lines } = createRecordingLogger();
      const pipeline = createExportPipeline({
        name: "t",
        send: backend.send,
        logger,
        clock: manual.clock,
        flushIntervalMs: 1000,
        retry: { initialDelayMs: 1000, maxDelayMs: 60_000 },
      });
      pipeline.start();
      pipeline.enqueue("a", 1);
      await manual.advance(1000);
      expect(backend.attempts).toHaveLength(1);
      await manual.advance(59_999);
      expect(backend.attempts).toHaveLength(1);
      await manual.advance(1);
      expect(backend.attempts).toHaveLength(2);
      expect(backend.delivered).toEqual(["a"]);
      expect(lines.filter((line) => line.includes("Retry-After"))).toHaveLength(1);
      await pipeline.stop({ timeoutMs: 0 });
    });
  }

  it("honours a Retry-After within the ceiling: not a millisecond sooner", async () => {
    const manual = createManualClock();
    const backend = createFakeBackend([{ kind: "retry", reason: "HTTP 429", retryAfterMs: 3000 }]);
    const pipeline = createExportPipeline({
      name: "t",
      send: backend.send,
      clock: manual.clock,
      flushIntervalMs: 1000,
      retry: { initialDelayMs: 10, maxDelayMs: 60_000 },
    });
    pipeline.start();
    pipeline.enqueue("a", 1);
    await manual.advance(1000);
    await manual.advance(2999);
    expect(backend.attempts).toHaveLength(1);
    await manual.advance(1);
    expect(backend.delivered).toEqual(["a"]);
    await pipeline.stop({ timeoutMs: 0 });
  });

  it("after 401 probes with one request per backoff step, never waiting more than retryMaxDelayMs", async () => {
    const manual = createManualClock();
    const auth: SendResult = { kind: "auth", reason: "HTTP 401" };
    const backend = createFakeBackend(Array.from({ length: 10 }, () => auth));
    const sentAt: number[] = [];
    const pipeline = createExportPipeline({
      name: "t",
      send: (items, signal) => {
        sentAt.push(manual.clock.now());
        return backend.send(items, signal);
      },
      clock: manual.clock,
      flushIntervalMs: 1000,
      maxBatchItems: 5,
      retry: { initialDelayMs: 1000, maxDelayMs: 30_000 },
      random: () => 0.999,
    });
    pipeline.start();
    for (const id of ids(12)) pipeline.enqueue(id, 1);
    await manual.advance(1000);
    expect(pipeline.stats().authPaused).toBe(true);
    // ten refusals, then the backend is fixed: the probe after the tenth resumes delivery
    for (let second = 0; second < 300 && backend.delivered.length < 12; second += 1)
      await manual.advance(1000);
    expect(backend.delivered.sort()).toEqual(ids(12).sort());
    expect(pipeline.stats()).toMatchObject({ authPaused: false, exported: 12 });
    const probes = sentAt.slice(0, 11);
    const gaps = probes.slice(1).map((at, index) => at - (probes[index] ?? 0));
    // one request per step (no burst), the steps grow by backoff, and none exceeds the ceiling
    expect(gaps).toEqual([999, 1998, 3996, 7992, 15_984, 29_970, 29_970, 29_970, 29_970, 29_970]);
    expect(backend.attempts.slice(0, 11).every((batch) => batch.length === 5)).toBe(true);
    await pipeline.stop({ timeoutMs: 0 });
  });
});
