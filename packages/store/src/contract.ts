/**
 * The one contract every store adapter passes: SQLite in the unit tests, a real MongoDB-wire server
 * (FerretDB) in the integration tests. Sums are asserted exactly (the values are binary fractions,
 * so any summation order gives the same double): a server that miscomputes a `$group` is caught.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CollectionSpec, Store, StoreRecord } from "./store.js";
import { StoreError } from "./store.js";

/** A fresh, empty backing database per test; `open` may be called again on the same one. */
export interface StoreContractTarget {
  open(collections: readonly CollectionSpec[], options: { now: () => number }): Promise<Store>;
  dispose(): Promise<void>;
}

interface Rollup extends StoreRecord {
  ts: number;
  agent: string;
  model: string | null;
  ok: boolean;
  tokens: number;
  cost: number | string;
}

const ROLLUPS: CollectionSpec = {
  name: "metrics",
  timeField: "ts",
  indexes: [["agent", "model"], ["ok"]],
  retentionMs: 10_000,
};
const NOTES: CollectionSpec = { name: "notes" };

export function describeStoreContract(label: string, target: () => Promise<StoreContractTarget>): void {
  describe(`store contract: ${label}`, () => {
    let backing: StoreContractTarget;
    let clock = 1_000_000;
    const now = () => clock;
    const stores: Store[] = [];
    const open = async (collections: readonly CollectionSpec[] = [ROLLUPS, NOTES]): Promise<Store> => {
      const store = await backing.open(collections, { now });
      stores.push(store);
      return store;
    };

    beforeEach(async () => {
      clock = 1_000_000;
      backing = await target();
    });
    afterEach(async () => {
      for (const store of stores.splice(0)) await store.close();
      await backing.dispose();
    });

    const rollup = (index: number, overrides: Partial<Rollup> = {}): Rollup => ({
      id: `r${String(index).padStart(5, "0")}`,
      ts: 1_000_000 + index * 10,
      agent: index % 3 === 0 ? "main" : "ops",
      model: index % 2 === 0 ? "gpt" : "claude",
      ok: index % 5 !== 0,
      tokens: index,
      cost: index * 0.25,
      ...overrides,
    });

    it("upserts by id: a re-sent record replaces, never duplicates", async () => {
      const store = await open();
      const metrics = store.collection<Rollup>("metrics");
      expect(await metrics.upsert([rollup(1), rollup(2)])).toEqual({ written: 2 });
      await metrics.upsert([rollup(1), rollup(2, { tokens: 99 })]);
      expect(await metrics.count()).toBe(2);
      expect(await metrics.get("r00002")).toEqual(rollup(2, { tokens: 99 }));
      expect(await metrics.get("missing")).toBeUndefined();
      // a record comes back exactly as written, nested values and nulls included
      const nested = {
        id: "n1",
        ts: 5,
        deep: { list: [1, "two", { three: true }], none: null },
        text: "é\u0000\n",
      };
      await store.collection("notes").upsert([nested]);
      expect(await store.collection("notes").get("n1")).toEqual(nested);
      // keys that name things may hold dots or start with `$` (a model `gpt-4.1`, a tool)
      const named = { id: "n2", ts: 6, byModel: { "gpt-4.1": 3, $odd: { "a.b.c": [{ "x.y": 1 }] } } };
      await store.collection("notes").upsert([named]);
      expect(await store.collection("notes").get("n2")).toEqual(named);
      expect(await store.collection("notes").find({ where: { ts: 6 } })).toEqual([named]);
    });

    it("finds by indexed fields, membership, null and a time range, sorted and limited", async () => {
      const metrics = (await open()).collection<Rollup>("metrics");
      await metrics.upsert(Array.from({ length: 30 }, (_, index) => rollup(index + 1)));
      await metrics.upsert([rollup(31, { model: null })]);
      const main = await metrics.find({ where: { agent: "main" } });
      expect(main.map((record) => record.tokens)).toEqual([3, 6, 9, 12, 15, 18, 21, 24, 27, 30]);
      const both = await metrics.find({ where: { agent: "ops", model: "gpt" } });
      expect(both.every((record) => record.agent === "ops" && record.model === "gpt")).toBe(true);
      expect(both).toHaveLength(10);
      expect((await metrics.find({ where: { model: { in: ["claude", null] } } })).length).toBe(16);
      expect((await metrics.find({ where: { model: null } })).map((record) => record.id)).toEqual(["r00031"]);
      expect(await metrics.count({ where: { ok: false } })).toBe(6);
      expect(await metrics.count({ where: { agent: { in: [] } } })).toBe(0);
      // from inclusive, to exclusive
      const window = await metrics.find({ from: 1_000_050, to: 1_000_100 });
      expect(window.map((record) => record.tokens)).toEqual([5, 6, 7, 8, 9]);
      const latest = await metrics.find({ sort: { field: "ts", order: "desc" }, limit: 3 });
      expect(latest.map((record) => record.tokens)).toEqual([31, 30, 29]);
      const byTokens = await metrics.find({ where: { agent: "main" }, sort: { field: "tokens" }, limit: 2 });
      expect(byTokens.map((record) => record.tokens)).toEqual([3, 6]);
    });

    it("sums grouped by fields over a time range, exactly, ignoring values that are not numbers", async () => {
      const metrics = (await open()).collection<Rollup>("metrics");
      const records = Array.from({ length: 2500 }, (_, index) => rollup(index + 1));
      records.push(rollup(2501, { cost: "n/a" }));
      await metrics.upsert(records);
      const rows = await metrics.aggregate({ groupBy: ["agent", "model"], sum: ["tokens", "cost"] });
      const expected = new Map<string, { count: number; tokens: number; cost: number }>();
      for (const record of records) {
        const key = `${record.agent}|${record.model}`;
        const entry = expected.get(key) ?? { count: 0, tokens: 0, cost: 0 };
        entry.count += 1;
        entry.tokens += record.tokens;
        if (typeof record.cost === "number") entry.cost += record.cost;
        expected.set(key, entry);
      }
      expect(rows).toHaveLength(expected.size);
      for (const row of rows) {
        const entry = expected.get(`${row.group.agent}|${row.group.model}`);
        expect(entry, JSON.stringify(row.group)).toBeDefined();
        expect(row.count).toBe(entry?.count);
        expect(row.sums.tokens).toBe(entry?.tokens);
        expect(row.sums.cost).toBe(entry?.cost);
      }
      // no grouping: one row; a range; a boolean group keeps its type
      const [all] = await metrics.aggregate({ groupBy: [], sum: ["tokens"], from: 1_000_010, to: 1_000_110 });
      expect(all).toEqual({ group: {}, count: 10, sums: { tokens: 55 } });
      const byOk = await metrics.aggregate({ groupBy: ["ok"], sum: ["tokens"], where: { agent: "main" } });
      const ok = byOk.find((row) => row.group.ok === true);
      const failed = byOk.find((row) => row.group.ok === false);
      expect((ok?.count ?? 0) + (failed?.count ?? 0)).toBe(records.filter((r) => r.agent === "main").length);
      expect(failed?.sums.tokens).toBe(
        records.filter((r) => r.agent === "main" && !r.ok).reduce((sum, r) => sum + r.tokens, 0),
      );
      expect(await metrics.aggregate({ groupBy: ["agent"], sum: ["tokens"], from: 0, to: 1 })).toEqual([]);
    });

    it("deletes what retention no longer keeps, and only that", async () => {
      const store = await open();
      const metrics = store.collection<Rollup>("metrics");
      await metrics.upsert(Array.from({ length: 20 }, (_, index) => rollup(index)));
      await store.collection("notes").upsert([{ id: "kept", ts: 0 }]);
      expect(await metrics.deleteOlderThan(1_000_050)).toBe(5);
      expect(await metrics.count()).toBe(15);
      clock = 1_000_150 + 10_000; // retention 10 s: records before 1_000_150 go
      expect(await store.applyRetention()).toEqual({ metrics: 10 });
      expect(await metrics.count()).toBe(5);
      // no retention on notes: nothing there is deleted
      expect(await store.collection("notes").count()).toBe(1);
      expect(await store.counts()).toEqual({ metrics: 5, notes: 1 });
    });

    it("leases: one holder at a time, renewed by its holder, taken over after expiry, released", async () => {
      const store = await open();
      const first = await store.acquireLease("consolidate:2026-12-01", "gateway-a", 1000);
      expect(first).toEqual({
        name: "consolidate:2026-12-01",
        acquired: true,
        holder: "gateway-a",
        expiresAt: 1_001_000,
      });
      const refused = await store.acquireLease("consolidate:2026-12-01", "gateway-b", 1000);
      expect(refused).toMatchObject({ acquired: false, holder: "gateway-a", expiresAt: 1_001_000 });
      clock += 500;
      expect(await store.acquireLease("consolidate:2026-12-01", "gateway-a", 1000)).toMatchObject({
        acquired: true,
        expiresAt: 1_001_500,
      });
      clock += 1000; // a's lease ran out: b takes over
      expect(await store.acquireLease("consolidate:2026-12-01", "gateway-b", 1000)).toMatchObject({
        acquired: true,
        holder: "gateway-b",
      });
      expect(await store.acquireLease("consolidate:2026-12-01", "gateway-a", 1000)).toMatchObject({
        acquired: false,
        holder: "gateway-b",
      });
      expect(await store.releaseLease("consolidate:2026-12-01", "gateway-a")).toBe(false);
      expect(await store.releaseLease("consolidate:2026-12-01", "gateway-b")).toBe(true);
      expect((await store.acquireLease("consolidate:2026-12-01", "gateway-a", 1000)).acquired).toBe(true);
    });

    it("leases: of holders racing on two connections, exactly one wins", async () => {
      const one = await open();
      const two = await open();
      const attempts = await Promise.all(
        Array.from({ length: 12 }, (_, index) =>
          (index % 2 === 0 ? one : two).acquireLease("daily", `holder-${index}`, 60_000),
        ),
      );
      const winners = attempts.filter((attempt) => attempt.acquired);
      expect(winners).toHaveLength(1);
      for (const attempt of attempts) expect(attempt.holder).toBe(winners[0]?.holder);
    });

    it("refuses bad input with a StoreError that is not retryable", async () => {
      const store = await open();
      const metrics = store.collection("metrics");
      const refused = async (run: () => Promise<unknown>) => {
        const error = await run().then(
          () => undefined,
          (failure: unknown) => failure,
        );
        expect(error).toBeInstanceOf(StoreError);
        expect((error as StoreError).retryable).toBe(false);
      };
      await refused(() => metrics.upsert([{ id: "" }]));
      await refused(() => metrics.upsert([null as never]));
      await refused(() => metrics.find({ where: { "agent') OR 1=1 --": "x" } }));
      await refused(() => metrics.find({ sort: { field: "$where" } }));
      await refused(() => metrics.aggregate({ groupBy: ["a b"], sum: [] }));
      await refused(() => metrics.find({ from: Number.NaN }));
      await refused(() => store.acquireLease("", "a", 1000));
      expect(() => store.collection("undeclared")).toThrow(StoreError);
      expect(await metrics.count()).toBe(0);
    });

    it("migrates records to a new schema version at open, and refuses a version newer than the code", async () => {
      const v1 = await open([{ name: "notes" }]);
      await v1.collection("notes").upsert([
        { id: "a", title: "first" },
        { id: "b", title: "second" },
      ]);
      await v1.close();
      const v2 = await open([
        {
          name: "notes",
          version: 2,
          migrations: { 2: (record) => ({ ...record, heading: record.title, title: undefined }) },
        },
      ]);
      expect(await v2.collection("notes").get("a")).toEqual({ id: "a", heading: "first" });
      await v2.collection("notes").upsert([{ id: "c", heading: "third" }]);
      await v2.close();
      const error = await backing.open([{ name: "notes" }], { now }).then(
        (store) => {
          stores.push(store);
          return store.collection("notes").count();
        },
        (failure: unknown) => failure,
      );
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).code).toBe("schema");
    });
  });
}
