/**
 * The export pipeline's books: where every item is, from `enqueue` until it is delivered, refused
 * or dropped. Items wait in a queue, are cut into batches, and each batch lives in memory, on disk
 * (the spool) or both. This file owns that state, the disk, the dead letters and the loss counters;
 * it never decides when to send or retry (that is the delivery loop in `export-pipeline.ts`).
 */
import { basename } from "node:path";
import { toLogText } from "../privacy/log-text.js";
import { describeError } from "../runtime/describe-error.js";
import { createItemQueue } from "./item-queue.js";
import type { ResolvedPipelineOptions } from "./pipeline-options.js";
import type { SpoolEntry } from "./spool.js";
import { createSpool, toSpoolLine } from "./spool.js";
import type { ExportItem, PipelineStats } from "./types.js";

/** One batch: cut from the queue (or read back from the spool), sent and settled as a whole. */
export interface Batch<T> {
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

/** A batch just cut, with its serialized body (what the spool would write). */
export interface Cut<T> {
  batch: Batch<T>;
  body: string;
}

/** The counters of {@link PipelineStats} that the books keep. */
export type BookStats = Pick<
  PipelineStats,
  | "spooled"
  | "deadLettered"
  | "pendingMemory"
  | "pendingSpool"
  | "spoolBytes"
  | "dropped"
  | "deadLetterPending"
>;

/** What {@link createBatchBook} returns. */
export interface BatchBook<T> {
  /** Batches ready to send, oldest first. */
  readonly ready: readonly Batch<T>[];
  /** Items waiting to be cut into batches. */
  readonly queued: number;
  /** Items in memory only: queued, or cut but not on disk. What a crash would lose. */
  readonly memoryItems: number;
  /** Items in the spool. */
  readonly spooledItems: number;
  readonly hasSpool: boolean;
  /** Queues an item; false (and counted as dropped) when memory is full. */
  accept(item: ExportItem<T>): boolean;
  /** Counts an item that arrived after stop. */
  dropAfterStop(): void;
  /** Cuts the next batch off the queue, bounded by count and bytes; undefined when nothing is queued. */
  cutBatch(): Cut<T> | undefined;
  /** Appends batches to the ready list. */
  append(batches: readonly Batch<T>[]): void;
  /** Writes batches to disk; on any failure a batch simply stays in memory. */
  persist(cuts: readonly Cut<T>[]): Promise<void>;
  /**
   * Writes batches still waiting in memory to the spool: those due (`spoolAfterMs` after their cut,
   * the one in flight included), or all of them. Kept in memory, and tried again later, while the disk fails.
   */
  spoolWaiting(all: boolean): Promise<void>;
  /** When the oldest batch in memory falls due for the spool (or the disk may be tried again); undefined when none waits. */
  nextSpoolDueAt(): number | undefined;
  /** Marks the batch being sent: the spool's bound never drops it. */
  markInFlight(batch: Batch<T> | undefined): void;
  /** Items of a batch, read back from disk when not held in memory; undefined when none could be read. Throws on a read error. */
  itemsOf(batch: Batch<T>): Promise<ExportItem<T>[] | undefined>;
  /** A batch whose spool file vanished before it was read back: its items are lost, and counted. */
  vanished(batch: Batch<T>): void;
  /** A batch whose spool file holds nothing readable: moved aside into `dead-letter/` for inspection. */
  quarantine(batch: Batch<T>): Promise<void>;
  /**
   * A batch done with (delivered, or refused as a whole): out of the books and off the disk. The
   * items the backend refused (`refused`, maybe none) go to the dead letters.
   */
  retire(batch: Batch<T>, refused: ExportItem<T>[], reason: string): Promise<void>;
  /** A batch the backend found too large: replaced by its two halves, in its place. */
  split(batch: Batch<T>, items: ExportItem<T>[]): Promise<void>;
  /** Picks up the spool files left by a previous process. */
  recover(): Promise<void>;
  /** Puts the dead letters back at the end of the ready list; says how many. */
  redeliver(): Promise<{ files: number; items: number }>;
  /** Notes a disk failure: logged once in a while, and the disk left alone for `diskRetryMs`. */
  diskTrouble(what: string, error: unknown): void;
  /** At the end of stop: spools what is only in memory; counts and returns what could not be. */
  spoolRest(): Promise<number>;
  stats(): BookStats;
}

/** Batches cut or written together per step: enough to keep up with bursts, small enough not to stall the loop. */
export const INTAKE_GROUP = 4;
export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Creates the books of one pipeline; `noteError` records the pipeline's last error. */
export function createBatchBook<T>(
  config: ResolvedPipelineOptions<T>,
  noteError: (message: string) => void,
): BatchBook<T> {
  const { clock, logger } = config;
  const label = `export ${config.name}`;
  const spool = config.spoolDir
    ? createSpool({
        dir: config.spoolDir,
        maxDeadLetterBytes: config.maxDeadLetterBytes,
        ...(config.spoolFs ? { fs: config.spoolFs } : {}),
      })
    : undefined;

  const pending = createItemQueue<ExportItem<T>>();
  const ready: Batch<T>[] = [];
  const dropped = { queueFull: 0, spoolFull: 0, tooLarge: 0, rejected: 0, corrupt: 0, shutdown: 0 };
  let spooledTotal = 0;
  let deadLettered = 0;
  let memoryOnlyItems = 0; // cut into batches but not on disk
  let spooledItems = 0;
  let heldItems = 0; // spooled items whose copy is also kept in memory
  let deadLetterItems = 0;
  let nextSeq = 1;
  let diskRetryAt = 0;
  let spoolCredit = 0; // bytes about to be freed (a batch being split), not counted against the bound
  let inFlight: Batch<T> | undefined;
  let loaded: { batch: Batch<T>; items: ExportItem<T>[] } | undefined;

  const toBody = (items: readonly ExportItem<T>[]) => items.map((item) => toSpoolLine(item)).join("");
  const newBatch = (items: ExportItem<T>[], bytes: number): Batch<T> => {
    memoryOnlyItems += items.length;
    return {
      seq: nextSeq++,
      itemCount: items.length,
      bytes,
      items,
      entry: undefined,
      cutAt: clock.now(),
      settled: false,
    };
  };
  /** Builds a batch from items already out of the queue (the halves of a split, re-sent dead letters). */
  const toCut = (items: ExportItem<T>[]): Cut<T> => {
    const body = toBody(items);
    return { batch: newBatch(items, Buffer.byteLength(body)), body };
  };

  const diskTrouble = (what: string, error: unknown) => {
    diskRetryAt = clock.now() + config.diskRetryMs;
    noteError(`${what}: ${describeError(error)}`);
    logger.limited(
      "error",
      `${label}:disk`,
      `${label}: ${what} failed: ${toDiskReason(error)} (${describeError(error)}) in ${config.spoolDir}; new data is kept in memory (at most ${config.maxQueueItems} items, beyond that counted as dropped) and the disk is tried again every ${toDuration(config.diskRetryMs)}`,
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

  const persist = async (cuts: readonly Cut<T>[]) => {
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
        spooledTotal += batch.itemCount;
        // keep a copy in memory while the budget allows, so the happy path never reads the disk back
        if (heldItems + batch.itemCount > config.maxQueueItems) batch.items = undefined;
        else heldItems += batch.itemCount;
      }),
    );
  };

