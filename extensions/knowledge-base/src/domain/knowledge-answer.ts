/**
 * Answers to the knowledge base's readers, from one in-memory snapshot: a ranked query, the
 * summary, and the export. Pure: plain data in, plain data out.
 */
import type { IssueEntry } from "./issue-entry.js";
import {
  type KnowledgeQuery,
  matchesFilters,
  type SolutionResult,
  toEntrySummary,
  toRunbookSolution,
} from "./knowledge-query.js";
import type { RunbookItem } from "./runbook.js";

/** What the answers read: the snapshot's parts. */
export interface KnowledgeSource {
  entries: readonly IssueEntry[];
  byId: ReadonlyMap<string, IssueEntry>;
  solutions: ReadonlyMap<
    string,
    readonly { id: string; ts: number; author: string; text: string; source: "operator" | "learned" }[]
  >;
  search: (text: string, limit: number) => { id: string; score: number }[];
  runbookFor: (entry: IssueEntry) => RunbookItem[];
  loadedAt: number;
}

const DAY_MS = 86_400_000;

/** The solutions of an entry: the operator's first (newest first), then learned candidates, then the runbook. */
export function solutionsOf(source: KnowledgeSource, entry: IssueEntry): SolutionResult[] {
  const recorded = [...(source.solutions.get(entry.id) ?? [])].reverse().map(
    (solution): SolutionResult => ({
      entry: entry.id,
      source: solution.source,
      title: solution.source === "learned" ? "candidate (not confirmed)" : "recorded by an operator",
      steps: [solution.text],
      author: solution.author,
      at: new Date(solution.ts).toISOString(),
    }),
  );
  const operator = recorded.filter((solution) => solution.source === "operator");
  const learned = recorded.filter((solution) => solution.source === "learned");
  return [
    ...operator,
    ...learned,
    ...source.runbookFor(entry).map((item) => toRunbookSolution(entry.id, item)),
  ];
}

/** `POST /api/knowledge/query`: entries ranked by BM25, filtered, with their solutions and sources. */
export function answerKnowledgeQuery(source: KnowledgeSource, query: KnowledgeQuery) {
  // rank over everything, then filter: filters narrow, they do not change relevance
  const ranked = source
    .search(query.text, Math.max(query.limit * 20, 200))
    .map(({ id, score }) => ({ entry: source.byId.get(id), score }))
    .filter((item): item is { entry: IssueEntry; score: number } => item.entry !== undefined)
    .filter((item) => matchesFilters(item.entry, query.filters))
    .slice(0, query.limit);
  const entries = ranked.map(({ entry, score }) => toEntrySummary(entry, score));
  const solutions = ranked.flatMap(({ entry }) => solutionsOf(source, entry).slice(0, 4));
  const concepts = [
    ...new Set(
      ranked.flatMap(({ entry }) =>
        [entry.provider, entry.model, entry.tool, entry.category].filter(Boolean),
      ),
    ),
  ].map((name) => ({ name: String(name) }));
  return {
    success: true,
    results: { entries, concepts, solutions },
    sources: ranked.map(({ entry }) => ({
      type: "issue",
      id: entry.id,
      title: entry.title,
      path: `/api/knowledge/entries/${entry.id}`,
      examples: entry.examples.map((example) => ({
        ...(example.traceId ? { traceId: example.traceId } : {}),
        links: example.links,
      })),
    })),
  };
}

/** `GET /api/knowledge/summary`. */
export function answerKnowledgeSummary(source: KnowledgeSource, now: number, networkStats: unknown) {
  const states: Record<string, number> = { open: 0, quiet: 0, regressed: 0, resolved: 0, archived: 0 };
  let occurrences = 0;
  let newToday = 0;
  for (const entry of source.entries) {
    states[entry.state] = (states[entry.state] ?? 0) + 1;
    occurrences += entry.count;
    if (entry.firstSeen >= now - DAY_MS) newToday += 1;
  }
  const lastDay = (entry: IssueEntry) =>
    entry.hourly.filter(([hour]) => hour >= now - DAY_MS).reduce((sum, [, count]) => sum + count, 0);
  const topIssues = [...source.entries]
    .filter((entry) => entry.state !== "resolved" && entry.state !== "archived")
    .map((entry) => ({ entry, recent: lastDay(entry) }))
    .sort((left, right) => right.recent - left.recent || right.entry.count - left.entry.count)
    .slice(0, 10)
    .map(({ entry, recent }) => ({ ...toEntrySummary(entry), last24h: recent }));
  const recentLearnings = [...source.solutions.values()]
    .flat()
    .sort((left, right) => right.ts - left.ts)
    .slice(0, 10)
    .map((solution) => ({
      entry: (solution as { entry?: string }).entry,
      source: solution.source,
      author: solution.author,
      at: new Date(solution.ts).toISOString(),
      text: solution.text,
    }));
  return {
    lastUpdated: source.loadedAt > 0 ? new Date(source.loadedAt).toISOString() : null,
    stats: { entries: source.entries.length, occurrences, newLast24h: newToday, byState: states },
    networkStats,
    topIssues,
    recentLearnings,
  };
}

/** `GET /api/knowledge/export?format=json`: every entry with its solutions. */
export function toKnowledgeExport(source: KnowledgeSource, now: number) {
  return {
    generatedAt: new Date(now).toISOString(),
    entries: source.entries.map((entry) => ({
      ...toEntrySummary(entry),
      affected: entry.affected,
      examples: entry.examples,
      hourly: entry.hourly,
      ...(entry.regression ? { regression: entry.regression } : {}),
      solutions: solutionsOf(source, entry),
    })),
  };
}
