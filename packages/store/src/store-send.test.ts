import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createExportPipeline, type ExportItem } from "@clawscope/kit";
import { afterEach, describe, expect, it } from "vitest";
import { openSqliteStore } from "./sqlite/sqlite-store.js";
import { type Collection, StoreError, type StoreRecord } from "./store.js";
import { toStoreSend } from "./store-send.js";

interface Metric extends StoreRecord {
  at: number;
  turns: number;
}

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), "clawscope-store-send-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const item = (id: string, payload: unknown): ExportItem<Metric> => ({
  id,
  payload: payload as Metric,
  enqueuedAt: 0,
});

describe("toStoreSend", () => {
  it("maps store failures to the pipeline's kinds: the store's trouble waits, the data's is dead-lettered", async () => {
    const failWith = (error: unknown) =>
      toStoreSend({
        name: "metrics",
        upsert: async () => {
          throw error;
        },
      });
    for (const code of ["unavailable", "full", "read-only", "corrupt", "closed"] as const) {
      const result = await failWith(new StoreError(code, `store is ${code}`))([item("a", { id: "a" })]);
      expect(result).toEqual({
        kind: "retry",
        reason: `store metrics: store is ${code}`,
        failure: { cause: `${code}: store is ${code}` },
      });
    }
    for (const code of ["invalid", "schema", "rejected"] as const) {
      expect((await failWith(new StoreError(code, "no"))([item("a", { id: "a" })])).kind).toBe("reject");
    }
    expect(await failWith(new Error("socket hang up"))([item("a", { id: "a" })])).toMatchObject({
      kind: "retry",
    });
  });

  it("writes through a spooled pipeline: waits out an unavailable store, delivers each record once, sets a bad one aside in the dead letters and writes the rest of its batch", async () => {
    const dir = tempDir();
    const store = await openSqliteStore({
      path: path.join(dir, "state.sqlite"),
      collections: [{ name: "metrics", timeField: "at" }],
    });
    const real = store.collection<Metric>("metrics");
    let down = 2; // the first two writes find the store unavailable
    let writes = 0;
    const flaky: Pick<Collection<Metric>, "name" | "upsert"> = {
      name: "metrics",
      async upsert(records) {
        writes += 1;
        if (down > 0) {
          down -= 1;
          throw new StoreError("unavailable", "database is locked");
        }
        return real.upsert(records);
      },
    };
    const pipeline = createExportPipeline<Metric>({
      name: "metrics",
      send: toStoreSend(flaky),
      spoolDir: path.join(dir, "spool"),
      flushIntervalMs: 10,
      maxBatchItems: 10,
      retry: { initialDelayMs: 5, maxDelayMs: 20 },
    });
    pipeline.start();
    for (let minute = 0; minute < 25; minute++) {
      pipeline.enqueue(`m-${minute}`, { id: `m-${minute}`, at: minute * 60_000, turns: minute });
    }
    pipeline.enqueue("bad", { at: 1 } as unknown as Metric); // no id: the store refuses it
    await pipeline.flush();
    const deadline = Date.now() + 5000;
    while (pipeline.stats().exported < 25 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    await pipeline.stop({ timeoutMs: 1000 });
    expect(writes).toBeGreaterThan(2);
    expect(await real.count()).toBe(25);
    const sums = await real.aggregate({ groupBy: [], sum: ["turns"] });
    expect(sums[0]?.sums.turns).toBe((24 * 25) / 2);
    expect(pipeline.stats()).toMatchObject({
      exported: 25,
      deadLettered: 1,
      pendingSpool: 0,
      pendingMemory: 0,
    });
    // the batch holding the bad record is kept for an operator, not lost
    const deadLetters = readdirSync(path.join(dir, "spool", "dead-letter"));
    expect(deadLetters.length).toBeGreaterThan(0);
    expect(
      deadLetters.map((file) => readFileSync(path.join(dir, "spool", "dead-letter", file), "utf8")).join(""),
    ).toContain("a record needs a string id");
    await store.close();
  });
});
