/** Attribute builders shared by the span and log mappers, so a figure is spelled one way everywhere. */
import type { Cost, Usage } from "@clawscope/kit";
import { toErrorText } from "@clawscope/kit";
import { type Attributes, definedAttributes, toGenAiUsageAttributes } from "@clawscope/kit/otlp";

/** Longest error text put on a span status or a log record (after redaction). */
export const MAX_ERROR_MESSAGE_CHARS = 256;

export { definedAttributes } from "@clawscope/kit/otlp";

/**
 * Token attributes. `gen_ai.usage.input_tokens` counts every input token, cached ones included,
 * as the GenAI conventions ask (Langfuse and MLflow subtract or add the cache parts on that basis);
 * `openclaw.tokens.*` repeat the gateway's own buckets unchanged (its `input` excludes the cache).
 */
export function toUsageAttributes(usage: Usage): Attributes {
  return definedAttributes({
    ...toGenAiUsageAttributes(usage),
    "openclaw.tokens.input": usage.input,
    "openclaw.tokens.output": usage.output,
    "openclaw.tokens.cache_read": usage.cacheRead,
    "openclaw.tokens.cache_write": usage.cacheWrite,
    "openclaw.tokens.total": usage.total,
    "openclaw.tokens.reasoning": usage.reasoning,
  });
}

/** Cost with provenance; no `openclaw.cost.usd` at all when the source is unknown (never a fake zero). */
export function toCostAttributes(cost: Cost): Attributes {
  const known = cost.source !== "unknown" && typeof cost.usd === "number" && Number.isFinite(cost.usd);
  return definedAttributes({
    "openclaw.cost.usd": known ? (cost.usd ?? undefined) : undefined,
    "openclaw.cost.source": cost.source,
  });
}

/** Error text fit for export: secrets and personal data redacted, then cut to a short line. */
export function toErrorMessage(text: string | undefined): string | undefined {
  return toErrorText(text, MAX_ERROR_MESSAGE_CHARS);
}

/** A dollar figure for humans: six significant digits, no exponent for small amounts. */
export function formatUsd(usd: number): string {
  if (!Number.isFinite(usd)) return "$?";
  const rounded = Number.parseFloat(usd.toPrecision(6));
  return `$${Math.abs(rounded) < 1e-6 && rounded !== 0 ? rounded.toFixed(12).replace(/0+$/, "") : rounded}`;
}
