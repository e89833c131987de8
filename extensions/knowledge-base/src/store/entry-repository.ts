/**
 * Issue entries over the store. An entry is recomputed from the store, never counted up in memory:
 * its count, first and last seen and affected agents, channels, models and gateways come from the
 * occurrences of every gateway of a fleet (idempotent by id, so nothing is doubled), its status from
 * those and the operator's actions. Two gateways recomputing one entry at once write the same thing.
 */
import type { Collection, Store, Where } from "@clawscope/store";
import {
  deriveEntryStatus,
  type EntryDecision,
  type EntryExample,
  findEscalation,
  findReturnAfterQuiet,
  type HourCount,
  type IssueEntry,
  type NameCount,
  toBaselinePerHour,
  toTraceLink,
  toTrend,
} from "../domain/issue-entry.js";
import type { Occurrence } from "../domain/occurrence.js";

const DAY_MS = 86_400_000;
/** Names kept per affected dimension (the rest are summed under `other`). */
const MAX_AFFECTED = 20;
const MAX_EXAMPLES = 5;

/** An operator action on an entry (`kb_actions`). */
export type EntryAction = {
  id: string;
  ts: number;
  entry: string;
  action: "resolve" | "archive" | "reopen" | "merge";
  /** The entry a merge moved this one into. */
  into?: string;
  actor: string;
  baselinePerHour?: number;
};

export interface EntryRepositorySettings {
  quietAfterMs: number;
  traceLinks: Readonly<Record<string, string | undefined>>;
  now: () => number;
  /** Called after an entry was written: `previous` is undefined when it was created. */
  onChange?: (entry: IssueEntry, previous: IssueEntry | undefined) => void;
}

export interface EntryRepository {
  readonly entries: Collection<IssueEntry>;
  readonly occurrences: Collection<Occurrence>;
  readonly actions: Collection<EntryAction>;
  /** Recomputes an entry from the store and writes it; undefined when it has no occurrence. */
  recompute(id: string): Promise<IssueEntry | undefined>;
  /** The entry an occurrence grouped under `id` counts towards (itself, or where it was merged). */
  resolveTarget(id: string): Promise<string>;
}

