/** Token usage as the host reports it, normalized to {@link Usage}. */
import { readField, readNumber } from "../events/read-event.js";
import type { Usage } from "./turn.js";

/** A usage with every count at zero. */
export function zeroUsage(): Usage {
  return { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 };
}

/**
 * Normalizes a host usage object (`model.call.*`, `model.usage`, `llm_output`). Returns undefined
 * when it carries no token count at all; `total` is the host's own when it reports one.
 */
export function normalizeUsage(raw: unknown): Usage | undefined {
  if (raw === null || typeof raw !== "object") return undefined;
  const input = nonNegative(readNumber(raw, "input"));
  const output = nonNegative(readNumber(raw, "output"));
  const cacheRead = nonNegative(readNumber(raw, "cacheRead"));
  const cacheWrite = nonNegative(readNumber(raw, "cacheWrite"));
  const total = nonNegative(readNumber(raw, "total") ?? readNumber(raw, "totalTokens"));
  const reasoning = nonNegative(readNumber(raw, "reasoningTokens") ?? readNumber(raw, "reasoning"));
  if ([input, output, cacheRead, cacheWrite, total].every((count) => count === undefined)) return undefined;
  const usage: Usage = {
    input: input ?? 0,
    output: output ?? 0,
    cacheRead: cacheRead ?? 0,
    cacheWrite: cacheWrite ?? 0,
    total: total ?? (input ?? 0) + (output ?? 0) + (cacheRead ?? 0) + (cacheWrite ?? 0),
  };
  if (reasoning !== undefined && reasoning > 0) usage.reasoning = reasoning;
  return usage;
}

/** The host's cost figure inside a usage object (`usage.cost.total`), when it is a usable number. */
export function readUsageCost(raw: unknown): number | undefined {
  return nonNegative(readNumber(readField(raw, "cost"), "total"));
}

/** Adds two usages (reasoning kept when either side has it). */
export function addUsage(left: Usage, right: Usage): Usage {
  const sum: Usage = {
    input: left.input + right.input,
    output: left.output + right.output,
    cacheRead: left.cacheRead + right.cacheRead,
    cacheWrite: left.cacheWrite + right.cacheWrite,
    total: left.total + right.total,
  };
  if (left.reasoning !== undefined || right.reasoning !== undefined) {
    sum.reasoning = (left.reasoning ?? 0) + (right.reasoning ?? 0);
  }
  return sum;
}

/** `left` minus `right`, each count floored at zero (reasoning kept when either side has it). */
export function subtractUsage(left: Usage, right: Usage): Usage {
  const less = (a: number, b: number) => Math.max(0, a - b);
  const difference: Usage = {
    input: less(left.input, right.input),
    output: less(left.output, right.output),
    cacheRead: less(left.cacheRead, right.cacheRead),
    cacheWrite: less(left.cacheWrite, right.cacheWrite),
    total: less(left.total, right.total),
  };
  if (left.reasoning !== undefined || right.reasoning !== undefined) {
    difference.reasoning = less(left.reasoning ?? 0, right.reasoning ?? 0);
  }
  return difference;
}

/** Whether a usage counted any token. */
export function hasTokens(usage: Usage): boolean {
  return usage.total > 0 || usage.input + usage.output + usage.cacheRead + usage.cacheWrite > 0;
}

function nonNegative(value: number | undefined): number | undefined {
  return value !== undefined && value >= 0 ? value : undefined;
}
