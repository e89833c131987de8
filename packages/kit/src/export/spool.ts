/**
 * The on-disk half of the export pipeline: one JSON-lines file per batch, written atomically
 * (temp file + rename) and named by a growing sequence so a restarted process resumes oldest first.
 * Only `fs/promises`: nothing here blocks the event loop. The pipeline decides policy (what to
 * evict, when); this file only does I/O and keeps the byte count.
 */
import * as fsPromises from "node:fs/promises";
import { join } from "node:path";
import type { ExportItem } from "./types.js";

/** One batch file on disk. */
export interface SpoolEntry {
  seq: number;
  path: string;
  bytes: number;
  /** Items the file was written with (from its name). */
  itemCount: number;
}

/** What reading a batch file gave. */
export interface SpoolReadResult<T> {
  items: ExportItem<T>[];
  /** Items that could not be read back (garbage lines, or lines missing against the count in the name). */
  corrupt: number;
}

/** The file-system calls the spool makes: `node:fs/promises` unless a test injects faults. */
export type SpoolFs = Pick<
  typeof fsPromises,
  "mkdir" | "readdir" | "readFile" | "rename" | "stat" | "unlink" | "writeFile"
>;

/** Options for {@link createSpool}. */
export interface SpoolOptions {
  dir: string;
  /** Bound of the `dead-letter/` directory in bytes. */
  maxDeadLetterBytes: number;
  /** Test seam: file-system calls (default `node:fs/promises`). */
  fs?: SpoolFs;
}

/** Batch files under one directory, plus a bounded `dead-letter/` directory beside them. */
export interface Spool {
  readonly dir: string;
  readonly deadLetterDir: string;
  /** Bytes of live batch files. */
  readonly bytes: number;
  readonly files: number;
  /** Creates the directories; lists batch files oldest first; removes temp files of interrupted writes. */
  recover(): Promise<{ entries: SpoolEntry[]; unreadable: string[]; removedTemp: number }>;
  /** Creates the directories (used again after a disk error). */
  ensureDirs(): Promise<void>;
  write(seq: number, body: string, itemCount: number): Promise<SpoolEntry>;
  read<T>(entry: SpoolEntry): Promise<SpoolReadResult<T>>;
  /** Deletes a batch file; a file already gone is fine. */
  remove(entry: SpoolEntry): Promise<void>;
  /** Writes a rejected batch to `dead-letter/`; false when that directory is full. */
  deadLetter(seq: number, body: string, reason: string, itemCount?: number): Promise<boolean>;
  /** Moves an unreadable batch file into `dead-letter/` for inspection, or deletes it when that is full. */
  quarantine(entry: SpoolEntry): Promise<void>;
  /** The dead-letter files of rejected batches (not quarantined ones), oldest first, with their item counts. */
  listDeadLetters(): Promise<Array<{ path: string; bytes: number; items: number }>>;
  /** The items of one dead-letter file (its header line left out). */
  readDeadLetter<T>(file: string): Promise<SpoolReadResult<T>>;
  /** Deletes a dead-letter file once its items are back in the spool. */
  removeDeadLetter(file: string, bytes: number): Promise<void>;
}

const BATCH_FILE = /^batch-(\d{1,16})-(\d{1,9})\.jsonl$/;
const TEMP_SUFFIX = ".tmp";

/** The file name of batch `seq` with `itemCount` items; the count in the name lets a restart account without reading. */
export function toSpoolFileName(seq: number, itemCount: number): string {
  return `batch-${String(seq).padStart(12, "0")}-${itemCount}.jsonl`;
}

/** A dead-letter file of a rejected batch: `rejected-<seq>-<time>[-<count>].jsonl`. */
const DEAD_LETTER_FILE = /^rejected-(\d{1,16})-(\d{1,16})(?:-(\d{1,9}))?\.jsonl$/;

/** One JSON line of a batch file. */
export function toSpoolLine<T>(item: ExportItem<T>): string {
  return `${JSON.stringify({ id: item.id, enqueuedAt: item.enqueuedAt, payload: item.payload ?? null })}\n`;
}

/** Reads the lines of a batch file; garbage lines are counted, never thrown. */
export function parseSpoolBody<T>(body: string, expectedCount: number): SpoolReadResult<T> {
  const items: ExportItem<T>[] = [];
  let garbage = 0;
  for (const line of body.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const value = JSON.parse(line) as { id?: unknown; enqueuedAt?: unknown; payload?: unknown };
      if (value && typeof value === "object" && typeof value.id === "string" && "payload" in value) {
        const enqueuedAt = typeof value.enqueuedAt === "number" ? value.enqueuedAt : 0;
        items.push({ id: value.id, enqueuedAt, payload: value.payload as T });
        continue;
      }
    } catch {
      // counted below
    }
    garbage += 1;
  }
  return { items, corrupt: Math.max(garbage, expectedCount - items.length) };
}

function errorCode(error: unknown): string | undefined {
  return error && typeof error === "object" && "code" in error ? String(error.code) : undefined;
}

