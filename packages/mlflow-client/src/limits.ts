/**
 * MLflow's limits on logged data (`mlflow/utils/validation.py`, the same in 2.x and 3.x servers),
 * and the pure functions that make keys and values fit them.
 */
import { createHash } from "node:crypto";

/** Request and entity limits of `runs/log-batch`. */
export interface MlflowLimits {
  maxMetricsPerRequest: number;
  maxParamsPerRequest: number;
  maxTagsPerRequest: number;
  /** Metrics + params + tags in one request. */
  maxEntitiesPerRequest: number;
  /** UTF-8 bytes of one request body. */
  maxRequestBytes: number;
  maxKeyLength: number;
  /** 6000 since MLflow 2.9 (500 before). */
  maxParamValueLength: number;
  /** 8000 since MLflow 2.x (5000 before). */
  maxTagValueLength: number;
}

/** The limits of MLflow 3.x. */
export const MLFLOW_LIMITS: Readonly<MlflowLimits> = Object.freeze({
  maxMetricsPerRequest: 1000,
  maxParamsPerRequest: 100,
  maxTagsPerRequest: 100,
  maxEntitiesPerRequest: 1000,
  maxRequestBytes: 1_000_000,
  maxKeyLength: 250,
  maxParamValueLength: 6000,
  maxTagValueLength: 8000,
});

/** What {@link sanitizeMlflowKey} returns. */
export interface SanitizedKey {
  key: string;
  /** True when the key had to change. */
  changed: boolean;
}

/** Characters MLflow accepts in metric, param and tag keys (non-Windows server). */
const INVALID_KEY_CHARACTER = /[^A-Za-z0-9_/.\- :]/gu;
/** Characters of the hash suffix added to cut keys: `_` + 8 hex digits. */
const HASH_SUFFIX_LENGTH = 9;

/**
 * Makes a key acceptable to MLflow, the same way every time:
 * - characters outside `[A-Za-z0-9_/.\- :]` become `_` (MLflow's `\w` also takes non-ASCII
 *   letters, but only on Python's side of the check: ASCII is safe everywhere);
 * - the key is put in the path form MLflow demands (it treats keys as file names): no empty, `.`
 *   or `..` segments, no leading or trailing `/`, no leading `..`; an empty key becomes `_`;
 * - a key longer than `maxLength` is cut and given `_` + 8 hex digits of its SHA-256, so two long
 *   keys that share a prefix stay apart, and the same key always maps to the same result.
 * Two keys that differ only in replaced characters can map to one key; `runs.logBatch` counts
 * such duplicates. Give valid keys to keep them as they are.
 */
export function sanitizeMlflowKey(key: string, maxLength: number = MLFLOW_LIMITS.maxKeyLength): SanitizedKey {
  const original = typeof key === "string" ? key : String(key);
  const segments = original
    .replace(INVALID_KEY_CHARACTER, "_")
    .split("/")
    .filter((segment) => segment !== "" && segment !== ".")
    .map((segment) => (segment === ".." ? "__" : segment));
  let result = segments.join("/");
  if (result.startsWith("..")) result = `_${result.slice(1)}`;
  if (result === "") result = "_";
  const limit = Math.max(HASH_SUFFIX_LENGTH + 1, Math.floor(maxLength));
  if (result.length > limit) {
    const hash = createHash("sha256").update(original).digest("hex").slice(0, 8);
    result = `${result.slice(0, limit - HASH_SUFFIX_LENGTH)}_${hash}`;
  }
  return { key: result, changed: result !== original };
}

/** What {@link toMlflowValue} returns. */
export interface FittedValue {
  value: string;
  truncated: boolean;
}

/**
 * Turns a param or tag value into a string of at most `maxLength` UTF-16 units (never more
 * characters than MLflow counts). Strings stay, numbers and booleans are printed, objects become
 * JSON, null and undefined become "". A longer text is cut with the marker
 * `…[truncated, N chars]` and never splits a surrogate pair.
 */
export function toMlflowValue(value: unknown, maxLength: number): FittedValue {
  const text = toText(value);
  const limit = Math.max(0, Math.floor(maxLength));
  if (text.length <= limit) return { value: text, truncated: false };
  const marker = `…[truncated, ${text.length} chars]`;
  const keep = Math.max(0, limit - marker.length);
  return { value: keep === 0 ? sliceWhole(text, limit) : sliceWhole(text, keep) + marker, truncated: true };
}

function toText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || value === undefined) return "";
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint")
    return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    // circular or throwing toJSON: a label is better than losing the param
    return Object.prototype.toString.call(value);
  }
}

function sliceWhole(text: string, end: number): string {
  if (end <= 0) return "";
  const last = text.charCodeAt(end - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? end - 1 : end);
}
