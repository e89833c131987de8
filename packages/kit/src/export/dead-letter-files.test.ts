import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { moveDeadLettersToSpool } from "./dead-letter-files.js";
import { createExportPipeline } from "./export-pipeline.js";
import type { ExportItem, SendResult } from "./types.js";

describe("moveDeadLettersToSpool (openclaw clawscope redeliver, gateway down)", () => {
  let stateDir: string;
  beforeEach(async () => {
    stateDir = await mkdtemp(join(tmpdir(), "clawscope-redeliver-"));
  });
  afterEach(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it("puts refused batches back into their spool, where the next start sends them, each item once", async () => {
    const spoolDir = join(stateDir, "spool", "traces");
    const delivered: string[] = [];
    let refuse = true;
    const send = async (items: ExportItem<unknown>[]): Promise<SendResult> => {
      if (refuse) return { kind: "reject", reason: "HTTP 400" };
      delivered.push(...items.map((item) => item.id));
      return { kind: "ok" };
    };
    const first = createExportPipeline({
      name: "traces",
      send,
      spoolDir,
      flushIntervalMs: 20,
      maxBatchItems: 3,
    });
    first.start();
    for (const id of ["a", "b", "c", "d", "e"]) first.enqueue(id, { id });
    await first.flush();
    await first.stop({ timeoutMs: 200 });
    expect(first.stats().deadLettered).toBe(5);
    expect(await readdir(join(spoolDir, "dead-letter"))).toHaveLength(2);

    const moved = await moveDeadLettersToSpool(stateDir);
    expect(moved).toEqual([{ spoolDir, files: 2, items: 5 }]);
    expect(await readdir(join(spoolDir, "dead-letter"))).toEqual([]);

    refuse = false;
    const next = createExportPipeline({
      name: "traces",
      send,
      spoolDir,
      flushIntervalMs: 20,
      maxBatchItems: 3,
    });
    next.start();
    await next.flush();
    await next.stop({ timeoutMs: 200 });
    expect(delivered.sort()).toEqual(["a", "b", "c", "d", "e"]);
    expect(await moveDeadLettersToSpool(stateDir)).toEqual([]);
  });
});
