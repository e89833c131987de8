/**
 * Deterministic OTLP ids: an extension derives its trace and span ids from a turn's stable id, so a
 * backend de-duplicates what the at-least-once pipeline sends twice (after a retry or a restart).
 */
import { createHash } from "node:crypto";

const HEX_TRACE_ID = /^[0-9a-f]{32}$/;
const HEX_SPAN_ID = /^[0-9a-f]{16}$/;

/** `sha256(text)` as hex, cut to `chars`; an all-zero result (invalid in OTLP) gets its last bit set. */
export function hashToHex(text: string, chars: number): string {
  return ensureNonZero(createHash("sha256").update(text).digest("hex").slice(0, chars));
}

/** Flips the last bit of an all-zero hex id: all-zero trace and span ids mean "no id" in OTLP. */
export function ensureNonZero(hex: string): string {
  return /^0+$/.test(hex) ? `${hex.slice(0, -1)}1` : hex;
}

/** A W3C trace id: 32 lowercase hex characters, not all zero (the spec's invalid id). */
export function isValidTraceId(value: unknown): value is string {
  return typeof value === "string" && HEX_TRACE_ID.test(value) && !/^0+$/.test(value);
}

/** A W3C span id: 16 lowercase hex characters, not all zero. */
export function isValidSpanId(value: unknown): value is string {
  return typeof value === "string" && HEX_SPAN_ID.test(value) && !/^0+$/.test(value);
}
