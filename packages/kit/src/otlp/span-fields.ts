/**
 * Small pieces every turn-to-span mapper needs, spelled once: attributes without holes, and a
 * call's start and end inside its turn.
 */
import type { Attributes, AttributeValue } from "./records.js";

/** The attributes whose value is defined (and, for numbers, finite). */
export function definedAttributes(entries: Record<string, AttributeValue | undefined>): Attributes {
  const attributes: Attributes = {};
  // for...in rather than Object.entries: no array of pairs per span (this runs for every span)
  for (const key in entries) {
    if (!Object.hasOwn(entries, key)) continue;
    const value = entries[key];
    if (value === undefined) continue;
    if (typeof value === "number" && !Number.isFinite(value)) continue;
    attributes[key] = value;
  }
  return attributes;
}

/** What {@link toCallTiming} reads of a model or tool call. */
export interface TimedCall {
  startedAt?: number;
  endedAt?: number;
  durationMs?: number;
  outcome: string;
}

/**
 * Start and end of a call; what is unknown falls back to the turn's bounds, a pending call ends
 * with its turn, and the end is never before the start.
 */
export function toCallTiming(
  call: TimedCall,
  turn: { startedAt: number; endedAt: number },
): { startTimeMs: number; endTimeMs: number } {
  const start = finite(call.startedAt) ?? turn.startedAt;
  const duration = finite(call.durationMs);
  const end =
    call.outcome === "pending"
      ? turn.endedAt
      : (finite(call.endedAt) ?? (duration === undefined ? turn.endedAt : start + duration));
  return { startTimeMs: start, endTimeMs: Math.max(start, end) };
}

function finite(value: number | undefined): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/**
 * The GenAI token attributes of a call or a turn, spelled one way for every backend.
 * `gen_ai.usage.input_tokens` counts every input token, cache reads and writes included, as the
 * GenAI conventions ask; the cache parts are subsets of it. Cache writes use
 * `gen_ai.usage.cache_creation.input_tokens`, the name both Langfuse and MLflow read (MLflow also
 * reads the newer `cache_write`; Langfuse only this one). With `omitZeroCache`, cache parts that are
 * zero are left out rather than written as 0.
 */
export function toGenAiUsageAttributes(
  usage: { input: number; output: number; cacheRead: number; cacheWrite: number },
  options: { omitZeroCache?: boolean } = {},
): Attributes {
  const cache = (value: number) => (options.omitZeroCache && value === 0 ? undefined : value);
  return definedAttributes({
    "gen_ai.usage.input_tokens": usage.input + usage.cacheRead + usage.cacheWrite,
    "gen_ai.usage.output_tokens": usage.output,
    "gen_ai.usage.cache_read.input_tokens": cache(usage.cacheRead),
    "gen_ai.usage.cache_creation.input_tokens": cache(usage.cacheWrite),
  });
}
