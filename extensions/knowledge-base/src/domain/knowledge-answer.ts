/**
 * Answers to the knowledge base's readers, from one in-memory snapshot: a ranked query, the
 * summary, and the export. Pure: plain data in, plain data out.
 */
import { tokenize } from "./bm25.js";
import { type Concept, type ConceptLink, neighboursOf } from "./concept-graph.js";
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
  /** The concept graph, for the query's neighbourhood. */
  graph?: { concepts: readonly Concept[]; links: readonly ConceptLink[] };
}

/** How much an issue linked to a concept the query names gains, per unit of the link's NPMI. */
const NEIGHBOURHOOD_BOOST = 2;

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
  // the concepts the query names (a model, a tool, an agent...) and the issues linked to them
  const named = namedConcepts(source.graph?.concepts ?? [], query.text);
  const boost = new Map<string, number>();
  for (const concept of named) {
    for (const neighbour of neighboursOf(source.graph?.links ?? [], concept.id, 50)) {
      if (!neighbour.id.startsWith("issue:")) continue;
      const id = neighbour.id.slice("issue:".length);
      boost.set(id, Math.max(boost.get(id) ?? 0, neighbour.npmi * NEIGHBOURHOOD_BOOST));
    }
  }
  const scores = new Map<string, number>();
  for (const { id, score } of source.search(query.text, Math.max(query.limit * 20, 200)))
    scores.set(id, score);
  for (const [id, extra] of boost) scores.set(id, (scores.get(id) ?? 0) + extra);
  // rank over everything, then filter: filters narrow, they do not change relevance
  const ranked = [...scores]
    .sort((left, right) => right[1] - left[1] || left[0].localeCompare(right[0]))
    .map(([id, score]) => ({ entry: source.byId.get(id), score }))
    .filter((item): item is { entry: IssueEntry; score: number } => item.entry !== undefined)
    .filter((item) => matchesFilters(item.entry, query.filters))
    .slice(0, query.limit);
  const entries = ranked.map(({ entry, score }) => toEntrySummary(entry, score));
  const solutions = ranked.flatMap(({ entry }) => solutionsOf(source, entry).slice(0, 4));
  const concepts = named.slice(0, 10).map((concept) => ({
    id: concept.id,
    type: concept.type,
    name: concept.name,
    count: concept.count,
    neighbours: neighboursOf(source.graph?.links ?? [], concept.id, 8),
  }));
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
    entry.hourly.filter(({ hour }) => hour >= now - DAY_MS).reduce((sum, { count }) => sum + count, 0);
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

/** The concepts a query names: a token equal to a concept's name, or a longer name inside the text. */
function namedConcepts(concepts: readonly Concept[], text: string): Concept[] {
  const lower = text.toLowerCase();
  const tokens = new Set(tokenize(text));
  return concepts.filter((concept) => {
    if (concept.type === "issue") return false;
    const name = concept.name.toLowerCase();
    return tokens.has(name) || (name.length >= 4 && lower.includes(name));
  });
}
