/**
 * What a consolidation reads and writes: the rollups of a window folded for the fleet and for each
 * gateway (read an hour at a time, so a day is never held whole), the month's cost so far, and the
 * consolidations themselves (upserted by scope and date: running a day again replaces it).
 */
import type { Store } from "@clawscope/store";
import type { Consolidation } from "../domain/consolidation.js";
import { createWindowFold, foldRollup, type WindowFold } from "../domain/day-fold.js";
import type { MinuteRollup } from "../domain/minute-rollup.js";

const HOUR_MS = 3_600_000;
export const FLEET = "fleet";

export interface ScopedFolds {
  fleet: WindowFold;
  byGateway: Map<string, WindowFold>;
}

export interface ConsolidationRepository {
  fold(from: number, to: number): Promise<ScopedFolds>;
  costBetween(from: number, to: number, gateway?: string): Promise<number>;
  save(records: readonly Consolidation[]): Promise<void>;
  get(scope: string, date: string): Promise<Consolidation | undefined>;
  latest(scope: string): Promise<Consolidation | undefined>;
  /** When the oldest rollup of any gateway is (undefined for an empty store). */
  firstRollupAt(): Promise<number | undefined>;
}

export function createConsolidationRepository(store: Store): ConsolidationRepository {
  const metrics = () => store.collection<MinuteRollup>("metrics");
  const consolidations = () => store.collection<Consolidation>("consolidations");
  return {
    async fold(from, to) {
      const folds: ScopedFolds = { fleet: createWindowFold(), byGateway: new Map() };
      for (let start = from; start < to; start += HOUR_MS) {
        const page = await metrics().find({ from: start, to: Math.min(to, start + HOUR_MS) });
        for (const rollup of page) {
          if (rollup.turns === 0) continue;
          foldRollup(folds.fleet, rollup);
          let own = folds.byGateway.get(rollup.gateway);
          if (!own) {
            own = createWindowFold();
            folds.byGateway.set(rollup.gateway, own);
          }
          foldRollup(own, rollup);
        }
      }
      return folds;
    },
    async costBetween(from, to, gateway) {
      const [row] = await metrics().aggregate({
        ...(gateway ? { where: { gateway } } : {}),
        from,
        to,
        groupBy: [],
        sum: ["costProviderUsd", "costEstimatedUsd"],
      });
      return (row?.sums.costProviderUsd ?? 0) + (row?.sums.costEstimatedUsd ?? 0);
    },
    async save(records) {
      if (records.length > 0) await consolidations().upsert(records);
    },
    get: (scope, date) => consolidations().get(`${scope}:${date}`),
    async firstRollupAt() {
      const [oldest] = await metrics().find({ sort: { field: "ts", order: "asc" }, limit: 1 });
      return oldest?.ts;
    },
    async latest(scope) {
      const [newest] = await consolidations().find({
        where: { scope },
        sort: { field: "ts", order: "desc" },
        limit: 1,
      });
      return newest;
    },
  };
}
