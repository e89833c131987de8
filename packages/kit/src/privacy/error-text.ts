/**
 * Error text from the host (a provider's message, a webhook's error) is free text that may quote a
 * request: it leaves the gateway only as one redacted, bounded line.
 */
import { redactText } from "./redact.js";
import { truncate } from "./truncate.js";

/** How long an error line may be by default. */
export const MAX_ERROR_TEXT_CHARS = 256;

/**
 * One line of error text, secrets and personal data redacted before it is cut to `maxChars`.
 * Undefined for anything that is not a non-empty string.
 */
export function toErrorText(text: unknown, maxChars: number = MAX_ERROR_TEXT_CHARS): string | undefined {
  if (typeof text !== "string" || text.length === 0) return undefined;
  // cut generously first so the redaction pass stays bounded on huge input, then exactly after it
  const oneLine = text
    .slice(0, maxChars * 8)
    .replace(/\s+/g, " ")
    .trim();
  if (oneLine === "") return undefined;
  return truncate(redactText(oneLine), maxChars);
}
