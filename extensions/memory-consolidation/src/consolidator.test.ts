import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { openStore } from "@clawscope/store";
import { describe, expect, it } from "vitest";
import { createConsolidator } from "./consolidator.js";
import type { MinuteRollup } from "./domain/minute-rollup.js";
import { makeRollup } from "./domain/rollup-fixture.js";
import { COLLECTIONS } from "./store/collections.js";
import { createConsolidationRepository, FLEET } from "./store/consolidation-repository.js";

const DAY = 86_400_000;

describe("consolidator", () => {
  it("does not consolidate a day again in catch-up when another gateway finished it after the first look", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "consolidator-"));
    const store = await openStore({
      kind: "sqlite",
      path: path.join(dir, "store.sqlite"),
      collections: COLLECTIONS,
    });
    try {
      const yesterday = Math.floor(Date.now() / DAY) * DAY - DAY;
      const now = () => yesterday + DAY + 2 * 3_600_000;
      await store
        .collection<MinuteRollup>("metrics")
        .upsert([makeRollup("gw-a@1", yesterday + 60_000, "m", { turns: 3, costUsd: 0.01 })]);
      const settings = { at: "01:00", timeZone: "UTC", catchUpDays: 1, budget: {}, leaseMs: 60_000, now };
      const logger = { info: () => undefined, warn: () => undefined };
      const a = createConsolidator({
        ...settings,
        store,
        repository: createConsolidationRepository(store),
        holder: "gw-a@1",
        logger,
      });
      // gateway b looked before a finished: its first look finds nothing, the later ones what is there
      const repository = createConsolidationRepository(store);
      let looks = 0;
      const b = createConsolidator({
        ...settings,
        store,
        repository: {
          ...repository,
          get: (scope, date) => (looks++ === 0 ? Promise.resolve(undefined) : repository.get(scope, date)),
        },
        holder: "gw-b@1",
        logger,
      });
      const date = new Date(yesterday).toISOString().slice(0, 10);
      expect((await a.run(date))?.consolidatedBy).toBe("gw-a@1");
      expect(await b.catchUp()).toEqual({ done: [] });
      expect((await repository.get(FLEET, date))?.consolidatedBy).toBe("gw-a@1");
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
