/**
 * Text that reaches a log line or a status file from outside (a backend's answer, a host error)
 * is made printable first: one line, control characters escaped (a NUL or an ANSI escape in a
 * proxy's error page must not corrupt a terminal or a log pipeline), URL passwords masked, bounded.
 */

import { maskUrlCredentials } from "./url-credentials.js";

/** Most characters a log line carries from outside. */
export const MAX_LOG_TEXT_CHARS = 2000;

/** One printable line: whitespace runs become one space, other control characters `\uXXXX`, cut to `maxChars`. */
export function toLogText(text: unknown, maxChars: number = MAX_LOG_TEXT_CHARS): string {
  const line = maskUrlCredentials(String(text).slice(0, maxChars * 2))
    .replace(/[\t\n\v\f\r ]+/g, " ")
    .replace(
      // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping them is the point
      /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
      (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
  return line.length > maxChars ? `${line.slice(0, maxChars - 1)}…` : line;
}
