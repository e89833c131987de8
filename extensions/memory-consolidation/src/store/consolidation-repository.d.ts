/**
 * What a consolidation reads and writes: the rollups of a window folded for the fleet and for each
 * gateway (read an hour at a time, so a day is never held whole), the month's cost so far, and the
 * consolidations themselves (upserted by scope and date: running a day again replaces it).
 */
import type { Store } from "@clawscope/store";
import type { Consolidation } from "../domain/consolidation.js";
import { type WindowFold } from "../domain/day-fold.js";
export declare const FLEET = "fleet";
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
export declare function createConsolidationRepository(store: Store): ConsolidationRepository;
//# sourceMappingURL=consolidation-repository.d.ts.map
