/** Redaction of structured values: walks objects and arrays within bounds, cycle-safe, never throws. */
import { isSensitiveKey, type RedactOptions, redactionMarker, redactText } from "./redact.js";
import { cutAtSafeBoundary, truncate } from "./truncate.js";

/** Options of {@link redactValue}. */
export interface RedactValueOptions extends RedactOptions {
  /** Deeper values become "[truncated: depth]" (default 8). */
  maxDepth?: number;
  /** At most this many values are visited; the rest become "[truncated]" (default 2000). */
  maxNodes?: number;
  /** Longest string kept, after redaction (default 65 536). */
  maxStringChars?: number;
  /** Characters of all strings together; later strings become "[truncated]" (default 1 048 576). */
  maxTotalChars?: number;
}

/** How far past the kept length we still redact, so a secret at the cut is recognised whole. */
const REDACTION_MARGIN = 4096;

/**
 * Redacts then truncates one string, doing work proportional to `maxChars` rather than to the
 * input: the text is first cut at a whitespace boundary a margin past `maxChars`.
 */
export function redactBounded(text: string, maxChars: number, options: RedactOptions = {}): string {
  if (typeof text !== "string") return "";
  const head = cutAtSafeBoundary(text, maxChars + REDACTION_MARGIN);
  const redacted = redactText(head, options);
  return truncate(redacted, maxChars, { originalLength: text.length, alreadyCut: head.length < text.length });
}

interface WalkState {
  options: RedactOptions;
  maxDepth: number;
  maxStringChars: number;
  nodesLeft: number;
  charsLeft: number;
  ancestors: Set<object>;
}

/**
 * A JSON-safe copy of `value` with secrets and personal data redacted: strings through
 * `redactText`, and any value under a sensitive key (password, token, secret, apiKey,
 * authorization, cookie...) replaced whole. Bounded in depth, node count and string length;
 * cycles become "[circular]". Never throws.
 */
export function redactValue(value: unknown, options: RedactValueOptions = {}): unknown {
  const state: WalkState = {
    options,
    maxDepth: options.maxDepth ?? 8,
    maxStringChars: options.maxStringChars ?? 65_536,
    nodesLeft: options.maxNodes ?? 2000,
    charsLeft: options.maxTotalChars ?? 1_048_576,
    ancestors: new Set(),
  };
  try {
    return walk(value, 0, state);
  } catch {
    return "[unreadable]";
  }
}

function walk(value: unknown, depth: number, state: WalkState): unknown {
  state.nodesLeft -= 1;
  if (state.nodesLeft < 0) return "[truncated]";
  switch (typeof value) {
    case "string": {
      if (state.charsLeft <= 0) return "[truncated]";
      const text = redactBounded(value, Math.min(state.maxStringChars, state.charsLeft), state.options);
      state.charsLeft -= text.length;
      return text;
    }
    case "number":
      return Number.isFinite(value) ? value : String(value);
    case "boolean":
    case "undefined":
      return value;
    case "bigint":
    case "symbol":
      return value.toString();
    case "function":
      return "[function]";
  }
  if (value === null) return null;
  const object = value as object;
  if (state.ancestors.has(object)) return "[circular]";
  if (depth >= state.maxDepth) return "[truncated: depth]";
  if (object instanceof Date) return Number.isNaN(object.getTime()) ? "Invalid Date" : object.toISOString();
  if (object instanceof ArrayBuffer || ArrayBuffer.isView(object)) {
    return `[binary ${(object as ArrayBuffer).byteLength} bytes]`;
  }
  state.ancestors.add(object);
  try {
    if (object instanceof Error) {
      // the stack is left out: it carries file paths, and the message says what matters
      return { name: object.name, message: walk(object.message, depth + 1, state) };
    }
    if (Array.isArray(object) || object instanceof Set) return walkList([...object], depth, state);
    const entries = object instanceof Map ? [...object.entries()] : readEntries(object);
    const result: Record<string, unknown> = {};
    for (const [key, entry] of entries) {
      if (state.nodesLeft <= 0) {
        result["…"] = "[truncated]";
        break;
      }
      const name = typeof key === "string" ? key : String(key);
      const redacted =
        isSensitiveKey(name) && entry !== null && entry !== undefined && typeof entry !== "boolean"
          ? consume(state, redactionMarker("secret"))
          : walk(entry, depth + 1, state);
      Object.defineProperty(result, name, {
        value: redacted,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return result;
  } finally {
    state.ancestors.delete(object);
  }
}

function walkList(items: unknown[], depth: number, state: WalkState): unknown[] {
  const result: unknown[] = [];
  for (let index = 0; index < items.length; index += 1) {
    if (state.nodesLeft <= 0) {
      result.push(`[${items.length - index} more items]`);
      break;
    }
    result.push(walk(items[index], depth + 1, state));
  }
  return result;
}

function consume<T>(state: WalkState, value: T): T {
  state.nodesLeft -= 1;
  return value;
}

/** Own enumerable entries; a throwing getter yields "[unreadable]" for that key only. */
function readEntries(object: object): [string, unknown][] {
  return Object.keys(object).map((key) => {
    try {
      return [key, (object as Record<string, unknown>)[key]];
    } catch {
      return [key, "[unreadable]"];
    }
  });
}