/**
 * Lets the event loop run between two of a recompute's store reads: the embedded SQLite answers
 * synchronously, and a hot issue's reads would otherwise hold the gateway for all of them at once.
 */
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export function createEntryRepository(store: Store, settings: EntryRepositorySettings): EntryRepository {
  const entries = store.collection<IssueEntry>("knowledge_base");
  const occurrences = store.collection<Occurrence>("kb_occurrences");
  const actions = store.collection<EntryAction>("kb_actions");

  const decisionOf = async (id: string): Promise<EntryDecision> => {
    const list = await actions.find({ where: { entry: id }, sort: { field: "ts", order: "asc" } });
    const decision: EntryDecision = {};
    for (const action of list) {
      if (action.action === "resolve") {
        decision.resolvedAt = action.ts;
        delete decision.archivedAt;
      } else if (action.action === "archive") {
        decision.archivedAt = action.ts;
        decision.archivedBaselinePerHour = action.baselinePerHour ?? 0;
        delete decision.resolvedAt;
      } else if (action.action === "reopen") {
        delete decision.resolvedAt;
        delete decision.archivedAt;
        delete decision.mergedInto;
      } else if (action.action === "merge" && action.into) decision.mergedInto = action.into;
    }
    return decision;
  };

  const sourcesOf = async (id: string): Promise<string[]> => {
    const merged = await actions.find({ where: { into: id, action: "merge" } });
    const sources = new Set<string>();
    for (const action of merged) {
      // a merge later undone (reopen) no longer feeds this entry
      if ((await decisionOf(action.entry)).mergedInto === id) sources.add(action.entry);
    }
    return [...sources];
  };

  /**
   * Who and where an entry affected: one pass over its occurrences grouped by the four fields at
   * once (each pass reads every occurrence's document, so four passes cost four times as much),
   * then counted per field.
   */
  const affectedOf = async (where: Where): Promise<IssueEntry["affected"]> => {
    const fields = ["agent", "channel", "model", "gateway"] as const;
    await yieldToLoop();
    const rows = await occurrences.aggregate({ where, groupBy: fields, sum: [] });
    const countsOf = (field: (typeof fields)[number]): NameCount[] => {
      const counts = new Map<string, number>();
      for (const row of rows) {
        const value = row.group[field];
        if (value === null || value === undefined) continue;
        counts.set(String(value), (counts.get(String(value)) ?? 0) + row.count);
      }
      const named = [...counts]
        .map(([name, count]) => ({ name, count }))
        .sort((left, right) => right.count - left.count || left.name.localeCompare(right.name));
      const kept = named.slice(0, MAX_AFFECTED);
      const other = named.slice(MAX_AFFECTED).reduce((sum, item) => sum + item.count, 0);
      return other > 0 ? [...kept, { name: "other", count: other }] : kept;
    };
    return {
      agents: countsOf("agent"),
      channels: countsOf("channel"),
      models: countsOf("model"),
      gateways: countsOf("gateway"),
    };
  };

  return {
    entries,
    occurrences,
    actions,
    async resolveTarget(id) {
      let target = id;
      // follow merges (A into B into C), never in a circle
      for (let hops = 0; hops < 5; hops += 1) {
        const into = (await decisionOf(target)).mergedInto;
        if (!into || into === id) break;
        target = into;
      }
      return target;
    },
    async recompute(id) {
      const now = settings.now();
      const previous = await entries.get(id);
      const decision = await decisionOf(id);
      const ids = [id, ...(await sourcesOf(id))];
      const where: Where = ids.length === 1 ? { entry: id } : { entry: { in: ids } };
      const count = await occurrences.count({ where });
      if (count === 0) return undefined;
      await yieldToLoop();
      const [first] = await occurrences.find({ where, sort: { field: "ts", order: "asc" }, limit: 1 });
      const latest = await occurrences.find({ where, sort: { field: "ts", order: "desc" }, limit: 50 });
      const last = latest[0];
      if (!first || !last) return undefined;
      // the occurrences since the entry was last written, oldest first: did one come after a quiet gap?
      const since = previous?.lastSeen;
      const added =
        since === undefined
          ? []
          : await occurrences.find({
              where,
              from: since + 1,
              sort: { field: "ts", order: "asc" },
              limit: 10_000,
            });
      await yieldToLoop();
      const hourlyRows = await occurrences.aggregate({
        where,
        from: now - 7 * DAY_MS,
        groupBy: ["hour"],
        sum: [],
      });
      const hourly: HourCount[] = hourlyRows
        .map((row) => ({ hour: Number(row.group.hour), count: row.count }))
        .filter(({ hour }) => Number.isFinite(hour))
        .sort((left, right) => left.hour - right.hour);
      let firstAfterResolveAt: number | undefined;
      if (decision.resolvedAt !== undefined) {
        const [after] = await occurrences.find({
          where,
          from: decision.resolvedAt + 1,
          sort: { field: "ts", order: "asc" },
          limit: 1,
        });
        firstAfterResolveAt = after?.ts;
      }
      const escalatedAt =
        decision.archivedAt === undefined
          ? undefined
          : findEscalation(hourly, decision.archivedAt, decision.archivedBaselinePerHour ?? 0);
      const status = deriveEntryStatus({
        lastSeen: last.ts,
        now,
        quietAfterMs: settings.quietAfterMs,
        decision,
        ...(previous ? { previous } : {}),
        returnedAfterQuietAt: findReturnAfterQuiet(
          since,
          added.map((occurrence) => occurrence.ts),
          settings.quietAfterMs,
        ),
        ...(firstAfterResolveAt !== undefined ? { firstAfterResolveAt } : {}),
        ...(escalatedAt !== undefined ? { escalatedAt } : {}),
      });
      const own = latest.find((occurrence) => occurrence.entry === id) ?? last;
      const entry: IssueEntry = {
        id,
        version: own.version,
        fingerprints: ids,
        title: own.title,
        kind: own.kind,
        message: own.message,
        count,
        firstSeen: first.ts,
        lastSeen: last.ts,
        ts: last.ts,
        hourly,
        trend: toTrend(hourly, now),
        affected: await affectedOf(where),
        examples: toExamples(latest, settings.traceLinks),
        ...status,
        updatedAt: now,
      };
      for (const key of ["category", "status", "provider", "model", "tool", "ruleId"] as const) {
        const value = own[key];
        if (value !== undefined) (entry as unknown as Record<string, unknown>)[key] = value;
      }
      if (decision.resolvedAt !== undefined) entry.resolvedAt = decision.resolvedAt;
      if (decision.archivedAt !== undefined) entry.archivedAt = decision.archivedAt;
      if (decision.mergedInto !== undefined) entry.mergedInto = decision.mergedInto;
      await entries.upsert([entry]);
      try {
        settings.onChange?.(entry, previous);
      } catch {}
      return entry;
    },
  };
}

/** The usual hourly rate of an entry before now, for an archive until escalating. */
export function baselineOf(entry: IssueEntry | undefined, now: number): number {
  if (!entry) return 0;
  return toBaselinePerHour(entry.hourly, now, entry.firstSeen);
}

/** The most recent occurrences with a trace, one per trace, with their links. */
function toExamples(
  latest: readonly Occurrence[],
  templates: Readonly<Record<string, string | undefined>>,
): EntryExample[] {
  const examples: EntryExample[] = [];
  const seen = new Set<string>();
  for (const occurrence of latest) {
    const key = occurrence.traceId ?? occurrence.turnId;
    if (!key || seen.has(key)) continue;
    seen.add(key);
    const links: Record<string, string> = {};
    for (const [name, template] of Object.entries(templates)) {
      if (!template) continue;
      const link = toTraceLink(template, occurrence);
      if (link) links[name] = link;
    }
    examples.push({
      ts: occurrence.ts,
      ...(occurrence.traceId ? { traceId: occurrence.traceId } : {}),
      ...(occurrence.turnId ? { turnId: occurrence.turnId } : {}),
      gateway: occurrence.gateway,
      links,
    });
    if (examples.length >= MAX_EXAMPLES) break;
  }
  return examples;
}
