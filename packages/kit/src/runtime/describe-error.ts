/**
 * One description of anything thrown, for every log line, health entry and send failure of the pack
 * (there used to be five, each a little different). One line, whitespace collapsed, bounded, safe
 * even when `message`, `cause` or `toString` throw. Node's network errors say only `fetch failed`:
 * the cause chain's code and message are added (`fetch failed: ECONNREFUSED connect ECONNREFUSED
 * 127.0.0.1:4318`), and credentials in URLs (`//user:pass@`) are cut out.
 */

const DEFAULT_MAX_CHARS = 300;

/** One line describing `error`, at most `maxChars` (default 300) characters. */
export function describeError(error: unknown, maxChars = DEFAULT_MAX_CHARS): string {
  try {
    if (typeof error === "string") return oneLine(error, maxChars);
    if (!(error instanceof Error))
      return oneLine(error === undefined ? "undefined" : String(error), maxChars);
    if (error.name === "AbortError") return "aborted";
    const parts: string[] = [];
    let current: unknown = error;
    for (let depth = 0; depth < 3 && current instanceof Error; depth += 1) {
      const code = (current as { code?: unknown }).code;
      const message = String(current.message ?? "");
      const part =
        typeof code === "string" && !message.includes(code) ? `${code} ${message}`.trim() : message;
      if (part !== "" && !parts.some((seen) => seen.includes(part))) parts.push(part);
      current = (current as { cause?: unknown }).cause;
    }
    if (current !== undefined && !(current instanceof Error) && parts.length < 3) {
      const code = (current as { code?: unknown } | null)?.code;
      if (typeof code === "string" && !parts.some((seen) => seen.includes(code))) parts.push(code);
    }
    return oneLine(parts.length > 0 ? parts.join(": ") : error.name || "error", maxChars);
  } catch {
    return "unreadable error";
  }
}

function oneLine(text: string, maxChars: number): string {
  const line = text
    .replace(/\/\/[^/\s@]*@/g, "//")
    .replace(/\s+/g, " ")
    .trim();
  return line.length > maxChars ? `${line.slice(0, maxChars - 1)}…` : line;
}
