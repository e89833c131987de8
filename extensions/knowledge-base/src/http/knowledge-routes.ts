/**
 * The knowledge base on the gateway's port, behind gateway auth, under `/api/knowledge/`:
 *
 * - `POST query` `{ query, filters?, limit? }`: entries ranked by relevance, with solutions;
 * - `GET summary` (`?format=html` for the read-only page);
 * - `GET export?format=json|markdown`;
 * - `GET entries/<id>` (`?format=html`), `POST entries/<id>/solutions` `{ text, author? }`,
 *   `POST entries/<id>/actions` `{ action: resolve|archive|reopen|merge, into?, actor? }`.
 *
 * A bad request gets 400 with one line naming what is wrong; a store that is down, 503.
 */
import type { PackHttpRequest, PackHttpResponse } from "@clawscope/kit";
import {
  answerKnowledgeQuery,
  answerKnowledgeSummary,
  type KnowledgeSource,
  toKnowledgeExport,
} from "../domain/knowledge-answer.js";
import { parseKnowledgeQuery, toEntrySummary } from "../domain/knowledge-query.js";
import { toEntryHtml, toMarkdownRunbook, toSummaryHtml } from "../mapping/to-documents.js";

export const KNOWLEDGE_BASE_PATH = "/api/knowledge";
const MAX_SOLUTION_CHARS = 4_000;
const ACTIONS = ["resolve", "archive", "reopen", "merge"] as const;

/** What the routes need from the running extension. */
export interface KnowledgeRouteDeps {
  source: () => KnowledgeSource;
  now: () => number;
  networkStats: () => unknown;
  addSolution: (entry: string, text: string, author: string) => Promise<void>;
  act: (entry: string, action: (typeof ACTIONS)[number], actor: string, into?: string) => Promise<void>;
}

const badRequest = (message: string): PackHttpResponse => ({
  status: 400,
  json: { success: false, error: message },
});

export async function answerKnowledgeRoute(
  request: PackHttpRequest,
  deps: KnowledgeRouteDeps,
): Promise<PackHttpResponse> {
  const rest = request.path.slice(KNOWLEDGE_BASE_PATH.length).replace(/^\/+|\/+$/g, "");
  const parts = rest === "" ? [] : rest.split("/").map((part) => decodeURIComponent(part));
  const [head, id, sub] = parts;
  const format = request.query.get("format");
  if (head === "query") {
    if (request.method !== "POST")
      return { status: 405, headers: { allow: "POST" }, json: { error: "use POST" } };
    const parsed = parseKnowledgeQuery(request.body);
    if ("error" in parsed) return badRequest(parsed.error);
    return { json: answerKnowledgeQuery(deps.source(), parsed.query) };
  }
  if (head === "summary" && parts.length === 1) {
    if (format !== null && format !== "json" && format !== "html")
      return badRequest("`format` must be json or html");
    if (format === "html")
      return {
        text: toSummaryHtml(deps.source(), deps.now(), KNOWLEDGE_BASE_PATH),
        contentType: "text/html; charset=utf-8",
      };
    return { json: answerKnowledgeSummary(deps.source(), deps.now(), deps.networkStats()) };
  }
  if (head === "export" && parts.length === 1) {
    if (format === null || format === "json") return { json: toKnowledgeExport(deps.source(), deps.now()) };
    if (format === "markdown")
      return {
        text: toMarkdownRunbook(deps.source(), deps.now()),
        contentType: "text/markdown; charset=utf-8",
      };
    return badRequest("`format` must be json or markdown");
  }
  if (head === "entries" && id) {
    const entry = deps.source().byId.get(id);
    if (!entry) return { status: 404, json: { success: false, error: `no issue entry ${id}` } };
    if (sub === undefined) {
      if (request.method !== "GET")
        return { status: 405, headers: { allow: "GET" }, json: { error: "use GET" } };
      if (format === "html")
        return {
          text: toEntryHtml(deps.source(), entry, KNOWLEDGE_BASE_PATH),
          contentType: "text/html; charset=utf-8",
        };
      if (format !== null && format !== "json") return badRequest("`format` must be json or html");
      return {
        json: {
          ...toEntrySummary(entry),
          affected: entry.affected,
          examples: entry.examples,
          hourly: entry.hourly,
        },
      };
    }
    if (request.method !== "POST")
      return { status: 405, headers: { allow: "POST" }, json: { error: "use POST" } };
    const body = request.body;
    if (typeof body !== "object" || body === null || Array.isArray(body))
      return badRequest("the body must be a JSON object");
    const record = body as Record<string, unknown>;
    const actor =
      typeof record.author === "string"
        ? record.author
        : typeof record.actor === "string"
          ? record.actor
          : "api";
    if (actor.length > 200) return badRequest("`author` is longer than 200 characters");
    if (sub === "solutions") {
      if (typeof record.text !== "string" || record.text.trim() === "")
        return badRequest("`text` must be a non-empty string");
      if (record.text.length > MAX_SOLUTION_CHARS)
        return badRequest(`\`text\` is longer than ${MAX_SOLUTION_CHARS} characters`);
      return storeWrite(() => deps.addSolution(entry.id, record.text as string, actor));
    }
    if (sub === "actions") {
      const action = record.action;
      if (typeof action !== "string" || !(ACTIONS as readonly string[]).includes(action))
        return badRequest(`\`action\` must be one of ${ACTIONS.join(", ")}`);
      let into: string | undefined;
      if (action === "merge") {
        if (typeof record.into !== "string" || !deps.source().byId.has(record.into))
          return badRequest("`into` must name another existing issue entry");
        if (record.into === entry.id) return badRequest("an entry cannot be merged into itself");
        into = record.into;
      }
      return storeWrite(() => deps.act(entry.id, action as (typeof ACTIONS)[number], actor, into));
    }
  }
  return { status: 404, json: { success: false, error: `no such knowledge route: ${request.path}` } };
}

async function storeWrite(write: () => Promise<void>): Promise<PackHttpResponse> {
  try {
    await write();
    return { json: { success: true } };
  } catch (error) {
    return {
      status: 503,
      json: { success: false, error: `the knowledge base's store is unavailable: ${oneLine(error)}` },
    };
  }
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0]?.slice(0, 300) ?? "";
}
