/**
 * `clawscope_kb_query`: the gateway's own agents ask whether a failure they hit is known and what
 * fixed it. The answer is bounded (a few issues, a few solution steps, a few thousand characters)
 * and carries no raw content: titles and messages are the normalized, redacted forms.
 */
import type { PackToolSpec } from "@clawscope/kit";
import { answerKnowledgeQuery, type KnowledgeSource } from "../domain/knowledge-answer.js";
import { parseKnowledgeQuery } from "../domain/knowledge-query.js";

const MAX_ANSWER_CHARS = 4_000;
const MAX_TOOL_RESULTS = 3;

export const KB_QUERY_TOOL: PackToolSpec = {
  name: "clawscope_kb_query",
  description:
    "Search the gateway's knowledge base of recurring failures (provider errors, tool failures, tool loops, stuck sessions): is this error known, how often and since when has it happened, and what fixed it before. Pass the error message or a few words describing the failure.",
  parameters: {
    type: "object",
    properties: {
      query: {
        type: "string",
        description: "The error message or words describing the failure.",
        maxLength: 1000,
      },
      tool: { type: "string", description: "Only failures of this tool." },
      model: { type: "string", description: "Only failures of this model." },
    },
    required: ["query"],
    additionalProperties: false,
  },
};

/** The tool's answer as text, or a one-line error the model can act on. */
export function answerKnowledgeTool(source: KnowledgeSource, params: unknown): string {
  const record = typeof params === "object" && params !== null ? (params as Record<string, unknown>) : {};
  const filters: Record<string, unknown> = {};
  if (typeof record.tool === "string" && record.tool !== "") filters.tool = record.tool;
  if (typeof record.model === "string" && record.model !== "") filters.model = record.model;
  const parsed = parseKnowledgeQuery({ query: record.query, limit: MAX_TOOL_RESULTS, filters });
  if ("error" in parsed) return `clawscope_kb_query: ${parsed.error}`;
  const answer = answerKnowledgeQuery(source, parsed.query);
  if (answer.results.entries.length === 0)
    return "No known issue matches this failure in the knowledge base.";
  const lines: string[] = [];
  for (const entry of answer.results.entries) {
    lines.push(
      `Known issue (${entry.state}, ${entry.count} occurrence(s), first ${entry.firstSeen}, last ${entry.lastSeen}): ${entry.title}`,
    );
    const steps = answer.results.solutions.filter((solution) => solution.entry === entry.id).slice(0, 2);
    for (const solution of steps) {
      lines.push(`  Fix (${solution.source}): ${solution.title}`);
      for (const step of solution.steps.slice(0, 3)) lines.push(`    - ${step}`);
    }
  }
  const text = lines.join("\n");
  return text.length > MAX_ANSWER_CHARS ? `${text.slice(0, MAX_ANSWER_CHARS - 1)}…` : text;
}
