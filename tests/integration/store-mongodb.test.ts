/**
 * The store's contract against a real MongoDB wire-protocol server (FerretDB, built from the Go
 * module proxy by the setup), plus what only a server can show: an outage in the middle of the
 * writes, and a server that refuses TTL indexes.
 */

import { openStore, StoreError } from "@clawscope/store";
import { describeStoreContract } from "@clawscope/store/contract";
import { type FerretDbServer, startFerretDb } from "@clawscope/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let server: FerretDbServer;
let database = 0;

beforeAll(async () => {
  server = await startFerretDb();
});
afterAll(async () => {
  await server?.dispose();
});

describeStoreContract("mongodb (FerretDB)", async () => {
  database += 1;
  const name = `contract_${process.pid}_${database}`;
  return {
    open: (collections, { now }) =>
      openStore({
        kind: "mongodb",
        uri: server.uri,
        database: name,
        collections,
        now,
        serverSelectionTimeoutMs: 3000,
      }),
    dispose: async () => undefined,
  };
});

describe("mongodb store on FerretDB", () => {
  it("says retention runs as scheduled deletes when the server refuses TTL indexes", async () => {
    const lines: string[] = [];
    const store = await openStore({
      kind: "mongodb",
      uri: server.uri,
      database: "ttl_probe",
      collections: [{ name: "alerts", retentionMs: 48 * 3_600_000 }],
      log: (_level, message) => lines.push(message),
    });
    expect(store.health()).toMatchObject({ kind: "mongodb", reachable: true, retention: "scheduled-delete" });
    expect(lines.some((line) => line.includes("scheduled deletes"))).toBe(true);
    await store.close();
  });

  it("opens for every gateway of a fleet starting at once on a new database", async () => {
    const collections = [
      { name: "metrics", indexes: [["gateway"]] },
      { name: "snapshots", retentionMs: 3_600_000 },
      { name: "consolidations" },
    ];
    // each round a new database: the gateways race on its indexes and schema versions
    for (let round = 0; round < 4; round += 1) {
      const stores = await Promise.all(
        [0, 1, 2, 3].map(() =>
          openStore({ kind: "mongodb", uri: server.uri, database: `fleet_start_${round}`, collections }),
        ),
      );
      for (const [index, store] of stores.entries()) {
        expect(store.health(), `round ${round}, gateway ${index}`).toMatchObject({ reachable: true });
        await store
          .collection("metrics")
          .upsert([{ id: `m-${index}`, ts: 1_000 + index, gateway: `g${index}`, turns: 1 }]);
      }
      expect(await stores[0]?.collection("metrics").count()).toBe(4);
      for (const store of stores) await store.close();
    }
  });

  it("a server stopped mid-run: writes fail retryable, nothing acknowledged is lost, nothing counted twice", async () => {
    let clock = 0;
    const store = await openStore({
      kind: "mongodb",
      uri: server.uri,
      database: "outage",
      collections: [{ name: "metrics" }],
      now: () => clock,
      serverSelectionTimeoutMs: 1500,
    });
    const metrics = store.collection("metrics");
    const acknowledged = new Set<string>();
    const batch = (from: number) =>
      Array.from({ length: 50 }, (_, i) => ({ id: `m${from + i}`, ts: from + i, n: 1 }));
    for (let from = 0; from < 200; from += 50) {
      await metrics.upsert(batch(from));
      for (const record of batch(from)) acknowledged.add(record.id);
    }
    await server.stop();
    const failed = await metrics.upsert(batch(200)).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(StoreError);
    expect(
      (failed as StoreError).retryable,
      String(failed) + " / " + String((failed as StoreError).cause?.constructor?.name),
    ).toBe(true);
    expect(store.health()).toMatchObject({ reachable: false });
    expect(store.health().lastError ?? "").not.toContain("password");
    await server.start();
    clock = 60_000;
    // the pipeline re-sends the failed batch and an overlapping one: idempotent by id
    await metrics.upsert(batch(200));
    await metrics.upsert(batch(180));
    for (const record of batch(200)) acknowledged.add(record.id);
    expect(await metrics.count()).toBe(acknowledged.size);
    const [total] = await metrics.aggregate({ groupBy: [], sum: ["n"] });
    expect(total?.sums.n).toBe(250);
    expect(store.health()).toMatchObject({ reachable: true });
    await store.close();
  }, 60_000);

  it("a MongoDB down at start: open resolves, writes fail retryable, and the URI's password never shows", async () => {
    const lines: string[] = [];
    const store = await openStore({
      kind: "mongodb",
      uri: "mongodb://clawscope:s3cret-pass@127.0.0.1:1/?authSource=admin",
      database: "nowhere",
      collections: [{ name: "metrics" }],
      serverSelectionTimeoutMs: 500,
      log: (_level, message) => lines.push(message),
    });
    const failed = await store
      .collection("metrics")
      .upsert([{ id: "a" }])
      .catch((error: unknown) => error);
    expect((failed as StoreError).retryable).toBe(true);
    const health = store.health();
    expect(health.reachable).toBe(false);
    expect(JSON.stringify(health)).not.toContain("s3cret-pass");
    expect(lines.join("\n")).not.toContain("s3cret-pass");
    expect(lines).toHaveLength(1);
    await store.close();
  }, 30_000);
});