/** Creates a {@link Spool} over `options.dir` (nothing touches the disk until a method is called). */
export function createSpool(options: SpoolOptions): Spool {
  const { mkdir, readdir, readFile, rename, stat, unlink, writeFile } = options.fs ?? fsPromises;
  const dir = options.dir;
  const deadLetterDir = join(dir, "dead-letter");
  let bytes = 0;
  let files = 0;
  let deadLetterBytes = 0;
  let deadLetterCounted = false;
  // an entry is subtracted from the totals once, however often it is removed
  const gone = new WeakSet<SpoolEntry>();

  const ensureDirs = async (): Promise<void> => {
    await mkdir(deadLetterDir, { recursive: true });
  };

  const countDeadLetter = async (): Promise<void> => {
    if (deadLetterCounted) return;
    let total = 0;
    for (const name of await readdir(deadLetterDir).catch(() => [] as string[])) {
      total += await stat(join(deadLetterDir, name)).then(
        (info) => info.size,
        () => 0,
      );
    }
    deadLetterBytes = total;
    deadLetterCounted = true;
  };

  return {
    dir,
    deadLetterDir,
    get bytes() {
      return bytes;
    },
    get files() {
      return files;
    },
    ensureDirs,
    async recover() {
      await ensureDirs();
      const entries: SpoolEntry[] = [];
      const unreadable: string[] = [];
      let removedTemp = 0;
      for (const name of await readdir(dir)) {
        const path = join(dir, name);
        if (name.endsWith(TEMP_SUFFIX)) {
          // an interrupted write: its items were still in the dead process's memory
          await unlink(path).then(
            () => (removedTemp += 1),
            () => undefined,
          );
          continue;
        }
        const match = BATCH_FILE.exec(name);
        if (!match) {
          if (name !== "dead-letter") unreadable.push(name);
          continue;
        }
        const info = await stat(path).catch(() => undefined);
        if (!info?.isFile()) continue;
        entries.push({ seq: Number(match[1]), path, bytes: info.size, itemCount: Number(match[2]) });
      }
      entries.sort((left, right) => left.seq - right.seq);
      bytes = entries.reduce((sum, entry) => sum + entry.bytes, 0);
      files = entries.length;
      await countDeadLetter();
      return { entries, unreadable, removedTemp };
    },
    async write(seq, body, itemCount) {
      const path = join(dir, toSpoolFileName(seq, itemCount));
      const temp = path + TEMP_SUFFIX;
      try {
        await writeFile(temp, body, "utf8");
        await rename(temp, path);
      } catch (error) {
        await unlink(temp).catch(() => undefined);
        throw error;
      }
      const entry = { seq, path, bytes: Buffer.byteLength(body), itemCount };
      bytes += entry.bytes;
      files += 1;
      return entry;
    },
    async read<T>(entry: SpoolEntry) {
      const body = await readFile(entry.path, "utf8");
      return parseSpoolBody<T>(body, entry.itemCount);
    },
    async remove(entry) {
      if (gone.has(entry)) return;
      gone.add(entry);
      try {
        await unlink(entry.path);
      } catch (error) {
        if (errorCode(error) !== "ENOENT") throw error;
      } finally {
        bytes = Math.max(0, bytes - entry.bytes);
        files = Math.max(0, files - 1);
      }
    },
    async deadLetter(seq, body, reason, itemCount) {
      await countDeadLetter();
      const header = `${JSON.stringify({ deadLetter: { reason, at: new Date().toISOString() } })}\n`;
      const size = Buffer.byteLength(header) + Buffer.byteLength(body);
      if (deadLetterBytes + size > options.maxDeadLetterBytes) return false;
      await ensureDirs();
      const count = itemCount === undefined ? "" : `-${itemCount}`;
      const path = join(
        deadLetterDir,
        `rejected-${String(seq).padStart(12, "0")}-${Date.now()}${count}.jsonl`,
      );
      await writeFile(path + TEMP_SUFFIX, header + body, "utf8");
      await rename(path + TEMP_SUFFIX, path);
      deadLetterBytes += size;
      return true;
    },
    async listDeadLetters() {
      const found: Array<{ path: string; bytes: number; items: number; seq: number }> = [];
      for (const name of await readdir(deadLetterDir).catch(() => [] as string[])) {
        const match = DEAD_LETTER_FILE.exec(name);
        if (!match) continue;
        const path = join(deadLetterDir, name);
        const info = await stat(path).catch(() => undefined);
        if (!info?.isFile()) continue;
        found.push({ path, bytes: info.size, items: Number(match[3] ?? 0), seq: Number(match[1]) });
      }
      found.sort((left, right) => left.seq - right.seq || (left.path < right.path ? -1 : 1));
      return found.map(({ path, bytes, items }) => ({ path, bytes, items }));
    },
    async readDeadLetter<T>(file: string) {
      const body = await readFile(file, "utf8");
      // the first line is the header saying why the batch was refused
      const lines = body.split("\n");
      return parseSpoolBody<T>(lines.slice(1).join("\n"), 0);
    },
    async removeDeadLetter(file, size) {
      try {
        await unlink(file);
      } catch (error) {
        if (errorCode(error) !== "ENOENT") throw error;
      }
      deadLetterBytes = Math.max(0, deadLetterBytes - size);
    },
    async quarantine(entry) {
      await countDeadLetter();
      if (deadLetterBytes + entry.bytes <= options.maxDeadLetterBytes) {
        const target = join(
          deadLetterDir,
          `corrupt-${Date.now()}-${toSpoolFileName(entry.seq, entry.itemCount)}`,
        );
        const moved = await rename(entry.path, target).then(
          () => true,
          () => false,
        );
        if (moved) {
          gone.add(entry);
          deadLetterBytes += entry.bytes;
          bytes = Math.max(0, bytes - entry.bytes);
          files = Math.max(0, files - 1);
          return;
        }
      }
      await this.remove(entry);
    },
  };
}
