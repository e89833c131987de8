/**
 * Safe readers for values from the host: they never throw (throwing getters, proxies) and bound
 * what they return, so the mappers can be handed anything.
 */
import { readField, readNumber } from "@clawscope/kit";

// the kit's readers are re-exported so the mappers import from one place
export { readField, readNumber };

/** Longest string read from an event field; longer values are refused, not cut (they are not ours). */
export const MAX_FIELD_CHARS = 512;

/** A non-empty string field of at most `maxChars`, else undefined. */
export function readText(value: unknown, key: string, maxChars = MAX_FIELD_CHARS): string | undefined {
  const field = readField(value, key);
  return typeof field === "string" && field.length > 0 && field.length <= maxChars ? field : undefined;
}

/** A string or finite-number field as text (chat and message ids come as either), else undefined. */
export function readId(value: unknown, key: string): string | undefined {
  const field = readField(value, key);
  if (typeof field === "number" && Number.isFinite(field)) return String(field);
  return typeof field === "string" && field.length > 0 && field.length <= MAX_FIELD_CHARS ? field : undefined;
}

/** A finite, non-negative number field, else undefined. */
export function readCount(value: unknown, key: string): number | undefined {
  const field = readField(value, key);
  return typeof field === "number" && Number.isFinite(field) && field >= 0 ? field : undefined;
}
