/**
 * URLs with credentials in them (`https://user:password@host`): the password never leaves in a
 * message, a status file or a run parameter.
 */

const CREDENTIALS = /\/\/([^/?#@\s:]*)(?::[^/?#@\s]*)?@/g;

/** Whether a URL carries a user or a password. */
export function hasUrlCredentials(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.username !== "" || parsed.password !== "";
  } catch {
    return /\/\/[^/?#\s]*@/.test(url);
  }
}

/** The text with every `//user:password@` shown as `//user:***@` (a lone token as `//***@`). */
export function maskUrlCredentials(text: string): string {
  return text.replace(CREDENTIALS, (whole: string, user: string) =>
    whole.includes(":") ? `//${user}:***@` : "//***@",
  );
}
