/**
 * A knowledge query: the request's text and filters checked into a plain query, and its answer
 * ranked from the in-memory snapshot. Pure; the HTTP route and the agent tool both use it.
 */
import { type IssueEntry, isAffected } from "./issue-entry.js";
import type { RunbookItem } from "./runbook.js";

export const MAX_QUERY_CHARS = 1_000;
export const MAX_QUERY_RESULTS = 50;
const STATES = ["open", "quiet", "regressed", "resolved", "archived"] as const;
const FILTER_KEYS = ["since", "until", "agent", "model", "tool", "status", "kind", "provider"] as const;

export interface KnowledgeQuery {
  text: string;
  limit: number;
  filters: {
    since?: number;
    until?: number;
    agent?: string;
    model?: string;
    tool?: string;
    provider?: string;
    kind?: string;
    status?: (typeof STATES)[number];
  };
}

/** A query checked, or the one line that says what is wrong with it. */
export function parseKnowledgeQuery(body: unknown): { query: KnowledgeQuery } | { error: string } {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    return { error: "the body must be a JSON object with a `query` string" };
  const record = body as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key !== "query" && key !== "filters" && key !== "limit") return { error: `unknown field \`${key}\`` };
  }
  const text = record.query;
  if (typeof text !== "string" || text.trim() === "") return { error: "`query` must be a non-empty string" };
  if (text.length > MAX_QUERY_CHARS)
    return { error: `\`query\` is longer than ${MAX_QUERY_CHARS} characters` };
  let limit = 10;
  if (record.limit !== undefined) {
    if (
      typeof record.limit !== "number" ||
      !Number.isInteger(record.limit) ||
      record.limit < 1 ||
      record.limit > MAX_QUERY_RESULTS
    )
      return { error: `\`limit\` must be an integer from 1 to ${MAX_QUERY_RESULTS}` };
    limit = record.limit;
  }
  const filters: KnowledgeQuery["filters"] = {};
  if (record.filters !== undefined) {
    if (typeof record.filters !== "object" || record.filters === null || Array.isArray(record.filters))
      return { error: "`filters` must be an object" };
    for (const [key, value] of Object.entries(record.filters)) {
      if (!(FILTER_KEYS as readonly string[]).includes(key))
        return { error: `unknown filter \`${key}\` (known: ${FILTER_KEYS.join(", ")})` };
      if (key === "since" || key === "until") {
        const time =
          typeof value === "number" ? value : typeof value === "string" ? Date.parse(value) : Number.NaN;
        if (!Number.isFinite(time))
          return { error: `filter \`${key}\` must be an ISO time or epoch milliseconds` };
        filters[key] = time;
        continue;
      }
      if (typeof value !== "string" || value === "" || value.length > 200)
        return { error: `filter \`${key}\` must be a string of 1 to 200 characters` };
      if (key === "status") {
        if (!(STATES as readonly string[]).includes(value))
          return { error: `filter \`status\` must be one of ${STATES.join(", ")}` };
        filters.status = value as (typeof STATES)[number];
      } else filters[key as "agent" | "model" | "tool" | "provider" | "kind"] = value;
    }
  }
  return { query: { text: text.trim(), limit, filters } };
}

/** Whether an entry passes the filters. */
export function matchesFilters(entry: IssueEntry, filters: KnowledgeQuery["filters"]): boolean {
  if (filters.since !== undefined && entry.lastSeen < filters.since) return false;
  if (filters.until !== undefined && entry.firstSeen >= filters.until) return false;
  if (filters.status !== undefined && entry.state !== filters.status) return false;
  if (filters.kind !== undefined && entry.kind !== filters.kind) return false;
  if (filters.provider !== undefined && entry.provider !== filters.provider) return false;
  if (filters.tool !== undefined && entry.tool !== filters.tool) return false;
  if (
    filters.model !== undefined &&
    entry.model !== filters.model &&
    !isAffected(entry.affected.models, filters.model)
  )
    return false;
  if (filters.agent !== undefined && !isAffected(entry.affected.agents, filters.agent)) return false;
  return true;
}

/** An entry as a query result: what it is, how often, where, and its state (no raw content). */
export function toEntrySummary(entry: IssueEntry, score?: number) {
  return {
    id: entry.id,
    title: entry.title,
    kind: entry.kind,
    ...(entry.category ? { category: entry.category } : {}),
    ...(entry.status !== undefined ? { status: entry.status } : {}),
    ...(entry.provider ? { provider: entry.provider } : {}),
    ...(entry.model ? { model: entry.model } : {}),
    ...(entry.tool ? { tool: entry.tool } : {}),
    message: entry.message,
    state: entry.state,
    trend: entry.trend,
    count: entry.count,
    firstSeen: new Date(entry.firstSeen).toISOString(),
    lastSeen: new Date(entry.lastSeen).toISOString(),
    agents: entry.affected.agents.map((item) => item.name),
    models: entry.affected.models.map((item) => item.name),
    gateways: entry.affected.gateways.length,
    ...(score !== undefined ? { score: Math.round(score * 1000) / 1000 } : {}),
  };
}

/** A solution as a query result. */
export interface SolutionResult {
  entry: string;
  source: "runbook" | "operator" | "learned";
  title: string;
  steps: string[];
  author?: string;
  at?: string;
}

export function toRunbookSolution(entry: string, item: RunbookItem): SolutionResult {
  return { entry, source: "runbook", title: item.title, steps: item.steps };
}
