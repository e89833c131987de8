/** Turns an HTTP answer into the pipeline's `SendResult`, so every backend classifies statuses alike. */
import { toLogText } from "../privacy/log-text.js";
import type { SendFailure, SendResult } from "./types.js";

/** Longest excerpt of a backend's answer kept in a failure. */
const MAX_EXCERPT_CHARS = 200;

/** Longest `Retry-After` we honour; a server asking for more is capped here (one hour). */
const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * Reads a `Retry-After` value: delay-seconds (`"120"`) or an HTTP-date. Returns milliseconds to
 * wait (never negative, capped at one hour), or `undefined` when absent or unreadable.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (typeof value !== "string") return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.min(Math.round(Number(text) * 1000), MAX_RETRY_AFTER_MS);
  // only a date that names a weekday or month is accepted, so "-5" or "soon" do not parse as dates
  if (!/[a-z]{3}/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS);
}

function readHeader(
  headers: Headers | Record<string, string> | null | undefined,
  name: string,
): string | undefined {
  if (!headers || typeof headers !== "object") return undefined;
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted && typeof value === "string") return value;
  }
  return undefined;
}

/**
 * Classifies an HTTP status: 2xx ok; 408, 429, 5xx (and nonsense statuses) retry, with
 * `retryAfterMs` from `Retry-After`; 413 too-large; 401/403 auth; any other status reject.
 */
export function classifyHttpResponse(
  status: number,
  headers: Headers | Record<string, string> = {},
  now: number = Date.now(),
): SendResult {
  const reason = `HTTP ${status}`;
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    return {
      kind: "retry",
      reason: `invalid HTTP status ${String(status)}`,
      failure: { cause: "invalid HTTP status" },
    };
  }
  if (status >= 200 && status < 300) return { kind: "ok" };
  const failure: SendFailure = { status };
  if (status === 408 || status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(readHeader(headers, "retry-after"), now);
    return retryAfterMs === undefined
      ? { kind: "retry", reason, failure }
      : { kind: "retry", reason, retryAfterMs, failure: { ...failure, retryAfterMs } };
  }
  if (status === 413) return { kind: "too-large", reason, failure };
  if (status === 401 || status === 403) return { kind: "auth", reason, failure };
  // 1xx/3xx reaching here means a misconfigured endpoint; retrying the same request cannot help
  return { kind: "reject", reason, failure };
}

/**
 * An HTTP answer as a `SendResult` for the backend `label` (`OTLP traces`, `scores`): classified as
 * {@link classifyHttpResponse} does, the reason naming the label, the status and the start of the
 * answer, and the same as fields in `failure`.
 */
export function toHttpSendResult(
  label: string,
  status: number,
  headers: Headers | Record<string, string>,
  answer: string,
  now: number = Date.now(),
): SendResult {
  const result = classifyHttpResponse(status, headers, now);
  if (result.kind === "ok") return result;
  const bodyExcerpt = toExcerpt(answer);
  return {
    ...result,
    reason: `${label}: ${result.reason}${bodyExcerpt ? ` (${bodyExcerpt})` : ""}`,
    failure: { ...result.failure, ...(bodyExcerpt ? { bodyExcerpt } : {}) },
  };
}

/** A send that got no answer (network error, timeout): a retry, with the cause as a field. */
export function toNetworkSendResult(label: string, cause: string): SendResult {
  return { kind: "retry", reason: `${label}: ${cause}`, failure: { cause } };
}

/** One short printable line of a backend's answer, without anything that looks like URL credentials. */
export function toExcerpt(text: string): string {
  return toLogText(
    String(text ?? "")
      .replace(/\/\/[^/\s@]*@/g, "//")
      .trim(),
    MAX_EXCERPT_CHARS,
  );
}
