/**
 * Which tool calls Langfuse should show as retrievers: search and retrieval tools (web search, RAG,
 * memory lookup) get the `retriever` observation type, everything else `tool`.
 */

/** Words that mark a retrieval tool when they appear as a whole word of its name. */
const RETRIEVAL_WORDS = new Set([
  "search",
  "retrieve",
  "retrieval",
  "retriever",
  "rag",
  "lookup",
  "recall",
  "grep",
]);

/** Longest tool name looked at: names are short, and this bounds the work on garbage. */
const MAX_NAME_CHARS = 200;

/**
 * True when a tool's name has a retrieval word as one of its words: `web_search`, `memory_search`,
 * `searchDocs`, `kb-lookup`, `rag` — but not `research` or `ragtime`.
 */
export function isRetrievalTool(toolName: unknown): boolean {
  if (typeof toolName !== "string" || toolName === "") return false;
  const words = toolName
    .slice(0, MAX_NAME_CHARS)
    // camelCase and PascalCase boundaries become separators before lower-casing
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  return words.some((word) => RETRIEVAL_WORDS.has(word));
}

/** The Langfuse observation type of a tool call. */
export function toToolObservationType(toolName: unknown): "retriever" | "tool" {
  return isRetrievalTool(toolName) ? "retriever" : "tool";
}
