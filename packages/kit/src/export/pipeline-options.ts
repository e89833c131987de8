/** Options of the export pipeline, their defaults, and the clock seam that lets tests run fast. */
import type { KitLogger, PackLogger } from "../runtime/logger.js";
import { createPackLogger } from "../runtime/logger.js";
import type { SpoolFs } from "./spool.js";
import type { SendBatch } from "./types.js";

/** Time source and timers; the default uses `Date.now` and unref'd `setTimeout`. */
export interface PipelineClock {
  now(): number;
  setTimer(callback: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

/** Options for `createExportPipeline`. */
export interface ExportPipelineOptions<T> {
  /** Names the pipeline in log lines, e.g. `"otlp-traces"`. */
  name: string;
  /** Turns one batch into one request; see {@link SendBatch}. */
  send: SendBatch<T>;
  /** Directory for the durable spool (under the plugin's state dir). Absent: memory only. */
  spoolDir?: string;
  /** Items held in memory that are not on disk; beyond this new items are dropped (default 10 000). */
  maxQueueItems?: number;
  /** Items per batch (default 512). */
  maxBatchItems?: number;
  /** Bytes per batch, measured on the JSON of the items (default 1 MiB). */
  maxBatchBytes?: number;
  /** A partial batch is cut after this long (default 5000 ms). */
  flushIntervalMs?: number;
  /**
   * A batch goes to the spool when its send fails, when it is still undelivered this long after it
   * was cut, or at stop; a healthy backend never costs a disk write (default 2000 ms). 0 writes every
   * batch before its first attempt.
   */
  spoolAfterMs?: number;
  /** Bound of the spool; the oldest batches are dropped beyond it (default 256 MiB). */
  maxSpoolBytes?: number;
  /** Bound on the number of batch files, which also bounds the bookkeeping in memory (default 100 000). */
  maxSpoolFiles?: number;
  /** Bound of `<spoolDir>/dead-letter/` (default 16 MiB). */
  maxDeadLetterBytes?: number;
  /**
   * Backoff between attempts (full jitter). A backend's `Retry-After` is honoured up to
   * `maxRetryAfterMs` (default: `maxDelayMs`), so no wait is ever longer than the operator allows.
   */
  retry?: { initialDelayMs?: number; maxDelayMs?: number; multiplier?: number; maxRetryAfterMs?: number };
  /** After a 401/403, the longest wait between single probing requests (default: the retry's `maxDelayMs`). */
  authRetryMs?: number;
  /** One `send` is aborted after this long (default 30 000 ms). */
  requestTimeoutMs?: number;
  /** Where problems are reported; a plain host logger is wrapped so repeats are rate-limited. */
  logger?: KitLogger | PackLogger;
  /** Injectable time source and timers (tests). */
  clock?: PipelineClock;
  /** Injectable randomness for jitter (tests). */
  random?: () => number;
  /** After a disk error, the spool is tried again after this long (default 10 000 ms). */
  diskRetryMs?: number;
  /** Test seam: the spool's file-system calls. */
  spoolFs?: SpoolFs;
}

/** Options with every default filled in. */
export interface ResolvedPipelineOptions<T> {
  name: string;
  send: SendBatch<T>;
  spoolDir: string | undefined;
  maxQueueItems: number;
  maxBatchItems: number;
  maxBatchBytes: number;
  flushIntervalMs: number;
  spoolAfterMs: number;
  maxSpoolBytes: number;
  maxSpoolFiles: number;
  maxDeadLetterBytes: number;
  retry: { initialDelayMs: number; maxDelayMs: number; multiplier: number; maxRetryAfterMs: number };
  authRetryMs: number;
  requestTimeoutMs: number;
  logger: PackLogger;
  clock: PipelineClock;
  random: () => number;
  diskRetryMs: number;
  spoolFs: SpoolFs | undefined;
}

const MIB = 1024 * 1024;
/** How long a batch may wait for its first delivery before it is written to disk. */
export const DEFAULT_SPOOL_AFTER_MS = 2000;

/** The default clock: timers are unref'd so a pipeline never keeps the gateway process alive. */
export const systemClock: PipelineClock = {
  now: () => Date.now(),
  setTimer(callback, delayMs) {
    const handle = setTimeout(callback, Math.max(0, delayMs));
    handle.unref?.();
    return handle;
  },
  clearTimer(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

const silentLogger: KitLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

function count(value: unknown, fallback: number, minimum = 1): number {
  return typeof value === "number" && Number.isFinite(value) && value >= minimum
    ? Math.floor(value)
    : fallback;
}

function isPackLogger(logger: KitLogger | PackLogger): logger is PackLogger {
  return (
    typeof (logger as PackLogger).limited === "function" && typeof (logger as PackLogger).once === "function"
  );
}

/** Fills in defaults; out-of-range numbers fall back to the default rather than throw. */
export function resolvePipelineOptions<T>(options: ExportPipelineOptions<T>): ResolvedPipelineOptions<T> {
  const name = typeof options.name === "string" && options.name !== "" ? options.name : "export";
  const base = options.logger ?? silentLogger;
  const retry = options.retry ?? {};
  const maxDelayMs = count(retry.maxDelayMs, 60_000, 0);
  return {
    name,
    send: options.send,
    spoolDir: typeof options.spoolDir === "string" && options.spoolDir !== "" ? options.spoolDir : undefined,
    maxQueueItems: count(options.maxQueueItems, 10_000),
    maxBatchItems: count(options.maxBatchItems, 512),
    maxBatchBytes: count(options.maxBatchBytes, MIB),
    flushIntervalMs: count(options.flushIntervalMs, 5000),
    spoolAfterMs: count(options.spoolAfterMs, DEFAULT_SPOOL_AFTER_MS, 0),
    maxSpoolBytes: count(options.maxSpoolBytes, 256 * MIB, 0),
    maxSpoolFiles: count(options.maxSpoolFiles, 100_000),
    maxDeadLetterBytes: count(options.maxDeadLetterBytes, 16 * MIB, 0),
    retry: {
      initialDelayMs: count(retry.initialDelayMs, 1000, 0),
      maxDelayMs,
      multiplier: typeof retry.multiplier === "number" && retry.multiplier >= 1 ? retry.multiplier : 2,
      maxRetryAfterMs: Math.min(count(retry.maxRetryAfterMs, maxDelayMs, 0), maxDelayMs),
    },
    authRetryMs: Math.min(count(options.authRetryMs, maxDelayMs), maxDelayMs),
    requestTimeoutMs: count(options.requestTimeoutMs, 30_000),
    logger: isPackLogger(base) ? base : createPackLogger(base, "clawscope"),
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
    diskRetryMs: count(options.diskRetryMs, 10_000),
    spoolFs: options.spoolFs,
  };
}