  const cutBatch = (): Cut<T> | undefined => {
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
    return { batch: newBatch(items, bytes), body: lines.join("") };
  };

  const waitsInMemory = (batch: Batch<T>) => !batch.entry && !batch.settled && batch.items !== undefined;

  const spoolWaiting = async (all: boolean) => {
    while (spool !== undefined && memoryOnlyItems > 0 && clock.now() >= diskRetryAt) {
      const now = clock.now();
      const group = ready
        .filter((batch) =>
          all
            ? !batch.entry && batch.items !== undefined
            : waitsInMemory(batch) && batch.cutAt + config.spoolAfterMs <= now,
        )
        .slice(0, INTAKE_GROUP)
        .map((batch) => ({ batch, body: toBody(batch.items ?? []) }));
      if (group.length === 0) return;
      await persist(group);
      if (group.every((cut) => !cut.batch.entry)) return;
      await yieldToEventLoop();
    }
  };

  /** Keeps refused items in `dead-letter/` (bounded); without room (or a spool) they are dropped, and counted as such. */
  const deadLetter = async (seq: number, items: ExportItem<T>[], reason: string): Promise<void> => {
    if (items.length === 0) return;
    const written = spool
      ? await spool.deadLetter(seq, toBody(items), reason, items.length).catch((error: unknown) => {
          diskTrouble("writing the dead-letter file", error);
          return false;
        })
      : false;
    if (written) {
      deadLettered += items.length;
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
    if (!spool) return { files: 0, items: 0 };
    let files = 0;
    let moved = 0;
    for (const file of await spool.listDeadLetters()) {
      const read = await spool.readDeadLetter<T>(file.path);
      for (let start = 0; start < read.items.length; start += config.maxBatchItems) {
        const cut = toCut(read.items.slice(start, start + config.maxBatchItems));
        await persist([cut]);
        ready.push(cut.batch);
      }
      await spool.removeDeadLetter(file.path, file.bytes);
      deadLetterItems = Math.max(0, deadLetterItems - (file.items || read.items.length));
      files += 1;
      moved += read.items.length;
    }
    if (moved > 0) logger.info(`${label}: ${moved} dead-lettered item(s) from ${files} file(s) queued again`);
    return { files, items: moved };
  };

  return {
    ready,
    get queued() {
      return pending.size;
    },
    get memoryItems() {
      return pending.size + memoryOnlyItems;
    },
    get spooledItems() {
      return spooledItems;
    },
    hasSpool: spool !== undefined,
    accept(item) {
      if (pending.size + memoryOnlyItems >= config.maxQueueItems) {
        dropped.queueFull += 1;
        logger.limited(
          "warn",
          `${label}:queue-full`,
          `${label}: queue full (${config.maxQueueItems} items in memory); dropping new items`,
        );
        return false;
      }
      pending.push(item);
      return true;
    },
    dropAfterStop() {
      dropped.shutdown += 1;
    },
    cutBatch,
    append(batches) {
      ready.push(...batches);
    },
    persist,
    spoolWaiting,
    nextSpoolDueAt() {
      if (!spool || memoryOnlyItems === 0) return undefined;
      const oldest = ready.find(waitsInMemory);
      return oldest ? Math.max(oldest.cutAt + config.spoolAfterMs, diskRetryAt) : undefined;
    },
    markInFlight(batch) {
      inFlight = batch;
    },
    itemsOf,
    vanished(batch) {
      discard(batch);
      dropped.corrupt += batch.itemCount;
      logger.limited(
        "error",
        `${label}:missing`,
        `${label}: spool file ${batch.entry?.path} disappeared; ${batch.itemCount} item(s) lost`,
      );
    },
    async quarantine(batch) {
      discard(batch);
      if (batch.entry && spool) await spool.quarantine(batch.entry).catch(() => removeFile(batch.entry));
    },
    async retire(batch, refused, reason) {
      discard(batch);
      await deadLetter(batch.seq, refused, reason);
      await removeFile(batch.entry);
    },
    async split(batch, items) {
      const middle = Math.ceil(items.length / 2);
      const halves = [toCut(items.slice(0, middle)), toCut(items.slice(middle))];
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
    },
    recover,
    redeliver,
    diskTrouble,
    async spoolRest() {
      for (const batch of [...ready]) {
        if (batch.entry || !batch.items) continue;
        await persist([{ batch, body: toBody(batch.items) }]);
      }
      const lost = pending.size + memoryOnlyItems;
      dropped.shutdown += lost;
      return lost;
    },
    stats() {
      return {
        spooled: spooledTotal,
        deadLettered,
        pendingMemory: pending.size + memoryOnlyItems,
        pendingSpool: spooledItems,
        spoolBytes: spool?.bytes ?? 0,
        dropped: { ...dropped },
        deadLetterPending: deadLetterItems,
      };
    },
  };
}

function toDiskReason(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === "ENOSPC" || code === "EDQUOT") return "the disk is full";
  if (code === "EROFS") return "the disk is read-only";
  if (code === "EACCES" || code === "EPERM") return "the spool is not writable";
  if (code === "ENOENT") return "the spool folder cannot be created";
  return "the disk failed";
}

function toDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}
