/**
 * Runs the daily consolidation: which days are due (ended, and `at` passed in the time zone),
 * which of those no gateway consolidated yet (the gateway was down, or the one that took the day
 * died), one gateway per day across a fleet (the store's lease), and the records for the fleet and
 * for each gateway. Runs never overlap in a process.
 */
import { type PackLogger } from "@clawscope/kit";
import type { Store } from "@clawscope/store";
import { type Consolidation } from "./domain/consolidation.js";
import { type ConsolidationRepository } from "./store/consolidation-repository.js";
export interface ConsolidatorOptions {
  store: Store;
  repository: ConsolidationRepository;
  /** This gateway's id: the lease holder. */
  holder: string;
  at: string;
  timeZone: string;
  catchUpDays: number;
  budget: {
    dailyUsd?: number;
    monthlyUsd?: number;
  };
  now: () => number;
  logger: Pick<PackLogger, "info" | "warn">;
}
export interface Consolidator {
  /** The day (in the time zone) that holds `time`: its start, end and `YYYY-MM-DD`. */
  dayOf(time: number): {
    from: number;
    to: number;
    date: string;
  };
  /** The start of the day named `YYYY-MM-DD`, or undefined when it is not a date. */
  dayNamed(date: string):
    | {
        from: number;
        to: number;
        date: string;
      }
    | undefined;
  /** Consolidates one day now (again, when it was); undefined when another gateway holds its lease. */
  run(date: string): Promise<Consolidation | undefined>;
  /**
   * Consolidates the due days without a consolidation, oldest first, from the day of the store's
   * first rollup on (a day with no traffic after that gets a consolidation that says so); says which.
   */
  catchUp(): Promise<string[]>;
}
export declare function createConsolidator(options: ConsolidatorOptions): Consolidator;
/** `HH:MM` as milliseconds after midnight; throws one line when it is not a time. */
export declare function parseAt(at: string): number;
//# sourceMappingURL=consolidator.d.ts.map
