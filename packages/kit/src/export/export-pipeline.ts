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
 *
 * This file is the delivery loop: when to cut, send, retry, pause and stop. Where each item is
 * (queued, in memory, on disk, dead-lettered or dropped) is kept by the books in `batch-book.ts`.
 */
import { toLogText } from "../privacy/log-text.js";
import { describeError } from "../runtime/describe-error.js";
import type { Batch, Cut } from "./batch-book.js";
import { createBatchBook, INTAKE_GROUP, yieldToEventLoop } from "./batch-book.js";
import type { ExportPipelineOptions } from "./pipeline-options.js";
import { resolvePipelineOptions } from "./pipeline-options.js";
import { createRetryPolicy } from "./retry-policy.js";
import { attemptSend } from "./send-attempt.js";
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

/** Creates an export pipeline; see {@link ExportPipelineOptions} for the knobs and their defaults. */
export function createExportPipeline<T>(options: ExportPipelineOptions<T>): ExportPipeline<T> {
  const config = resolvePipelineOptions(options);
  const { clock, logger } = config;
  const label = `export ${config.name}`;
  const policy = createRetryPolicy({ ...config.retry, random: config.random });
  let lastError: { message: string; at: number } | undefined;
  const noteError = (message: string) => {
    lastError = { message: toLogText(message, 500), at: clock.now() };
  };
  const book = createBatchBook(config, noteError);
  const conditions = createConditions(clock);

  const counters = { enqueued: 0, exported: 0, retried: 0 };
  let phase: "idle" | "running" | "stopping" | "stopped" = "idle";
  let recovered: Promise<void> = Promise.resolve();
  let failures = 0;
  let authFailures = 0;
  let retryAt = 0;
  let authPaused = false;
  const timers: Record<"retry" | "auth" | "flush" | "spool", unknown> = {
    retry: undefined,
    auth: undefined,
    flush: undefined,
    spool: undefined,
  };
  let sending = false;
  let sendLoop: Promise<void> = Promise.resolve();
  let inFlightAbort: AbortController | undefined;
  // the intake (cutting batches) and the spool writer take turns on one chain, never side by side
  let intakeTail: Promise<void> = Promise.resolve();
  let intakeScheduled = false;
  let stopPromise: Promise<void> | undefined;

  const setTimer = (name: keyof typeof timers, run: () => void, delayMs: number) => {
    clearTimer(name);
    timers[name] = clock.setTimer(() => {
      timers[name] = undefined;
      run();
    }, delayMs);
  };
  const clearTimer = (name: keyof typeof timers) => {
    if (timers[name] !== undefined) clock.clearTimer(timers[name]);
    timers[name] = undefined;
  };

  const runSpool = (all: boolean): Promise<void> => {
    intakeTail = intakeTail
      .then(() => book.spoolWaiting(all))
      .catch((error: unknown) => noteError(`spool: ${describeError(error)}`))
      .finally(armSpoolTimer);
    return intakeTail;
  };
  /** Wakes up when the oldest batch in memory is due for the spool (or the disk may take writes again). */
  function armSpoolTimer() {
    if (timers.spool !== undefined || phase !== "running") return;
    const dueAt = book.nextSpoolDueAt();
    if (dueAt === undefined) return;
    setTimer("spool", () => phase === "running" && void runSpool(false), Math.max(1, dueAt - clock.now()));
  }

  const intake = async (force: boolean) => {
    await recovered;
    const more = () => book.queued >= config.maxBatchItems || (force && book.queued > 0);
    while (more()) {
      const cuts: Cut<T>[] = [];
      while (cuts.length < INTAKE_GROUP && more()) {
        const cut = book.cutBatch();
        if (cut) cuts.push(cut);
        // serializing a batch is the one CPU-heavy step: give the loop back between batches
        await yieldToEventLoop();
      }
      if (config.spoolAfterMs === 0) await book.persist(cuts);
      book.append(cuts.map((cut) => cut.batch));
      kickSender();
      conditions.notify();
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
    setTimer(
      "flush",
      () => {
        if (phase !== "running") return;
        if (book.queued > 0) void runIntake(true);
        armFlushTimer();
      },
      config.flushIntervalMs,
    );
  };

  const onRetry = (result: Extract<SendResult, { kind: "retry" }>) => {
    failures += 1;
    counters.retried += 1;
    const delay = policy.delayFor(failures, result.retryAfterMs);
    retryAt = clock.now() + delay;
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
      `${label}: send failed (${toLogText(result.reason)}); retrying in ${delay} ms, ${book.memoryItems + book.spooledItems} items waiting`,
    );
  };
  /** Probes again with backoff, one request at a time, so a fixed credential resumes delivery soon. */
  const onAuthFailure = (reason: string) => {
    authPaused = true;
    authFailures += 1;
    const delay = Math.min(policy.delayFor(authFailures), config.authRetryMs);
    const where = book.hasSpool ? "in the spool" : "in memory";
    logger.limited(
      "error",
      `${label}:auth`,
      `${label}: the backend refused the credentials (${toLogText(reason)}); data kept ${where}, one request tries again with backoff (at most every ${Math.round(config.authRetryMs / 1000)} s) and at once when the config changes`,
    );
    setTimer(
      "auth",
      () => {
        authPaused = false;
        kickSender();
      },
      Math.max(1, delay),
    );
  };

  const settle = async (batch: Batch<T>, items: ExportItem<T>[], result: SendResult) => {
    if (result.kind === "ok") {
      const refused = rejectedItems(items, result.rejected);
      counters.exported += items.length - refused.items.length;
      failures = 0;
      retryAt = 0;
      authFailures = 0;
      await book.retire(batch, refused.items, refused.reason);
      return;
    }
    noteError(result.reason);
    // the backend is failing: what waits for it goes to disk now, not at its deadline
    if (result.kind === "retry" || result.kind === "auth") await runSpool(true);
    if (result.kind === "retry") onRetry(result);
    else if (result.kind === "auth") onAuthFailure(result.reason);
    else if (result.kind === "too-large" && items.length > 1) await book.split(batch, items);
    // a refusal of the batch (4xx), or of a single item as too large: retrying cannot help
    else await book.retire(batch, items, result.reason);
  };

  const attempt = async (batch: Batch<T>) => {
    let items: ExportItem<T>[] | undefined;
    book.markInFlight(batch);
    try {
      items = await book.itemsOf(batch);
    } catch (error) {
      book.markInFlight(undefined);
      if ((error as { code?: unknown })?.code === "ENOENT") return book.vanished(batch);
      return settle(batch, [], { kind: "retry", reason: `reading the spool: ${describeError(error)}` });
    }
    if (!items) {
      book.markInFlight(undefined);
      return book.quarantine(batch);
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
      book.markInFlight(undefined);
      inFlightAbort = undefined;
      await settle(batch, items, result);
    } finally {
      clock.clearTimer(timer);
      book.markInFlight(undefined);
      inFlightAbort = undefined;
    }
  };

  const runSender = async () => {
    while (phase === "running" || phase === "stopping") {
      const batch = book.ready[0];
      if (!batch || authPaused) return;
      const wait = retryAt - clock.now();
      if (wait > 0) {
        setTimer("retry", kickSender, wait);
        return;
      }
      await attempt(batch);
      conditions.notify();
    }
  };
  function kickSender() {
    if (sending || (phase !== "running" && phase !== "stopping")) return;
    sending = true;
    sendLoop = runSender()
      .catch((error: unknown) => noteError(`sender: ${describeError(error)}`))
      .finally(() => {
        sending = false;
        conditions.notify();
      });
  }

  const redeliver = async (): Promise<{ files: number; items: number }> => {
    if (phase !== "running" && phase !== "idle") return { files: 0, items: 0 };
    await recovered;
    const moved = await book.redeliver();
    if (moved.items > 0) kickSender();
    return moved;
  };

  return {
    enqueue(id, payload) {
      try {
        counters.enqueued += 1;
        if (phase === "stopped") {
          book.dropAfterStop();
          logger.once("warn", `${label}:after-stop`, `${label}: items arrive after stop; they are dropped`);
          return;
        }
        const item = { id: typeof id === "string" ? id : String(id), payload, enqueuedAt: clock.now() };
        if (book.accept(item) && book.queued >= config.maxBatchItems) scheduleIntake();
      } catch {
        // never throw into the gateway's hot path
      }
    },
    async flush() {
      if (phase !== "running") return;
      await runIntake(true);
      kickSender();
      await conditions.waitUntil(
        () =>
          (book.ready.length === 0 && !sending) ||
          phase !== "running" ||
          (!sending && (authPaused || retryAt > clock.now())),
      );
    },
    start() {
      if (phase !== "idle") return;
      phase = "running";
      recovered = book.recover();
      armFlushTimer();
      void recovered.then(() => {
        kickSender();
        if (book.queued >= config.maxBatchItems) scheduleIntake();
      });
    },
    stop(stopOptions = {}) {
      stopPromise ??= stopPipeline(stopOptions.timeoutMs ?? 5000);
      return stopPromise;
    },
    stats() {
      return {
        ...counters,
        ...book.stats(),
        ...(lastError ? { lastError: { ...lastError } } : {}),
        authPaused,
      };
    },
    redeliverDeadLetters: () =>
      redeliver().catch((error: unknown) => {
        book.diskTrouble("re-sending dead letters", error);
        return { files: 0, items: 0 };
      }),
    resumeAfterAuthChange() {
      clearTimer("auth");
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
    const sleep = (ms: number) => conditions.waitUntil(() => false, ms);
    const wasRunning = phase === "running";
    phase = wasRunning ? "stopping" : "stopped";
    clearTimer("flush");
    clearTimer("spool");
    if (wasRunning) {
      await Promise.race([runIntake(true), sleep(remaining())]);
      kickSender();
      const settledAll = () =>
        (book.ready.length === 0 && !sending) || authPaused || (!sending && retryAt >= deadline);
      // a healthy backend takes the rest at once; what it has not taken by the spool deadline goes
      // to disk, so a process killed during a slow stop loses no more than one killed while running
      const quick = await conditions.waitUntil(settledAll, Math.min(remaining(), config.spoolAfterMs));
      if (!quick) {
        await Promise.race([runSpool(true), sleep(remaining())]);
        await conditions.waitUntil(settledAll, remaining());
      }
    }
    phase = "stopped";
    clearTimer("retry");
    clearTimer("auth");
    inFlightAbort?.abort(new Error("the pipeline is stopping"));
    await Promise.race([sendLoop, sleep(Math.max(remaining(), 100))]);
    // what is still only in memory goes to disk now; without a spool it is lost, and counted
    await runIntake(true);
    const lost = await book.spoolRest();
    if (lost > 0)
      logger.warn(`${label}: ${lost} item(s) could not be delivered or spooled before stop and are lost`);
    conditions.notify();
  }
}

/** Waits on conditions over the pipeline's state, checked again each time that state moves. */
function createConditions(clock: {
  setTimer(run: () => void, ms: number): unknown;
  clearTimer(timer: unknown): void;
}) {
  const waiters = new Set<() => void>();
  return {
    notify() {
      for (const check of [...waiters]) check();
    },
    /** Resolves true once `condition` holds, or false after `timeoutMs`. */
    waitUntil(condition: () => boolean, timeoutMs?: number): Promise<boolean> {
      return new Promise((resolve) => {
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
    },
  };
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
