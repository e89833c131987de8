/**
 * What a consolidation reads and writes: the rollups of a window folded for the fleet and for each
 * gateway (read an hour at a time, so a day is never held whole), the month's cost so far, and the
 * consolidations themselves (upserted by scope and date: running a day again replaces it).
 */
import type { Store } from "@clawscope/store";
import type { Consolidation } from "../domain/consolidation.js";
import { createWindowFold, foldRollup, type WindowFold } from "../domain/day-fold.js";
import type { MinuteRollup } from "../domain/minute-rollup.js";
import {
  createToolWindow,
  foldToolActivity,
  type ToolActivity,
  type ToolWindow,
} from "../domain/tool-activity.js";

const PAGE_MS = 86_400_000;
export const FLEET = "fleet";

export interface ScopedFolds {
  fleet: WindowFold;
  byGateway: Map<string, WindowFold>;
}

export interface ConsolidationRepository {
  fold(from: number, to: number): Promise<ScopedFolds>;
  /** Tool activity between `from` and `to`, for the fleet and by gateway. */
  tools(from: number, to: number): Promise<{ fleet: ToolWindow; byGateway: Map<string, ToolWindow> }>;
  /** Cost (provider + estimated) between `from` and `to`, for the fleet and by gateway, in one query. */
  costBetween(from: number, to: number): Promise<{ fleet: number; byGateway: Map<string, number> }>;
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
      // pages of a day: on a server that cannot use the index for a range (FerretDB), each query is a
      // scan, so few large pages cost far less than many small ones; a day of rollups fits in memory
      for (let start = from; start < to; start += PAGE_MS) {
        const page = await metrics().find({ from: start, to: Math.min(to, start + PAGE_MS) });
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
    async tools(from, to) {
      const fleet = createToolWindow();
      const byGateway = new Map<string, ToolWindow>();
      for (let start = from; start < to; start += PAGE_MS) {
        const page = await store
          .collection<ToolActivity>("tool_rollups")
          .find({ from: start, to: Math.min(to, start + PAGE_MS) });
        for (const activity of page) {
          foldToolActivity(fleet, activity);
          let own = byGateway.get(activity.gateway);
          if (!own) {
            own = createToolWindow();
            byGateway.set(activity.gateway, own);
          }
          foldToolActivity(own, activity);
        }
      }
      return { fleet, byGateway };
    },
    async costBetween(from, to) {
      const rows = await metrics().aggregate({
        from,
        to,
        groupBy: ["gateway"],
        sum: ["costProviderUsd", "costEstimatedUsd"],
      });
      const byGateway = new Map<string, number>();
      let fleet = 0;
      for (const row of rows) {
        const cost = (row.sums.costProviderUsd ?? 0) + (row.sums.costEstimatedUsd ?? 0);
        byGateway.set(String(row.group.gateway), cost);
        fleet += cost;
      }
      return { fleet, byGateway };
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
