/**
 * Runs the daily consolidation: which days are due (ended, and `at` passed in the time zone),
 * which of those no gateway consolidated yet (the gateway was down, or the one that took the day
 * died), one gateway per day across a fleet (the store's lease), and the records for the fleet and
 * for each gateway. Runs never overlap in a process.
 */
import { type PackLogger, toSlots } from "@clawscope/kit";
import type { Store } from "@clawscope/store";
import type { MemoryConfig } from "./config.js";
import { type Consolidation, toConsolidation } from "./domain/consolidation.js";
import { createWindowFold, type WindowFold } from "./domain/day-fold.js";
import type { ToolWindow } from "./domain/tool-activity.js";
import { type ConsolidationRepository, FLEET, type ScopedFolds } from "./store/consolidation-repository.js";

const BASELINE_DAYS = 7;

export interface ConsolidatorOptions {
  store: Store;
  repository: ConsolidationRepository;
  /** This gateway's id: the lease holder. */
  holder: string;
  at: string;
  timeZone: string;
  catchUpDays: number;
  budget: { dailyUsd?: number; monthlyUsd?: number };
  /** How long a day's lease holds without its holder finishing; another gateway takes the day after it. */
  leaseMs: number;
  now: () => number;
  logger: Pick<PackLogger, "info" | "warn">;
}

export interface Consolidator {
  /** The day (in the time zone) that holds `time`: its start, end and `YYYY-MM-DD`. */
  dayOf(time: number): { from: number; to: number; date: string };
  /** The start of the day named `YYYY-MM-DD`, or undefined when it is not a date. */
  dayNamed(date: string): { from: number; to: number; date: string } | undefined;
  /** Consolidates one day now (again, when it was); undefined when another gateway holds its lease. */
  run(date: string): Promise<Consolidation | undefined>;
  /**
   * Consolidates the due days without a consolidation, oldest first, from the day of the store's
   * first rollup on (a day with no traffic after that gets a consolidation that says so); says which,
   * and until when another gateway holds the lease of a day it left (so the caller looks again then).
   */
  catchUp(): Promise<{ done: string[]; busyUntil?: number }>;
}

