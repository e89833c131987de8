/**
 * Usage and cost in Langfuse's terms. Langfuse prices each usage key separately with its model
 * definitions and sums the keys into a total, so the keys must not overlap: `input` excludes cache
 * reads and writes (as the host reports it), and `output` excludes reasoning tokens (the host counts
 * them inside output; Langfuse's own OTLP mapping subtracts them the same way). The cache keys are
 * the ones Langfuse's default price tables carry for both OpenAI and Anthropic models.
 */
import type { Cost, Usage } from "@clawscope/kit";

/** Langfuse usage keys we send. */
export const USAGE_KEYS = {
  input: "input",
  output: "output",
  cacheRead: "input_cache_read",
  cacheWrite: "input_cache_creation",
  reasoning: "output_reasoning_tokens",
  total: "total",
} as const;

/**
 * A call's usage as `usage_details`; undefined when it counted nothing (a call that failed before the
 * provider answered), so Langfuse shows no usage rather than zeros it might price.
 */
export function toUsageDetails(usage: Usage | undefined): Record<string, number> | undefined {
  if (!usage || typeof usage !== "object") return undefined;
  const input = count(usage.input);
  const output = count(usage.output);
  const cacheRead = count(usage.cacheRead);
  const cacheWrite = count(usage.cacheWrite);
  const reasoning = Math.min(count(usage.reasoning), output);
  const total = count(usage.total) || input + output + cacheRead + cacheWrite;
  if (input + output + cacheRead + cacheWrite + total === 0) return undefined;
  const details: Record<string, number> = {
    [USAGE_KEYS.input]: input,
    [USAGE_KEYS.output]: output - reasoning,
  };
  if (cacheRead > 0) details[USAGE_KEYS.cacheRead] = cacheRead;
  if (cacheWrite > 0) details[USAGE_KEYS.cacheWrite] = cacheWrite;
  if (reasoning > 0) details[USAGE_KEYS.reasoning] = reasoning;
  details[USAGE_KEYS.total] = total;
  return details;
}

/**
 * A call's cost as `cost_details`, only when its figure is known (from the provider, or estimated
 * from configured prices): an unknown cost is left to Langfuse's model prices, never sent as zero.
 */
export function toCostDetails(cost: Cost | undefined): Record<string, number> | undefined {
  if (!cost || typeof cost !== "object" || cost.source === "unknown") return undefined;
  const usd = cost.usd;
  return typeof usd === "number" && Number.isFinite(usd) && usd >= 0 ? { total: usd } : undefined;
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
}
