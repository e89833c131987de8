/**
 * An error message reduced to what carries its cause, so that two failures of one cause read the
 * same: secrets are redacted first (the kit's helpers), a provider's JSON error body is read for its
 * `type`/`code`/`status`/`reason`/`message` fields instead of being blanked as one quoted string,
 * and the values that differ from one occurrence to the next (request and org ids, numbers,
 * timestamps, ports, IPs, paths, URLs' paths and queries, hex, UUIDs) become placeholders. Words
 * stay, and so do the numbers that name a cause: an HTTP status after `status`/`code`/`HTTP`, an
 * exit code, an errno name.
 */
import { redactText } from "@clawscope/kit";

/** How long a normalized message may be. */
export const MAX_NORMALIZED_CHARS = 300;
/** How much raw text is read at most (the rest of a huge body cannot change the cause). */
const MAX_INPUT_CHARS = 8_000;

/** What a JSON error body said, field by field (any may be missing). */
export interface ErrorBodyFields {
  type?: string;
  code?: string;
  status?: string;
  reason?: string;
  message?: string;
}

/**
 * The message normalized: one line, secrets redacted, volatile values replaced by `<id>`, `<n>`,
 * `<time>`, `<uuid>`, `<hex>`, `<ip>`, `<path>`, `<url>` placeholders. Empty for no text.
 */
export function normalizeErrorMessage(text: unknown): string {
  if (typeof text !== "string" || text.trim() === "") return "";
  const redacted = redactText(text.slice(0, MAX_INPUT_CHARS));
  const body = findErrorBody(redacted);
  let readable = redacted;
  if (body) {
    const before = redacted.slice(0, body.start).trim();
    const after = redacted.slice(body.end).trim();
    readable = [before, describeFields(body.fields), after].filter((part) => part !== "").join(" ");
  }
  const line = replaceVolatile(stripWrappers(readable.replace(/\s+/g, " ").trim()));
  return line.length > MAX_NORMALIZED_CHARS ? line.slice(0, MAX_NORMALIZED_CHARS) : line;
}

/**
 * The form two messages of one cause share, for grouping: lower case, punctuation runs as one
 * space (a trailing period or a quote style is not a cause).
 */
export function toGroupingKey(normalized: string): string {
  return normalized
    .toLowerCase()
    .replace(/[^\p{L}\p{N}<>_=-]+/gu, " ")
    .trim();
}

// generic error class names that wrap a message without adding to it (specific ones, such as
// `ThrottlingException`, name the cause and stay)
const GENERIC_PREFIX =
  /^(?:uncaught\s+)?(?:error|typeerror|syntaxerror|rangeerror|referenceerror|fetcherror|axioserror|mcperror|apierror|apiconnectionerror|apiconnectiontimeouterror)\s*:\s*/i;
// the request metadata AWS SDKs append: `(Service: BedrockRuntime, Status Code: 429, Request ID: …)`
const AWS_REQUEST_SUFFIX = /\s*\(Service: [^()]*Request ID: [^()]*\)/gi;

function stripWrappers(text: string): string {
  let line = text.replace(AWS_REQUEST_SUFFIX, "");
  for (let guard = 0; guard < 3 && GENERIC_PREFIX.test(line); guard += 1)
    line = line.replace(GENERIC_PREFIX, "");
  return line;
}

/** The cause fields as one stable phrase: `[type=… code=… status=… reason=…] message`. */
function describeFields(fields: ErrorBodyFields): string {
  const tags = (["type", "code", "status", "reason"] as const)
    .filter((key) => fields[key] !== undefined && fields[key] !== fields.message)
    .map((key) => `${key}=${fields[key]}`);
  const tagText = tags.length > 0 ? `[${tags.join(" ")}]` : "";
  return [tagText, fields.message ?? ""].filter((part) => part !== "").join(" ");
}

/**
 * Finds a JSON (or a Python repr of JSON, as Python SDKs log it) error body inside the text and
 * reads its cause fields. Undefined when there is none or it carries none of them.
 */
