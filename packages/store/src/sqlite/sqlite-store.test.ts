import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { afterAll, describe, expect, it } from "vitest";
import { describeStoreContract } from "../contract.js";
import { openStore } from "../open-store.js";
import { StoreError } from "../store.js";
import { openSqliteStore } from "./sqlite-store.js";

const folders: string[] = [];
const freshFolder = () => {
  const folder = mkdtempSync(path.join(tmpdir(), "clawscope-store-"));
  folders.push(folder);
  return folder;
};
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

describeStoreContract("sqlite", async () => {
  const file = path.join(freshFolder(), "store.sqlite");
  return {
    open: (collections, { now }) => openStore({ kind: "sqlite", path: file, collections, now }),
    dispose: async () => undefined,
  };
});

describe("sqlite store", () => {
  it("moves a file that is not a database aside, names it in one line, and starts a new one", async () => {
    const folder = freshFolder();
    const file = path.join(folder, "store.sqlite");
    writeFileSync(file, "this is not a database, it is garbage ".repeat(200));
    const lines: string[] = [];
    const store = await openSqliteStore({
      path: file,
      collections: [{ name: "notes" }],
      now: () => Date.UTC(2026, 11, 4),
      log: (_level, message) => lines.push(message),
    });
    await store.collection("notes").upsert([{ id: "a" }]);
    expect(await store.collection("notes").count()).toBe(1);
    const aside = readdirSync(folder).find((name) => name.startsWith("store.sqlite.corrupt-"));
    expect(aside).toBeDefined();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(aside);
    expect(store.health()).toMatchObject({
      kind: "sqlite",
      reachable: true,
      movedAside: path.join(folder, aside ?? ""),
    });
    await store.close();
  });

  it("indexes a field list holding the time field on the time column, replacing the older JSON index", async () => {
    const file = path.join(freshFolder(), "store.sqlite");
    const { DatabaseSync } = await import("node:sqlite");
    // a store made before: its index on (entry, ts) held the JSON value of ts
    const legacy = new DatabaseSync(file);
    legacy.exec("CREATE TABLE c_events (id TEXT PRIMARY KEY, t REAL, v INTEGER NOT NULL, doc TEXT NOT NULL)");
    legacy.exec(
      `CREATE INDEX "i_events_0_entry_ts" ON c_events (json_extract(doc, '$.entry'), json_extract(doc, '$.ts'), t)`,
    );
    legacy.close();
    const collections = [{ name: "events", indexes: [["entry", "ts"], ["kind"]] }];
    const store = await openSqliteStore({ path: file, collections, now: () => 0 });
    const events = store.collection<{ id: string; entry: string; ts: number; kind: string }>("events");
    await events.upsert(
      Array.from({ length: 50 }, (_, index) => ({
        id: `e${index}`,
        entry: index % 2 ? "a" : "b",
        ts: index,
        kind: "k",
      })),
    );
    const latest = await events.find({
      where: { entry: "a" },
      sort: { field: "ts", order: "desc" },
      limit: 2,
    });
    expect(latest.map((event) => event.ts)).toEqual([49, 47]);
    await store.close();
    const db = new DatabaseSync(file);
    const indexes = db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'c_events' AND sql IS NOT NULL",
      )
      .all()
      .map((row) => String(row.name))
      .sort();
    expect(indexes).toEqual(["i_events_1_kind", "i_events_t", "it_events_0_entry_ts"]);
    // the newest occurrences of one entry come from the index, without sorting the documents
    const plan = db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT doc FROM c_events WHERE json_extract(doc, '$.entry') = ? ORDER BY t DESC, id DESC LIMIT 2`,
      )
      .all("a")
      .map((row) => String(row.detail))
      .join("; ");
    expect(plan).toContain("it_events_0_entry_ts");
    // (ties on the time are put in id order as they stream: never a sort of the whole entry)
    expect(plan).not.toContain("TEMP B-TREE FOR ORDER BY");
    db.close();
  });

  it("an unopenable store does not throw at open: operations fail retryable until it opens", async () => {
    const folder = freshFolder();
    // a file where the folder should be: the store's folder cannot be created
    writeFileSync(path.join(folder, "blocked"), "");
    let clock = 0;
    const lines: string[] = [];
    const store = await openStore({
      kind: "sqlite",
      path: path.join(folder, "blocked", "store.sqlite"),
      collections: [{ name: "notes" }],
      now: () => clock,
      log: (_level, message) => lines.push(message),
    });
    const error = await store
      .collection("notes")
      .upsert([{ id: "a" }])
      .catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).retryable).toBe(true);
    expect(store.health()).toMatchObject({ reachable: false, downSince: 0 });
    expect(lines).toHaveLength(1);
    rmSync(path.join(folder, "blocked"));
    clock = 10_000;
    await store.collection("notes").upsert([{ id: "a" }]);
    expect(await store.collection("notes").count()).toBe(1);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain("reachable again");
    await store.close();
  });

  it("a burst of 10 000 upserts never holds the event loop for long", async () => {
    const store = await openStore({
      kind: "sqlite",
      path: path.join(freshFolder(), "store.sqlite"),
      collections: [{ name: "metrics", indexes: [["agent", "model"]] }],
    });
    const records = Array.from({ length: 10_000 }, (_, index) => ({
      id: `m${index}`,
      ts: 1_700_000_000_000 + index * 60_000,
      agent: `agent-${index % 7}`,
      model: `model-${index % 5}`,
      tokens: { input: index, output: index * 2 },
      cost: index * 0.000_125,
    }));
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    await store.collection("metrics").upsert(records);
    delay.disable();
    expect(await store.collection("metrics").count()).toBe(10_000);
    // 200 records per transaction: a few milliseconds each, far under what a caller would notice
    expect(delay.max / 1e6).toBeLessThan(250);
    await store.close();
  });

  it("loses nothing acknowledged and counts nothing twice when the writer is killed with SIGKILL mid-batch", {
    timeout: 60_000,
  }, async () => {
    const folder = freshFolder();
    const file = path.join(folder, "store.sqlite");
    const script = path.join(folder, "writer.mts");
    writeFileSync(
      script,
      `import { openSqliteStore } from ${JSON.stringify(path.resolve(import.meta.dirname, "sqlite-store.ts"))};
const store = await openSqliteStore({ path: ${JSON.stringify(file)}, collections: [{ name: "metrics" }], chunkSize: 50 });
const metrics = store.collection("metrics");
for (let batch = 0; ; batch += 1) {
  // each batch re-sends the previous one's last 10 records, as a pipeline retry would
  const start = Math.max(0, batch * 100 - 10);
  const records = Array.from({ length: batch * 100 + 100 - start }, (_, i) => ({ id: "r" + (start + i), ts: start + i, n: 1 }));
  await metrics.upsert(records);
  process.stdout.write("acked " + (batch * 100 + 100) + "\\n");
}
`,
    );
    const child = spawn(process.execPath, ["--import", "tsx", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let acked = 0;
    await new Promise<void>((resolve, reject) => {
      child.once("exit", (code) => reject(new Error(`the writer exited (${code}) before it was killed`)));
      child.stdout.setEncoding("utf8");
      child.stdout.on("data", (text: string) => {
        for (const match of text.matchAll(/acked (\d+)/g)) acked = Math.max(acked, Number(match[1]));
        if (acked >= 3000 && child.exitCode === null) {
          child.kill("SIGKILL");
          resolve();
        }
      });
    });
    if (child.exitCode === null && child.signalCode === null)
      await new Promise((resolve) => child.once("exit", resolve));
    const store = await openSqliteStore({ path: file, collections: [{ name: "metrics" }] });
    const metrics = store.collection("metrics");
    const count = await metrics.count();
    expect(count).toBeGreaterThanOrEqual(acked);
    for (const id of [0, Math.floor(acked / 2), acked - 1]) expect(await metrics.get(`r${id}`)).toBeDefined();
    // one record per id: the re-sent ones were replaced, not added
    const [sum] = await metrics.aggregate({ groupBy: [], sum: ["n"] });
    expect(sum?.sums.n).toBe(count);
    expect(await metrics.count({ from: 0, to: acked })).toBe(acked);
    await store.close();
  });
});
