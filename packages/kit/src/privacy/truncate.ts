/** Size bounds for text leaving the gateway: cut, mark, and never split a character or a token. */

/** Options of {@link truncate}. */
export interface TruncateOptions {
  /** The length before any earlier cut, shown in the marker (default: `text.length`). */
  originalLength?: number;
  /** The text was already cut upstream: mark it even if it now fits. */
  alreadyCut?: boolean;
}

/** The marker appended to cut text. */
export function truncationMarker(originalLength: number): string {
  return `…[truncated, ${originalLength} chars]`;
}

/**
 * Cuts `text` so the result, marker included, is at most `maxChars` long; the marker says how
 * long the original was. Below the marker's own length the text is cut without a marker. Never
 * splits a UTF-16 surrogate pair; never throws (non-strings give "").
 */
export function truncate(text: string, maxChars: number, options: TruncateOptions = {}): string {
  if (typeof text !== "string") return "";
  const limit = Number.isFinite(maxChars) ? Math.max(0, Math.floor(maxChars)) : 0;
  if (text.length <= limit && !options.alreadyCut) return text;
  const marker = truncationMarker(options.originalLength ?? text.length);
  if (limit <= marker.length) return sliceWhole(text, limit);
  return (
    sliceWhole(text, outsideRedactionMarker(text, Math.min(text.length, limit - marker.length))) + marker
  );
}

/** Moves a cut inside a `[REDACTED:kind]` marker to the marker's start: half a marker reads as garbage. */
function outsideRedactionMarker(text: string, end: number): number {
  const start = text.lastIndexOf("[REDACTED:", end - 1);
  if (start < 0 || end - start > 40) return end;
  const close = text.indexOf("]", start);
  return close >= end ? start : end;
}

/**
 * Cuts at `limit`, moved back to the last whitespace within `lookBack` characters so that a
 * token (a key, an email) is either wholly kept or wholly dropped, never half-kept where a
 * redaction pattern would no longer recognise it.
 */
export function cutAtSafeBoundary(text: string, limit: number, lookBack = 256): string {
  if (text.length <= limit) return text;
  const floor = Math.max(0, limit - lookBack);
  for (let index = limit; index > floor; index -= 1) {
    const code = text.charCodeAt(index);
    if (code === 32 || code === 10 || code === 13 || code === 9) return text.slice(0, index);
  }
  return sliceWhole(text, limit);
}

/** `text.slice(0, end)` without leaving half a surrogate pair at the end. */
function sliceWhole(text: string, end: number): string {
  if (end <= 0) return "";
  const last = text.charCodeAt(end - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? end - 1 : end);
}
