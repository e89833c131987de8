/** One-line descriptions of thrown values for log lines and health. */

const MAX_CHARS = 500;

/** One line describing anything thrown; safe even when its `message` or `toString` throw. */
export function describeError(error: unknown): string {
  try {
    const text = error instanceof Error ? error.message : String(error);
    return text.replace(/\s+/g, " ").trim().slice(0, MAX_CHARS);
  } catch {
    return "unreadable error";
  }
}