export function createConsolidator(options: ConsolidatorOptions): Consolidator {
  const days = toSlots({ every: "day", timeZone: options.timeZone });
  const atMs = parseAt(options.at);
  const label = new Intl.DateTimeFormat("en-CA", {
    timeZone: options.timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  });
  let chain: Promise<unknown> = Promise.resolve();
  let busyUntil: number | undefined;
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = chain.then(work, work);
    chain = next.catch(() => undefined);
    return next;
  };

  const dayOf = (time: number) => {
    const from = days.atOrBefore(time);
    const to = days.after(from);
    return { from, to, date: label.format(new Date(from)) };
  };
  const dayBefore = (day: { from: number }) => dayOf(day.from - 1);

  /** With `unlessDone`, a day found consolidated once the lease is held is left as it is. */
  const consolidate = async (day: { from: number; to: number; date: string }, unlessDone = false) => {
    const lease = await options.store.acquireLease(
      `consolidation:${day.date}`,
      options.holder,
      options.leaseMs,
    );
    if (!lease.acquired) {
      options.logger.info(`consolidation of ${day.date}: ${lease.holder} is on it`);
      busyUntil = Math.max(busyUntil ?? 0, lease.expiresAt);
      return undefined;
    }
    try {
      // another gateway may have finished the day and freed the lease since the caller looked
      if (unlessDone && (await options.repository.get(FLEET, day.date))) return undefined;
      const today = await options.repository.fold(day.from, day.to);
      const previous = dayBefore(day);
      const previousFolds = await options.repository.fold(previous.from, previous.to);
      const baseline: ScopedFolds[] = [previousFolds];
      let cursor = previous;
      for (let index = 1; index < BASELINE_DAYS; index += 1) {
        cursor = dayBefore(cursor);
        baseline.push(await options.repository.fold(cursor.from, cursor.to));
      }
      const dayOfMonth = Number(day.date.slice(8, 10));
      const [year, month] = [Number(day.date.slice(0, 4)), Number(day.date.slice(5, 7))];
      const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
      let monthStart = day;
      for (let index = 1; index < dayOfMonth; index += 1) monthStart = dayBefore(monthStart);
      // the baseline counts only days with any traffic in the scope: a gateway younger than a week
      // is compared with the days it has
      const pickBaseline = (pick: (folds: ScopedFolds) => WindowFold | undefined) =>
        baseline.map(pick).filter((fold): fold is WindowFold => fold !== undefined && fold.totals.turns > 0);
      const scopes = [FLEET, ...[...today.byGateway.keys()].sort()];
      const monthCost = await options.repository.costBetween(monthStart.from, day.to);
      const dayTools = await options.repository.tools(day.from, day.to);
      const toolsBefore = await options.repository.tools(cursor.from, day.from);
      const records: Consolidation[] = [];
      for (const scope of scopes) {
        const pick = (folds: ScopedFolds) => (scope === FLEET ? folds.fleet : folds.byGateway.get(scope));
        records.push(
          toConsolidation({
            scope,
            date: day.date,
            timeZone: options.timeZone,
            from: day.from,
            to: day.to,
            createdAt: options.now(),
            consolidatedBy: options.holder,
            day: pick(today) ?? createWindowFold(),
            previousDay: pick(previousFolds) ?? createWindowFold(),
            baselineDays: pickBaseline(pick),
            budget: options.budget,
            ...toolInput(
              scope === FLEET ? dayTools.fleet : dayTools.byGateway.get(scope),
              scope === FLEET ? toolsBefore.fleet : toolsBefore.byGateway.get(scope),
            ),
            month: {
              toDateUsd: scope === FLEET ? monthCost.fleet : (monthCost.byGateway.get(scope) ?? 0),
              dayOfMonth,
              daysInMonth,
            },
          }),
        );
      }
      await options.repository.save(records);
      const fleet = records[0] as Consolidation;
      options.logger.info(`consolidated ${day.date}: ${fleet.summary}`);
      return fleet;
    } finally {
      await options.store.releaseLease(`consolidation:${day.date}`, options.holder).catch(() => false);
    }
  };

  return {
    dayOf,
    dayNamed: named,
    run: (date) =>
      serial(async () => {
        const day = named(date);
        return day ? consolidate(day) : undefined;
      }),
    catchUp: () =>
      serial(async () => {
        const now = options.now();
        // the newest due day: the last one whose end plus `at` has passed
        let newest = dayBefore(dayOf(now));
        if (newest.to + atMs > now) newest = dayBefore(newest);
        const due: { from: number; to: number; date: string }[] = [];
        let cursor = newest;
        for (let index = 0; index < options.catchUpDays; index += 1) {
          due.unshift(cursor);
          cursor = dayBefore(cursor);
        }
        // days before the memory's first record are not missed days: nothing ran then
        const first = await options.repository.firstRollupAt();
        if (first === undefined) return { done: [] };
        const done: string[] = [];
        busyUntil = undefined;
        for (const day of due) {
          if (day.to <= first) continue;
          // a cheap look first (no lease written for a day long done); consolidate looks again under the lease
          if (await options.repository.get(FLEET, day.date)) continue;
          if (await consolidate(day, true)) done.push(day.date);
        }
        return busyUntil === undefined ? { done } : { done, busyUntil };
      }),
  };

  /** The day named `YYYY-MM-DD` in the time zone. */
  function named(date: string): { from: number; to: number; date: string } | undefined {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return undefined;
    const noon = Date.parse(`${date}T12:00:00Z`);
    if (!Number.isFinite(noon)) return undefined;
    const day = dayOf(noon);
    if (day.date === date) return day;
    // a time zone far from UTC puts noon UTC in the next or the previous day: step to the named one
    const other = day.date < date ? dayOf(day.to) : dayBefore(day);
    return other.date === date ? other : undefined;
  }
}

/** The consolidation's settings from config, with their defaults: one reading for the service and the CLI. */
export function toConsolidationSettings(
  config: Pick<MemoryConfig, "consolidation">,
): Pick<ConsolidatorOptions, "at" | "timeZone" | "catchUpDays" | "budget" | "leaseMs"> {
  const settings = config.consolidation ?? {};
  return {
    at: settings.at ?? "01:00",
    timeZone: settings.timeZone ?? "UTC",
    catchUpDays: settings.catchUpDays ?? 7,
    leaseMs: (settings.leaseSeconds ?? 600) * 1000,
    budget: {
      ...(settings.dailyBudgetUsd !== undefined ? { dailyUsd: settings.dailyBudgetUsd } : {}),
      ...(settings.monthlyBudgetUsd !== undefined ? { monthlyUsd: settings.monthlyBudgetUsd } : {}),
    },
  };
}

/** The tool part of a scope's consolidation input: its day's tools and the names seen before. */
function toolInput(day: ToolWindow | undefined, before: ToolWindow | undefined) {
  return {
    ...(day ? { tools: day } : {}),
    ...(before ? { toolsBefore: new Set(Object.keys(before.tools)) } : {}),
  };
}

/** `HH:MM` as milliseconds after midnight; throws one line when it is not a time. */
export function parseAt(at: string): number {
  const match = /^(\d{1,2}):(\d{2})$/.exec(at);
  const hours = Number(match?.[1]);
  const minutes = Number(match?.[2]);
  if (!match || hours > 23 || minutes > 59)
    throw new Error(`consolidation.at "${at}" is not a time of day (HH:MM)`);
  return (hours * 60 + minutes) * 60_000;
}
