/**
 * Metric label values, bounded: every value is a short printable string, missing values read
 * "unknown", and anything that looks like an identifier becomes "other" — ids multiply series
 * without limit and can be personal, so they never become labels, even by accident.
 */

/** The value of a label whose source field was missing. */
export const UNKNOWN_LABEL = "unknown";
/** The value of a label whose source looked like an id. */
export const OTHER_LABEL = "other";
/** Longest label value; longer ones are cut. */
export const MAX_LABEL_CHARS = 64;

const ID_PATTERNS: readonly RegExp[] = [
  // a UUID, or its first groups
  /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}/i,
  // a run of hex as in hashes, trace ids, object ids
  /[0-9a-f]{16,}/i,
  // epoch timestamps and numeric chat/message ids (dates such as 20241022 in model names stay)
  /\d{10,}/,
  // OpenClaw session keys (`agent:main:<name>`) and lanes built from them (`session:agent:…`)
  /(^|[:/])agent:/i,
  // provider response ids; they carry digits, which keeps reasons such as `run_started` readable
  /^(chatcmpl|resp|msg|call|run|req)[_-]\S*\d/i,
  // e-mail addresses and phone-like identities
  /@/,
  /^\+?\d[\d\s-]{6,}$/,
];

/**
 * Normalizes one label value: non-strings and blanks → "unknown", id-like → "other", control
 * characters replaced, length capped at {@link MAX_LABEL_CHARS}.
 */
export function toLabelValue(value: unknown): string {
  if (typeof value !== "string") return UNKNOWN_LABEL;
  const bounded = value.slice(0, MAX_LABEL_CHARS * 4).trim();
  if (bounded === "") return UNKNOWN_LABEL;
  if (looksLikeId(bounded)) return OTHER_LABEL;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is replaced
  const printable = bounded.replace(/[\u0000-\u001f\u007f]/g, "_");
  return printable.slice(0, MAX_LABEL_CHARS);
}

/** Whether a value looks like an identifier (session key, UUID, hash, long number, e-mail). */
export function looksLikeId(value: string): boolean {
  return ID_PATTERNS.some((pattern) => pattern.test(value));
}

/**
 * A queue lane as a label: only its kind. Session lanes are named after the session key
 * (`session:agent:main:<name>`), so `session:…` becomes `session`; `main` stays `main`.
 */
export function toLaneLabel(lane: unknown): string {
  if (typeof lane !== "string") return UNKNOWN_LABEL;
  const separator = lane.indexOf(":");
  return toLabelValue(separator < 0 ? lane : lane.slice(0, separator));
}
