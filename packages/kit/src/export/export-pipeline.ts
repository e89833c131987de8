/**
 * The export pipeline every backend uses: a bounded in-memory queue cut into batches (by count,
 * bytes and interval), one send in flight at a time (ordered, oldest first, so a dead backend gets
 * one request per backoff step), retries with full-jitter backoff that honour `Retry-After`, a split
 * on 413, a pause on 401/403 and a bounded dead-letter directory for rejected batches. Delivery is
 * at-least-once; ids are stable so backends de-duplicate.
 *
 * The durable spool is written only when it is needed: a batch goes to disk when its send fails,
 * when it is still undelivered `spoolAfterMs` after it was cut (a slow or hanging backend), and at
 * stop. With a healthy backend a batch lives in memory from cut to acknowledgement and costs no file
 * system call. What a SIGKILL can lose is therefore bounded by time: the items enqueued in the last
 * `flushIntervalMs + spoolAfterMs` that the backend had not yet acknowledged (and never more than
 * `maxQueueItems`). With `spoolAfterMs: 0` every batch is written before its first attempt.
 */
import { basename } from "node:path";
import { toLogText } from "../privacy/log-text.js";
import { describeError } from "../runtime/describe-error.js";
import { createItemQueue } from "./item-queue.js";
import type { ExportPipelineOptions } from "./pipeline-options.js";
import { resolvePipelineOptions } from "./pipeline-options.js";
import { createRetryPolicy } from "./retry-policy.js";
import { attemptSend } from "./send-attempt.js";
import type { SpoolEntry } from "./spool.js";
import { createSpool, toSpoolLine } from "./spool.js";
import type { ExportItem, PipelineStats, SendResult } from "./types.js";

export type { ExportPipelineOptions, PipelineClock } from "./pipeline-options.js";

/** What `createExportPipeline` returns. */
export interface ExportPipeline<T> {
  /** Queues one item. Synchronous and O(1): no I/O, no serialization, never throws. */
  enqueue(id: string, payload: T): void;
  /** Cuts what is queued into batches and sends now; resolves when all is sent or the backend is failing. */
  flush(): Promise<void>;
  /** Picks up spool files left by a previous process and starts the timers. */
  start(): void;
  /** Spools what is pending, delivers what it can within `timeoutMs` (default 5000), then aborts. Final. */
  stop(options?: { timeoutMs?: number }): Promise<void>;
  stats(): PipelineStats;
  /** Ends an auth pause (call it after the backend's credentials changed) and retries at once. */
  resumeAfterAuthChange(): void;
  /** Puts the items of `dead-letter/` back at the end of the spool and sends them; says how many. */
  redeliverDeadLetters(): Promise<{ files: number; items: number }>;
}

interface Batch<T> {
  seq: number;
  itemCount: number;
  bytes: number;
  /** Absent when the items live only on disk (read back before sending). */
  items: ExportItem<T>[] | undefined;
  /** Absent when the batch lives only in memory (not yet due for the spool, no spool, disk error, or too large for it). */
  entry: SpoolEntry | undefined;
  /** When it was cut: it is due for the spool `spoolAfterMs` later. */
  cutAt: number;
  /** Delivered, refused or replaced: a spool write still under way for it is undone. */
  settled: boolean;
}

