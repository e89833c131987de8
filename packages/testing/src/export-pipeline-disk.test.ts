/**
 * The export pipeline when its spool disk fails: full (ENOSPC) and read-only (EROFS), on a real
 * tmpfs this test mounts (tests run as root here and in CI), or — where mounting is not allowed —
 * through injected file-system errors of the same codes. Nothing acknowledged may be lost: data
 * stays in memory within its bound, what goes beyond is counted, and all of it is delivered once
 * space returns.
 */
import { execFileSync } from "node:child_process";
import * as fsPromises from "node:fs/promises";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createExportPipeline, type ExportPipelineOptions } from "../../kit/src/export/export-pipeline.js";
import { classifyHttpResponse } from "../../kit/src/export/http-result.js";
import type { SpoolFs } from "../../kit/src/export/spool.js";
import type { SendBatch } from "../../kit/src/export/types.js";
import type { KitLogger } from "../../kit/src/runtime/logger.js";
import { createHttpReceiver, type HttpReceiver, waitFor } from "./http-receiver.js";

/** A disk whose faults the test turns on and off: a tmpfs it remounts, or injected errors. */
interface TestDisk {
  dir: string;
  kind: "tmpfs" | "injected";
  fill(): void;
  makeReadOnly(): void;
  restore(): void;
  fs?: SpoolFs;
  dispose(): Promise<void>;
}

async function createTestDisk(): Promise<TestDisk> {
  const dir = await mkdtemp(join(tmpdir(), "clawscope-disk-"));
  const mount = (...args: string[]) => execFileSync("mount", args, { stdio: "ignore" });
  try {
    // CLAWSCOPE_TEST_NO_MOUNT=1 exercises the injected faults where mounting would work too
    if (process.env.CLAWSCOPE_TEST_NO_MOUNT === "1") throw new Error("mounting switched off");
    mount("-t", "tmpfs", "-o", "size=40k", "tmpfs", dir);
    return {
      dir,
      kind: "tmpfs",
      fill: () => mount("-o", "remount,size=40k", dir),
      makeReadOnly: () => mount("-o", "remount,ro", dir),
      restore: () => mount("-o", "remount,rw,size=8m", dir),
      async dispose() {
        execFileSync("umount", [dir], { stdio: "ignore" });
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch {
    // not allowed to mount here: the same error codes, injected into the spool's writes
    let fault: "ENOSPC" | "EROFS" | undefined = "ENOSPC";
    const failing =
      <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
      (...args: A): Promise<R> => {
        if (fault !== undefined) {
          const error = Object.assign(new Error(`${fault}: injected`), { code: fault });
          return Promise.reject(error);
        }
        return call(...args);
      };
    const fs: SpoolFs = {
      ...fsPromises,
      writeFile: failing(fsPromises.writeFile) as SpoolFs["writeFile"],
      rename: failing(fsPromises.rename) as SpoolFs["rename"],
    };
    return {
      dir,
      kind: "injected",
      fs,
      fill: () => {
        fault = "ENOSPC";
      },
      makeReadOnly: () => {
        fault = "EROFS";
      },
      restore: () => {
        fault = undefined;
      },
      dispose: () => rm(dir, { recursive: true, force: true }),
    };
  }
}

function createHttpSend(url: string): SendBatch<unknown> {
  return async (items, signal) => {
    const response = await fetch(`${url}/v1/items`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ items: items.map((item) => ({ id: item.id, payload: item.payload })) }),
      signal,
    });
    await response.arrayBuffer();
    return classifyHttpResponse(response.status, response.headers);
  };
}

const deliveredIds = (receiver: HttpReceiver): string[] =>
  receiver.requests
    .filter((request) => request.status === 200)
    .flatMap((request) =>
      ((request.json as { items?: { id: string }[] })?.items ?? []).map((item) => item.id),
    );
const ids = (count: number, prefix: string) =>
  Array.from({ length: count }, (_, index) => `${prefix}-${index}`);
const payload = { text: "p".repeat(400) };

