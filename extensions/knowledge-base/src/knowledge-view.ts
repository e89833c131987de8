/**
 * What the query API, the summary, the exports and the agent tool read: every entry and solution,
 * held in memory with a BM25 index over titles, normalized messages and solutions. It is refreshed
 * from the store after each recompute and after each operator action (every gateway of a fleet
 * refreshes from the same store), never on a query, so a query costs a lookup, not a database read.
 */
import type { Store } from "@clawscope/store";
import { type Bm25Index, createBm25Index } from "./domain/bm25.js";
import type { IssueEntry } from "./domain/issue-entry.js";
import { matchRunbook, type RunbookItem } from "./domain/runbook.js";

/** A solution an operator recorded on an entry (`kb_solutions`). */
export type RecordedSolution = {
  id: string;
  entry: string;
  ts: number;
  author: string;
  text: string;
  /** `operator` (recorded through the API or CLI) or `learned` (a candidate, not a fact). */
  source: "operator" | "learned";
  /** For a learned candidate: the config change it points at. */
  evidence?: { configChangedAt: number; gateway: string; keys: string[] };
};

export interface KnowledgeSnapshot {
  entries: readonly IssueEntry[];
  byId: ReadonlyMap<string, IssueEntry>;
  solutions: ReadonlyMap<string, readonly RecordedSolution[]>;
  index: Bm25Index;
  loadedAt: number;
}

export interface KnowledgeView {
  current(): KnowledgeSnapshot;
  refresh(): Promise<KnowledgeSnapshot>;
  runbookFor(entry: IssueEntry): RunbookItem[];
}

const FIELD_WEIGHTS = { title: 3, message: 2, category: 2, subject: 2, solutions: 1 };

export function createKnowledgeView(store: Store, now: () => number): KnowledgeView {
  let snapshot: KnowledgeSnapshot = {
    entries: [],
    byId: new Map(),
    solutions: new Map(),
    index: createBm25Index([]),
    loadedAt: 0,
  };
  const runbookFor = (entry: IssueEntry) => matchRunbook(entry);
  return {
    current: () => snapshot,
    runbookFor,
    async refresh() {
      const entries = (await store.collection<IssueEntry>("knowledge_base").find({})).filter(
        (entry) => entry.state !== "merged",
      );
      const solutions = new Map<string, RecordedSolution[]>();
      for (const solution of await store
        .collection<RecordedSolution>("kb_solutions")
        .find({ sort: { field: "ts", order: "asc" } })) {
        const list = solutions.get(solution.entry) ?? [];
        list.push(solution);
        solutions.set(solution.entry, list);
      }
      const index = createBm25Index(
        entries.map((entry) => ({
          id: entry.id,
          fields: {
            title: entry.title,
            message: entry.message,
            category: [entry.kind, entry.category, entry.status].filter(Boolean).join(" "),
            subject: [entry.provider, entry.model, entry.tool].filter(Boolean).join(" "),
            solutions: [
              ...(solutions.get(entry.id) ?? []).map((solution) => solution.text),
              ...runbookFor(entry).map((item) => item.title),
            ].join(" "),
          },
        })),
        FIELD_WEIGHTS,
      );
      snapshot = {
        entries,
        byId: new Map(entries.map((entry) => [entry.id, entry])),
        solutions,
        index,
        loadedAt: now(),
      };
      return snapshot;
    },
  };
}