export function findErrorBody(
  text: string,
): { start: number; end: number; fields: ErrorBodyFields } | undefined {
  const start = text.indexOf("{");
  if (start < 0) return undefined;
  const end = findClosingBrace(text, start);
  if (end < 0) return undefined;
  const raw = text.slice(start, end + 1);
  const parsed = parseLenient(raw);
  if (!isRecord(parsed)) return undefined;
  const fields = readFields(parsed, 0);
  if (!fields.message && !fields.type && !fields.code && !fields.reason) return undefined;
  return { start, end: end + 1, fields };
}

/** The index of the brace that closes the one at `start`, skipping braces inside strings. */
function findClosingBrace(text: string, start: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let index = start; index < text.length; index += 1) {
    const char = text[index];
    if (quote) {
      if (char === "\\") index += 1;
      else if (char === quote) quote = undefined;
      continue;
    }
    if (char === '"' || char === "'") quote = char;
    else if (char === "{") depth += 1;
    else if (char === "}") {
      depth -= 1;
      if (depth === 0) return index;
    }
  }
  return -1;
}

function parseLenient(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {}
  // Python's repr of a dict: single quotes, None/True/False
  if (!raw.includes("'")) return undefined;
  const converted = raw
    .replace(/\\'/g, "\uE000")
    .replace(/"/g, '\\"')
    .replace(/'/g, '"')
    .replace(/\uE000/g, "'")
    .replace(/\bNone\b/g, "null")
    .replace(/\bTrue\b/g, "true")
    .replace(/\bFalse\b/g, "false");
  try {
    return JSON.parse(converted);
  } catch {
    return undefined;
  }
}

/**
 * Reads the cause fields of an error object: the nested `error` object wins over the envelope
 * (Anthropic's `{type:"error", error:{type, message}}`), Google's `details[].reason` is a reason,
 * and a `message` that is itself a JSON body (OpenRouter's `metadata.raw`, a proxy's wrapping) is
 * read once more.
 */
function readFields(value: Record<string, unknown>, depth: number): ErrorBodyFields {
  const fields: ErrorBodyFields = {};
  const nested = value.error;
  if (isRecord(nested) && depth < 3) Object.assign(fields, readFields(nested, depth + 1));
  else if (typeof nested === "string" && nested !== "") fields.message = nested;
  const text = (key: string) => {
    const item = value[key];
    if (typeof item === "string" && item !== "") return item;
    if (typeof item === "number" && Number.isFinite(item)) return String(item);
    return undefined;
  };
  // the envelope's `type: "error"` says nothing the nested error does not
  const type = text("type") ?? text("__type");
  if (fields.type === undefined && type !== undefined && type !== "error") fields.type = type;
  fields.code ??= text("code") ?? text("error_code") ?? text("errorCode");
  fields.status ??= text("status");
  fields.message ??= text("message") ?? text("Message") ?? text("detail") ?? text("error_description");
  if (fields.reason === undefined && Array.isArray(value.details)) {
    for (const detail of value.details) {
      if (isRecord(detail) && typeof detail.reason === "string") {
        fields.reason = detail.reason;
        break;
      }
    }
  }
  if (fields.message && depth < 3) {
    const inner = findErrorBody(fields.message);
    if (inner) fields.message = describeFields(inner.fields);
  }
  return fields;
}

// the words after which a number names a cause (an HTTP status, an exit code), so it stays
const CAUSE_NUMBER_BEFORE =
  /(?:^|\berror|\bstatus(?: code)?|\bhttp(?:\/[\d.]+)?|\bcode|\bexit(?: code| status)?|\berrno|\bsignal)[\s:=#"'(]*$/i;

/** Replaces volatile values with placeholders; order matters (URLs before paths before numbers). */
export function replaceVolatile(text: string): string {
  return (
    text
      // URLs keep their host (a name is a cause: which service), not its port, path or query
      .replace(
        /\b(?:https?|wss?|ftp):\/\/([^\s/:'"`<>)\]]+)(?::\d+)?[^\s'"`<>)\]]*/gi,
        (_match, host: string) => (isIpAddress(host) ? "<url>" : `<url ${toSiteName(host)}>`),
      )
      .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, "<uuid>")
      // Kubernetes pod names keep their workload: `gateway-7d9f8b6c5-x2x4z` → `gateway-<pod>`
      .replace(/\b([a-z][a-z0-9-]*?)-(?=[a-z0-9]*\d)[a-z0-9]{8,10}-[a-z0-9]{5}\b/g, "$1-<pod>")
      // dates with a month's name: `Dec 5, 2026 10:14 AM`, `Sat, 05 Dec 2026 10:14:03 GMT` (HTTP dates)
      .replace(
        /\b(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? )?(?:\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d{1,2}(?:st|nd|rd|th)?,?) \d{4}(?:,? \d{1,2}:\d{2}(?::\d{2})?(?: ?[AP]M)?)?(?: (?:GMT|UTC|[+-]\d{4}))?\b/g,
        "<time>",
      )
      .replace(
        /\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b/g,
        "<time>",
      )
      .replace(/\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b/g, "<time>")
      // IPv4 and IPv6 addresses, with their port
      .replace(/\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b/g, "<ip>")
      .replace(/\[[0-9a-f:]*:[0-9a-f:]*\](?::\d+)?/gi, "<ip>")
      .replace(
        /(?<![\w:.<])(?=[0-9a-f:]*::|(?:[0-9a-f]{1,4}:){4})[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?![\w:])/gi,
        "<ip>",
      )
      .replace(/\blocalhost:\d+\b/gi, "localhost:<n>")
      // file paths: POSIX (two segments or more) and Windows
      .replace(/(?<![\w<])(?:~|\.{1,2})?(?:\/[\w.@+-]+){2,}\/?/g, "<path>")
      .replace(/\b[a-z]:\\(?:[^\\\s'"]+\\)*[^\\\s'"]*/gi, "<path>")
      // prefixed ids of providers and tools: req_…, org-…, chatcmpl-…, msg_…, toolu_…, call_…
      .replace(
        /\b(?:req|request|org|chatcmpl|cmpl|msg|toolu|call|run|resp|file|asst|thread|batch|ft|user|proj|sess|session|trace|span|gen|tx|evt|job|task|ch|sub|pi|in|cus)[-_](?=[A-Za-z0-9]*\d)[A-Za-z0-9]{6,}\b/gi,
        "<id>",
      )
      // hex runs (digests, ids, addresses) and long mixed tokens (opaque ids)
      .replace(/\b0x[0-9a-f]+\b/gi, "<hex>")
      .replace(/\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b/gi, "<hex>")
      .replace(/\b[A-Za-z0-9_-]{12,}\b/g, (token) => (isOpaqueToken(token) ? "<id>" : token))
      .replace(/(?<![A-Za-z\d])\d+(?:[.,]\d+)*/g, (match, offset: number, whole: string) =>
        isCauseNumber(match, whole.slice(Math.max(0, offset - 24), offset)) ? match : "<n>",
      )
      // a number with its unit is one value: `1.8s`, `30000ms`, `32.5 GiB`
      .replace(
        /<n>\s?(?:ms|s|sec|secs|seconds?|m|min|minutes?|h|hours?|kb|mb|gb|kib|mib|gib|b|bytes|%)\b/gi,
        "<n>",
      )
      // a run of numbers (`3-5`, `1920x1080`, `1, 2, 3`) is one value; the separator after it stays
      .replace(/(?:<n>[\s,.x*/-]*)*<n>/g, "<n>")
  );
}

/** A token with a random-looking part (12+ letters and digits mixed), unlike `claude-3-opus-20240229`. */
function isOpaqueToken(token: string): boolean {
  return token.split(/[-_]/).some((part) => part.length >= 12 && /\d/.test(part) && /[A-Za-z]/.test(part));
}

function isCauseNumber(number: string, before: string): boolean {
  if (!/^\d{1,3}$/.test(number)) return false;
  return CAUSE_NUMBER_BEFORE.test(before);
}

/** A host's last two labels: `us-east-1.console.aws.amazon.com` is `amazon.com`, one site whatever the region. */
function toSiteName(host: string): string {
  return host.toLowerCase().split(".").slice(-2).join(".");
}

function isIpAddress(host: string): boolean {
  return /^(?:\d{1,3}\.){3}\d{1,3}$/.test(host) || host.includes(":") || host === "localhost";
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