describe("export pipeline on a failing disk", () => {
  let disk: TestDisk;
  let receiver: HttpReceiver;
  let lines: string[];
  const stops: (() => Promise<void>)[] = [];
  const logger: KitLogger = {
    info: (message) => lines.push(`info ${message}`),
    warn: (message) => lines.push(`warn ${message}`),
    error: (message) => lines.push(`error ${message}`),
  };
  const open = (name: string, options: Partial<ExportPipelineOptions<unknown>> = {}) => {
    const pipeline = createExportPipeline<unknown>({
      name,
      send: createHttpSend(receiver.url),
      spoolDir: join(disk.dir, name),
      flushIntervalMs: 20,
      maxBatchItems: 10,
      retry: { initialDelayMs: 20, maxDelayMs: 100 },
      diskRetryMs: 100,
      logger,
      ...(disk.fs ? { spoolFs: disk.fs } : {}),
      ...options,
    });
    stops.push(() => pipeline.stop({ timeoutMs: 200 }));
    return pipeline;
  };

  beforeEach(async () => {
    disk = await createTestDisk();
    receiver = await createHttpReceiver();
    lines = [];
  });
  afterEach(async () => {
    await Promise.all(stops.splice(0).map((stop) => stop()));
    await receiver.close();
    disk.restore();
    await disk.dispose();
  });

  it("full disk: one clear line, data kept in memory, every item delivered once space returns", async () => {
    await receiver.down();
    disk.fill();
    const pipeline = open("full");
    pipeline.start();
    for (const id of ids(150, "full")) pipeline.enqueue(id, payload);
    await pipeline.flush();
    await waitFor(() => lines.some((line) => line.includes("the disk is full")), 3000);
    const diskLines = lines.filter((line) => line.includes("the disk is full"));
    expect(diskLines).toHaveLength(1);
    expect(diskLines[0]).toMatch(
      /^error clawscope: export full: writing the spool failed: the disk is full \(/,
    );
    const stats = pipeline.stats();
    expect(stats.pendingMemory + stats.pendingSpool).toBe(150);
    expect(Object.values(stats.dropped).reduce((sum, count) => sum + (count ?? 0), 0)).toBe(0);
    // space returns, then the backend: everything arrives, once
    disk.restore();
    await receiver.up();
    await waitFor(() => pipeline.stats().exported === 150, 10_000);
    expect(new Set(deliveredIds(receiver))).toEqual(new Set(ids(150, "full")));
    expect(deliveredIds(receiver)).toHaveLength(150);
    expect(pipeline.stats().dropped).toMatchObject({ queueFull: 0, spoolFull: 0, rejected: 0, corrupt: 0 });
  });

  it("read-only disk: the same, and the spool takes writes again once it is writable", async () => {
    await receiver.down();
    // the disk turns read-only under a running gateway (a file system remounted after an error)
    await fsPromises.mkdir(join(disk.dir, "readonly", "dead-letter"), { recursive: true });
    disk.makeReadOnly();
    const pipeline = open("readonly");
    pipeline.start();
    for (const id of ids(60, "ro")) pipeline.enqueue(id, payload);
    await pipeline.flush();
    await waitFor(() => lines.some((line) => line.includes("the disk is read-only")), 3000);
    expect(pipeline.stats().pendingMemory).toBe(60);
    disk.restore();
    // the memory-only batches go to disk once it takes writes again (a crash would not lose them)
    for (const id of ids(10, "ro-after")) pipeline.enqueue(id, payload);
    await waitFor(() => pipeline.stats().pendingSpool === 70, 5000);
    await receiver.up();
    await waitFor(() => pipeline.stats().exported === 70, 10_000);
    expect(new Set(deliveredIds(receiver))).toEqual(new Set([...ids(60, "ro"), ...ids(10, "ro-after")]));
  });

  it("beyond the memory bound, what cannot be kept is counted and said, and the rest arrives", async () => {
    await receiver.down();
    disk.fill();
    const pipeline = open("bounded", { maxQueueItems: 100 });
    pipeline.start();
    for (const id of ids(130, "b")) pipeline.enqueue(id, payload);
    await pipeline.flush();
    const kept = pipeline.stats().pendingMemory + pipeline.stats().pendingSpool;
    const dropped = pipeline.stats().dropped.queueFull;
    expect(kept + dropped).toBe(130);
    expect(dropped).toBeGreaterThan(0);
    expect(lines.some((line) => line.includes("queue full"))).toBe(true);
    disk.restore();
    await receiver.up();
    await waitFor(() => pipeline.stats().exported === kept, 10_000);
    expect(deliveredIds(receiver)).toHaveLength(kept);
  });
});