/** Batches cut and written together per intake step: enough to keep up with bursts, small enough not to stall the loop. */
const INTAKE_GROUP = 4;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Creates an export pipeline; see {@link ExportPipelineOptions} for the knobs and their defaults. */
export function createExportPipeline<T>(options: ExportPipelineOptions<T>): ExportPipeline<T> {
  const config = resolvePipelineOptions(options);
  const { clock, logger } = config;
  const label = `export ${config.name}`;
  const policy = createRetryPolicy({ ...config.retry, random: config.random });
  const spool = config.spoolDir
    ? createSpool({
        dir: config.spoolDir,
        maxDeadLetterBytes: config.maxDeadLetterBytes,
        ...(config.spoolFs ? { fs: config.spoolFs } : {}),
      })
    : undefined;

  const pending = createItemQueue<ExportItem<T>>();
  const ready: Batch<T>[] = [];
  const counters = { enqueued: 0, exported: 0, retried: 0, spooled: 0, deadLettered: 0 };
  const dropped = { queueFull: 0, spoolFull: 0, tooLarge: 0, rejected: 0, corrupt: 0, shutdown: 0 };
  let lastError: { message: string; at: number } | undefined;
  let phase: "idle" | "running" | "stopping" | "stopped" = "idle";
  let memoryOnlyItems = 0; // cut into batches but not on disk
  let spooledItems = 0;
  let heldItems = 0; // spooled items whose copy is also kept in memory
  let nextSeq = 1;
  let recovered: Promise<void> = Promise.resolve();
  let diskRetryAt = 0;
  let spoolCredit = 0; // bytes about to be freed (a batch being split), not counted against the bound
  let failures = 0;
  let deadLetterItems = 0;
  let authFailures = 0;
  let retryAt = 0;
  let authPaused = false;
  let retryTimer: unknown;
  let authTimer: unknown;
  let flushTimer: unknown;
  let spoolTimer: unknown;
  let sending = false;
  let sendLoop: Promise<void> = Promise.resolve();
  let inFlight: Batch<T> | undefined;
  let inFlightAbort: AbortController | undefined;
  let loaded: { batch: Batch<T>; items: ExportItem<T>[] } | undefined;
  let intakeTail: Promise<void> = Promise.resolve();
  let intakeScheduled = false;
  let stopPromise: Promise<void> | undefined;
  const waiters = new Set<() => void>();

  const notify = () => {
    for (const check of [...waiters]) check();
  };
  const waitUntil = (condition: () => boolean, timeoutMs?: number): Promise<boolean> =>
    new Promise((resolve) => {
      let timer: unknown;
      const finish = (value: boolean) => {
        waiters.delete(check);
        if (timer !== undefined) clock.clearTimer(timer);
        resolve(value);
      };
      const check = () => condition() && finish(true);
      if (condition()) return resolve(true);
      waiters.add(check);
      if (timeoutMs !== undefined) timer = clock.setTimer(() => finish(false), timeoutMs);
    });
  const noteError = (message: string) => {
    lastError = { message: toLogText(message, 500), at: clock.now() };
  };
  const diskTrouble = (what: string, error: unknown) => {
    diskRetryAt = clock.now() + config.diskRetryMs;
    noteError(`${what}: ${describeError(error)}`);
    const code = (error as { code?: unknown } | undefined)?.code;
    const why =
      code === "ENOSPC" || code === "EDQUOT"
        ? "the disk is full"
        : code === "EROFS"
          ? "the disk is read-only"
          : code === "EACCES" || code === "EPERM"
            ? "the spool is not writable"
            : code === "ENOENT"
              ? "the spool folder cannot be created"
              : "the disk failed";
    logger.limited(
      "error",
      `${label}:disk`,
      `${label}: ${what} failed: ${why} (${describeError(error)}) in ${config.spoolDir}; new data is kept in memory (at most ${config.maxQueueItems} items, beyond that counted as dropped) and the disk is tried again every ${toDuration(config.diskRetryMs)}`,
    );
  };

  /** Takes a batch out of the books; its file, if any, is the caller's business. */
  const discard = (batch: Batch<T>) => {
    batch.settled = true;
    const index = ready.indexOf(batch);
    if (index >= 0) ready.splice(index, 1);
    if (loaded?.batch === batch) loaded = undefined;
    if (!batch.entry) memoryOnlyItems -= batch.itemCount;
    else {
      spooledItems -= batch.itemCount;
      if (batch.items) heldItems -= batch.itemCount;
    }
  };
  const removeFile = async (entry: SpoolEntry | undefined) => {
    if (entry && spool)
      await spool.remove(entry).catch((error: unknown) => diskTrouble("deleting a spool file", error));
  };

  /** Drops the oldest spooled batches (never the one in flight) until `bytes` more fit. */
  const makeRoom = async (bytes: number, files: number) => {
    if (!spool) return;
    const overBound = () =>
      spool.bytes - spoolCredit + bytes > config.maxSpoolBytes || spool.files + files > config.maxSpoolFiles;
    while (overBound()) {
      const victim = ready.find((batch) => batch.entry && batch !== inFlight);
      if (!victim) return;
      discard(victim);
      dropped.spoolFull += victim.itemCount;
      await removeFile(victim.entry);
      logger.limited(
        "warn",
        `${label}:spool-full`,
        `${label}: spool full (bound ${config.maxSpoolBytes} bytes, ${config.maxSpoolFiles} files); dropping the oldest batches — ${dropped.spoolFull} items lost so far`,
      );
    }
  };

  /** Writes batches to disk; on any failure a batch simply stays in memory. */
  const persist = async (cuts: { batch: Batch<T>; body: string }[]) => {
    const todo = cuts.filter((cut) => !cut.batch.entry && !cut.batch.settled);
    if (!spool || todo.length === 0 || clock.now() < diskRetryAt) return;
    try {
      await makeRoom(
        todo.reduce((sum, cut) => sum + cut.batch.bytes, 0),
        todo.length,
      );
      if (diskRetryAt !== 0) await spool.ensureDirs();
    } catch (error) {
      diskTrouble("preparing the spool", error);
      return;
    }
    let room = config.maxSpoolBytes - (spool.bytes - spoolCredit);
    let fileRoom = config.maxSpoolFiles - spool.files;
    // a few files written side by side: the thread pool, not the event loop, waits on the disk
    await Promise.all(
      todo.map(async ({ batch, body }) => {
        if (batch.bytes > room || fileRoom < 1) {
          logger.limited(
            "warn",
            `${label}:spool-small`,
            `${label}: a batch of ${batch.bytes} bytes does not fit the spool; kept in memory`,
          );
          return;
        }
        room -= batch.bytes;
        fileRoom -= 1;
        let entry: SpoolEntry;
        try {
          entry = await spool.write(batch.seq, body, batch.itemCount);
        } catch (error) {
          diskTrouble("writing the spool", error);
          return;
        }
        diskRetryAt = 0;
        if (batch.settled) {
          // delivered (or replaced) while it was being written: the file is not needed
          await removeFile(entry);
          return;
        }
        batch.entry = entry;
        memoryOnlyItems -= batch.itemCount;
        spooledItems += batch.itemCount;
        counters.spooled += batch.itemCount;
        // keep a copy in memory while the budget allows, so the happy path never reads the disk back
        if (heldItems + batch.itemCount > config.maxQueueItems) batch.items = undefined;
        else heldItems += batch.itemCount;
      }),
    );
  };

  /** Builds a batch from items already out of the queue (used by the split on 413). */
  const toBatch = (items: ExportItem<T>[]): { batch: Batch<T>; body: string } => {
    const body = items.map((item) => toSpoolLine(item)).join("");
    memoryOnlyItems += items.length;
    const batch: Batch<T> = {
      seq: nextSeq++,
      itemCount: items.length,
      bytes: Buffer.byteLength(body),
      items,
      entry: undefined,
      cutAt: clock.now(),
      settled: false,
    };
    return { batch, body };
  };

  /** Cuts the next batch off the queue, bounded by count and bytes; serializes here, off the caller's stack. */
  const cutBatch = (): { batch: Batch<T>; body: string } | undefined => {
    const items: ExportItem<T>[] = [];
    const lines: string[] = [];
    let bytes = 0;
    while (items.length < config.maxBatchItems) {
      const item = pending.peek();
      if (!item) break;
      let line: string;
      try {
        line = toSpoolLine(item);
      } catch (error) {
        pending.shift();
        dropped.rejected += 1;
        logger.limited(
          "warn",
          `${label}:serialize`,
          `${label}: an item cannot be serialized (${describeError(error)}); dropped`,
        );
        continue;
      }
      const size = Buffer.byteLength(line);
      if (items.length > 0 && bytes + size > config.maxBatchBytes) break;
      pending.shift();
      items.push(item);
      lines.push(line);
      bytes += size;
    }
    if (items.length === 0) return undefined;
    memoryOnlyItems += items.length;
    return {
      batch: {
        seq: nextSeq++,
        itemCount: items.length,
        bytes,
        items,
        entry: undefined,
        cutAt: clock.now(),
        settled: false,
      },
      body: lines.join(""),
    };
  };

  const isDue = (batch: Batch<T>, now: number) =>
    !batch.entry && !batch.settled && batch.items !== undefined && batch.cutAt + config.spoolAfterMs <= now;

  /**
   * Writes the batches still waiting in memory to the spool: those due (`spoolAfterMs` after their
   * cut, the one in flight included: a send that outlasts the deadline), or all of them once a send
   * failed or the pipeline stops. Kept in memory, and tried again later, while the disk fails.
   */
  const spoolWaiting = async (all: boolean) => {
    while (spool !== undefined && memoryOnlyItems > 0 && clock.now() >= diskRetryAt) {
      const now = clock.now();
      const group = ready
        .filter((batch) => (all ? !batch.entry && batch.items !== undefined : isDue(batch, now)))
        .slice(0, INTAKE_GROUP)
        .map((batch) => ({ batch, body: (batch.items ?? []).map((item) => toSpoolLine(item)).join("") }));
      if (group.length === 0) return;
      await persist(group);
      if (group.every((cut) => !cut.batch.entry)) return;
      await yieldToEventLoop();
    }
  };
  const runSpool = (all: boolean): Promise<void> => {
    intakeTail = intakeTail
      .then(() => spoolWaiting(all))
      .catch((error: unknown) => noteError(`spool: ${describeError(error)}`))
      .finally(armSpoolTimer);
    return intakeTail;
  };
  /** Wakes up when the oldest batch in memory is due for the spool (or the disk may take writes again). */
  function armSpoolTimer() {
    if (!spool || spoolTimer !== undefined || phase !== "running" || memoryOnlyItems === 0) return;
    const oldest = ready.find((batch) => !batch.entry && !batch.settled && batch.items !== undefined);
    if (!oldest) return;
    const delay = Math.max(oldest.cutAt + config.spoolAfterMs, diskRetryAt) - clock.now();
    spoolTimer = clock.setTimer(
      () => {
        spoolTimer = undefined;
        if (phase === "running") void runSpool(false);
      },
      Math.max(1, delay),
    );
  }

  const intake = async (force: boolean) => {
    await recovered;
    const more = () => pending.size >= config.maxBatchItems || (force && pending.size > 0);
    while (more()) {
      const cuts: { batch: Batch<T>; body: string }[] = [];
      while (cuts.length < INTAKE_GROUP && more()) {
        const cut = cutBatch();
        if (cut) cuts.push(cut);
        // serializing a batch is the one CPU-heavy step: give the loop back between batches
        await yieldToEventLoop();
      }
      if (config.spoolAfterMs === 0) await persist(cuts);
      for (const cut of cuts) ready.push(cut.batch);
      kickSender();
      notify();
    }
    armSpoolTimer();
  };
  const runIntake = (force: boolean): Promise<void> => {
    intakeTail = intakeTail
      .then(() => intake(force))
      .catch((error: unknown) => noteError(`intake: ${describeError(error)}`));
    return intakeTail;
  };
  const scheduleIntake = () => {
    if (intakeScheduled || phase !== "running") return;
    intakeScheduled = true;
    setImmediate(() => {
      intakeScheduled = false;
      void runIntake(false);
    });
  };
  const armFlushTimer = () => {
    flushTimer = clock.setTimer(() => {
      flushTimer = undefined;
      if (phase !== "running") return;
      if (pending.size > 0) void runIntake(true);
      armFlushTimer();
    }, config.flushIntervalMs);
  };

  /**
   * Keeps refused items in `dead-letter/` (bounded): counted, and re-sendable with
   * `redeliverDeadLetters` or `openclaw clawscope redeliver`. Without room (or a spool) they are
   * dropped, and counted as such.
   */
  const deadLetter = async (seq: number, items: ExportItem<T>[], reason: string): Promise<void> => {
    if (items.length === 0) return;
    const written = spool
      ? await spool
          .deadLetter(seq, items.map((item) => toSpoolLine(item)).join(""), reason, items.length)
          .catch((error: unknown) => {
            diskTrouble("writing the dead-letter file", error);
            return false;
          })
      : false;
    if (written) {
      counters.deadLettered += items.length;
      deadLetterItems += items.length;
    } else dropped.rejected += items.length;
    const where = written
      ? `kept in ${spool?.deadLetterDir} (re-send with: openclaw clawscope redeliver)`
      : spool
        ? "dropped: the dead-letter directory is full"
        : "dropped: no spool to keep it in";
    logger.limited(
      "error",
      `${label}:reject`,
      `${label}: the backend refused ${items.length} item(s) (${toLogText(reason)}); ${where}`,
    );
  };

  const settle = async (batch: Batch<T>, items: ExportItem<T>[], result: SendResult) => {
    if (result.kind === "ok") {
      discard(batch);
      const refused = rejectedItems(items, result.rejected);
      counters.exported += items.length - refused.items.length;
      failures = 0;
      retryAt = 0;
      authFailures = 0;
      await deadLetter(batch.seq, refused.items, refused.reason);
      await removeFile(batch.entry);
      return;
    }
    noteError(result.reason);
    // the backend is failing: what waits for it goes to disk now, not at its deadline
    if (result.kind === "retry" || result.kind === "auth") await runSpool(true);
    if (result.kind === "retry") {
      failures += 1;
      counters.retried += 1;
      const delay = policy.delayFor(failures, result.retryAfterMs);
      retryAt = clock.now() + delay;
      const waiting = pending.size + memoryOnlyItems + spooledItems;
      if (result.retryAfterMs !== undefined && result.retryAfterMs > config.retry.maxRetryAfterMs) {
        logger.limited(
          "warn",
          `${label}:retry-after`,
          `${label}: the backend asked to wait ${Math.round(result.retryAfterMs / 1000)} s (Retry-After); trying again after ${Math.round(config.retry.maxRetryAfterMs / 1000)} s, the longest wait retryMaxDelayMs allows`,
        );
      }
      logger.limited(
        "warn",
        `${label}:retry`,
        `${label}: send failed (${toLogText(result.reason)}); retrying in ${delay} ms, ${waiting} items waiting`,
      );
    } else if (result.kind === "too-large" && items.length > 1) {
      const middle = Math.ceil(items.length / 2);
      const halves = [toBatch(items.slice(0, middle)), toBatch(items.slice(middle))];
      const index = Math.max(0, ready.indexOf(batch));
      discard(batch);
      spoolCredit = batch.entry?.bytes ?? 0;
      try {
        if (batch.entry) await persist(halves);
      } finally {
        spoolCredit = 0;
      }
      ready.splice(index, 0, ...halves.map((half) => half.batch));
      await removeFile(batch.entry);
    } else if (result.kind === "auth") {
      // probe again with backoff, one request at a time, so a fixed credential resumes delivery soon
      authPaused = true;
      authFailures += 1;
      const delay = Math.min(policy.delayFor(authFailures), config.authRetryMs);
      const where = spool ? "in the spool" : "in memory";
      logger.limited(
        "error",
        `${label}:auth`,
        `${label}: the backend refused the credentials (${toLogText(result.reason)}); data kept ${where}, one request tries again with backoff (at most every ${Math.round(config.authRetryMs / 1000)} s) and at once when the config changes`,
      );
      if (authTimer !== undefined) clock.clearTimer(authTimer);
      authTimer = clock.setTimer(
        () => {
          authTimer = undefined;
          authPaused = false;
          kickSender();
        },
        Math.max(1, delay),
      );
    } else {
      // a refusal of the batch (4xx), or of a single item as too large: retrying cannot help
      discard(batch);
      await deadLetter(batch.seq, items, result.reason);
      await removeFile(batch.entry);
    }
  };

  /** Items of a batch, read back from disk when not held in memory; undefined when none could be read. */
  const itemsOf = async (batch: Batch<T>): Promise<ExportItem<T>[] | undefined> => {
    if (batch.items) return batch.items;
    if (loaded?.batch === batch) return loaded.items;
    if (!spool || !batch.entry) return undefined;
    const read = await spool.read<T>(batch.entry);
    if (read.corrupt > 0) {
      dropped.corrupt += read.corrupt;
      noteError(`corrupt spool file ${basename(batch.entry.path)}`);
      logger.limited(
        "error",
        `${label}:corrupt`,
        `${label}: spool file ${batch.entry.path} is corrupt or truncated; ${read.corrupt} item(s) skipped (${dropped.corrupt} so far)`,
      );
    }
    if (read.items.length === 0) return undefined;
    loaded = { batch, items: read.items };
    return read.items;
  };

  const attempt = async (batch: Batch<T>) => {
    inFlight = batch;
    let items: ExportItem<T>[] | undefined;
    try {
      items = await itemsOf(batch);
    } catch (error) {
      inFlight = undefined;
      const missing = (error as { code?: unknown })?.code === "ENOENT";
      if (!missing)
        return settle(batch, [], { kind: "retry", reason: `reading the spool: ${describeError(error)}` });
      discard(batch);
      dropped.corrupt += batch.itemCount;
      logger.limited(
        "error",
        `${label}:missing`,
        `${label}: spool file ${batch.entry?.path} disappeared; ${batch.itemCount} item(s) lost`,
      );
      return;
    }
    if (!items) {
      inFlight = undefined;
      discard(batch);
      if (batch.entry && spool) await spool.quarantine(batch.entry).catch(() => removeFile(batch.entry));
      return;
    }
    const controller = new AbortController();
    inFlightAbort = controller;
    const timeout = config.requestTimeoutMs;
    const timer = clock.setTimer(
      () => controller.abort(new Error(`request timed out after ${timeout} ms`)),
      timeout,
    );
    try {
      const result = await attemptSend(config.send, items, controller.signal);
      inFlight = undefined;
      inFlightAbort = undefined;
      await settle(batch, items, result);
    } finally {
      clock.clearTimer(timer);
      inFlight = undefined;
      inFlightAbort = undefined;
    }
  };

  const runSender = async () => {
    while (phase === "running" || phase === "stopping") {
      const batch = ready[0];
      if (!batch || authPaused) return;
      const wait = retryAt - clock.now();
      if (wait > 0) {
        if (retryTimer !== undefined) clock.clearTimer(retryTimer);
        retryTimer = clock.setTimer(() => {
          retryTimer = undefined;
          kickSender();
        }, wait);
        return;
      }
      await attempt(batch);
      notify();
    }
  };
  function kickSender() {
    if (sending || (phase !== "running" && phase !== "stopping")) return;
    sending = true;
    sendLoop = runSender()
      .catch((error: unknown) => noteError(`sender: ${describeError(error)}`))
      .finally(() => {
        sending = false;
        notify();
      });
  }

  const recover = async () => {
    if (!spool) return;
    try {
      const { entries, unreadable, removedTemp } = await spool.recover();
      for (const entry of entries) {
        ready.push({
          seq: entry.seq,
          itemCount: entry.itemCount,
          bytes: entry.bytes,
          items: undefined,
          entry,
          cutAt: clock.now(),
          settled: false,
        });
        spooledItems += entry.itemCount;
        nextSeq = Math.max(nextSeq, entry.seq + 1);
      }
      if (entries.length > 0)
        logger.info(
          `${label}: resuming ${entries.length} spooled batch(es), ${spooledItems} items, from ${spool.dir}`,
        );
      if (removedTemp > 0)
        logger.warn(`${label}: removed ${removedTemp} incomplete spool file(s) left by an interrupted write`);
      if (unreadable.length > 0)
        logger.warn(
          `${label}: ignoring unexpected file(s) in ${spool.dir}: ${unreadable.slice(0, 5).join(", ")}`,
        );
      await makeRoom(0, 0);
      deadLetterItems = (await spool.listDeadLetters()).reduce((sum, file) => sum + file.items, 0);
    } catch (error) {
      diskTrouble("opening the spool", error);
    }
  };

  const redeliver = async (): Promise<{ files: number; items: number }> => {
    if (!spool || (phase !== "running" && phase !== "idle")) return { files: 0, items: 0 };
    await recovered;
    let files = 0;
    let moved = 0;
    for (const file of await spool.listDeadLetters()) {
      const read = await spool.readDeadLetter<T>(file.path);
      for (let start = 0; start < read.items.length; start += config.maxBatchItems) {
        const cut = toBatch(read.items.slice(start, start + config.maxBatchItems));
        await persist([cut]);
        ready.push(cut.batch);
      }
      await spool.removeDeadLetter(file.path, file.bytes);
      deadLetterItems = Math.max(0, deadLetterItems - (file.items || read.items.length));
      files += 1;
      moved += read.items.length;
    }
    if (moved > 0) {
      logger.info(`${label}: ${moved} dead-lettered item(s) from ${files} file(s) queued again`);
      kickSender();
    }
    return { files, items: moved };
  };

  return {
    enqueue(id, payload) {
      try {
        counters.enqueued += 1;
        if (phase === "stopped") {
          dropped.shutdown += 1;
          logger.once("warn", `${label}:after-stop`, `${label}: items arrive after stop; they are dropped`);
          return;
        }
        if (pending.size + memoryOnlyItems >= config.maxQueueItems) {
          dropped.queueFull += 1;
          logger.limited(
            "warn",
            `${label}:queue-full`,
            `${label}: queue full (${config.maxQueueItems} items in memory); dropping new items`,
          );
          return;
        }
        pending.push({ id: typeof id === "string" ? id : String(id), payload, enqueuedAt: clock.now() });
        if (pending.size >= config.maxBatchItems) scheduleIntake();
      } catch {
        // never throw into the gateway's hot path
      }
    },
    async flush() {
      if (phase !== "running") return;
      await runIntake(true);
      kickSender();
      await waitUntil(
        () =>
          (ready.length === 0 && !sending) ||
          phase !== "running" ||
          (!sending && (authPaused || retryAt > clock.now())),
      );
    },
    start() {
      if (phase !== "idle") return;
      phase = "running";
      recovered = recover();
      armFlushTimer();
      void recovered.then(() => {
        kickSender();
        if (pending.size >= config.maxBatchItems) scheduleIntake();
      });
    },
    stop(stopOptions = {}) {
      stopPromise ??= stopPipeline(stopOptions.timeoutMs ?? 5000);
      return stopPromise;
    },
    stats() {
      return {
        ...counters,
        pendingMemory: pending.size + memoryOnlyItems,
        pendingSpool: spooledItems,
        spoolBytes: spool?.bytes ?? 0,
        dropped: { ...dropped },
        ...(lastError ? { lastError: { ...lastError } } : {}),
        authPaused,
        deadLetterPending: deadLetterItems,
      };
    },
    redeliverDeadLetters: () =>
      redeliver().catch((error: unknown) => {
        diskTrouble("re-sending dead letters", error);
        return { files: 0, items: 0 };
      }),
    resumeAfterAuthChange() {
      if (authTimer !== undefined) clock.clearTimer(authTimer);
      authTimer = undefined;
      authPaused = false;
      authFailures = 0;
      failures = 0;
      retryAt = 0;
      kickSender();
    },
  };

  async function stopPipeline(timeoutMs: number): Promise<void> {
    const deadline = clock.now() + Math.max(0, timeoutMs);
    const remaining = () => Math.max(0, deadline - clock.now());
    const wasRunning = phase === "running";
    phase = wasRunning ? "stopping" : "stopped";
    for (const timer of [flushTimer, spoolTimer]) if (timer !== undefined) clock.clearTimer(timer);
    spoolTimer = undefined;
    if (wasRunning) {
      const intook = runIntake(true);
      await Promise.race([intook, waitUntil(() => false, remaining())]);
      kickSender();
      const settledAll = () =>
        (ready.length === 0 && !sending) || authPaused || (!sending && retryAt >= deadline);
      // a healthy backend takes the rest at once; what it has not taken by the spool deadline goes
      // to disk, so a process killed during a slow stop loses no more than one killed while running
      const quick = await waitUntil(settledAll, Math.min(remaining(), config.spoolAfterMs));
      if (!quick) {
        await Promise.race([runSpool(true), waitUntil(() => false, remaining())]);
        await waitUntil(settledAll, remaining());
      }
    }
    phase = "stopped";
    for (const timer of [retryTimer, authTimer]) if (timer !== undefined) clock.clearTimer(timer);
    inFlightAbort?.abort(new Error("the pipeline is stopping"));
    await Promise.race([sendLoop, waitUntil(() => false, Math.max(remaining(), 100))]);
    // what is still only in memory goes to disk now; without a spool it is lost, and counted
    await runIntake(true);
    for (const batch of [...ready]) {
      if (batch.entry || !batch.items) continue;
      await persist([{ batch, body: batch.items.map((item) => toSpoolLine(item)).join("") }]);
    }
    const lost = pending.size + memoryOnlyItems;
    if (lost > 0) {
      dropped.shutdown += lost;
      logger.warn(`${label}: ${lost} item(s) could not be delivered or spooled before stop and are lost`);
    }
    notify();
  }
}

/** The items a backend refused one by one, and why (the first reason stands for all, in one line). */
function rejectedItems<T>(
  items: readonly ExportItem<T>[],
  rejected: readonly { id: string; reason: string }[] | undefined,
): { items: ExportItem<T>[]; reason: string } {
  if (!Array.isArray(rejected) || rejected.length === 0) return { items: [], reason: "" };
  const ids = new Map<string, string>();
  for (const entry of rejected) {
    if (entry && typeof entry.id === "string") ids.set(entry.id, String(entry.reason ?? "refused"));
  }
  const refused = items.filter((item) => ids.has(item.id));
  const reason = refused.length > 0 ? (ids.get(refused[0]?.id ?? "") ?? "refused") : "";
  return { items: refused, reason };
}

function toDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}
