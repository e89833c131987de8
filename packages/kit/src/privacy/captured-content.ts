/** What content capture exports: any value → bounded text → redacted → truncated. */
import type { RedactOptions } from "./redact.js";
import { redactBounded, redactValue } from "./redact-value.js";

/** Options of {@link toCapturedContent}. */
export interface CapturedContentOptions extends RedactOptions {
  /** Longest result, truncation marker included. */
  maxChars: number;
}

/**
 * Turns a prompt, reply, tool argument or result into exportable text: strings as they are,
 * anything else as JSON (bounded, cycle-safe, secrets under sensitive keys removed), then
 * redacted before it is truncated to `maxChars`. Work is bounded by `maxChars`, not by the
 * input; never throws.
 */
export function toCapturedContent(value: unknown, options: CapturedContentOptions): string {
  try {
    const maxChars = Math.max(0, Math.floor(options.maxChars));
    if (typeof value === "string") return redactBounded(value, maxChars, options);
    if (value === undefined) return "";
    // strings together get a little more than maxChars: the JSON around them is cut anyway
    const bounded = redactValue(value, { ...options, maxStringChars: maxChars, maxTotalChars: maxChars * 2 });
    const json = JSON.stringify(bounded);
    return redactBounded(json ?? "", maxChars, options);
  } catch {
    return "[unserializable]";
  }
}
