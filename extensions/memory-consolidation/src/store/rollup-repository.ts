/**
 * Minute rollups over the store: a minute is recomputed from its turn facts (sums grouped by the
 * dimensions and the latency bucket, done by the store) and written whole. Recomputing is
 * idempotent, so it is safe after any crash, retry or late fact.
 */
import type { Store } from "@clawscope/store";
import { type MinuteRollup, toMinuteRollups } from "../domain/minute-rollup.js";
import { type ToolActivity, toToolActivity } from "../domain/tool-activity.js";
import { MINUTE_MS, ROLLUP_DIMENSIONS, ROLLUP_FIGURES, type TurnFact } from "../domain/turn-fact.js";

export interface RollupRepository {
  /** Recomputes and writes the rollups of these minutes for `gateway`; resolves to the records written. */
  rollUp(gateway: string, minutes: Iterable<number>): Promise<number>;
  /** The minutes that hold facts of `gateway` in [from, to). */
  minutesWithFacts(gateway: string, from: number, to: number): Promise<number[]>;
  /** Rollups of `gateway` (or every gateway) in [from, to). */
  rollups(query: { gateway?: string; from: number; to: number }): Promise<MinuteRollup[]>;
}

export function createRollupRepository(store: Store): RollupRepository {
  const facts = () => store.collection<TurnFact>("turn_facts");
  const metrics = () => store.collection<MinuteRollup>("metrics");
  const toolRollups = () => store.collection<ToolActivity>("tool_rollups");
  return {
    async rollUp(gateway, minutes) {
      let written = 0;
      for (const minute of [...new Set(minutes)].sort((a, b) => a - b)) {
        const range = { where: { gateway }, from: minute, to: minute + MINUTE_MS };
        const rows = await facts().aggregate({
          ...range,
          groupBy: [...ROLLUP_DIMENSIONS, "latencyBucket"],
          sum: [...ROLLUP_FIGURES],
        });
        const previous = await metrics().find(range);
        const records = toMinuteRollups(gateway, minute, rows, previous);
        if (records.length > 0) written += (await metrics().upsert(records)).written;
        // the minute's tools and error categories, written whole like the rollups
        const minuteFacts = await facts().find(range);
        if (minuteFacts.length > 0)
          await toolRollups().upsert([toToolActivity(gateway, minute, minuteFacts)]);
      }
      return written;
    },
    async minutesWithFacts(gateway, from, to) {
      const rows = await facts().aggregate({ where: { gateway }, from, to, groupBy: ["ts"], sum: [] });
      return rows
        .map((row) => row.group.ts)
        .filter((value): value is number => typeof value === "number")
        .sort((a, b) => a - b);
    },
    rollups({ gateway, from, to }) {
      return metrics().find({ ...(gateway ? { where: { gateway } } : {}), from, to, sort: { field: "ts" } });
    },
  };
}
