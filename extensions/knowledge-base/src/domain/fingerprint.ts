/**
 * The fingerprint of a failure: what groups its occurrences into one issue entry. It is built from
 * the failure's kind, its category and status, the provider and model (or the tool), and the
 * normalized message, and it records the version of the algorithm that built it.
 *
 * Versioning follows the lesson of Sentry's grouping configs: an entry keeps the version it was
 * created with, and a new algorithm never silently regroups existing entries. A failure is first
 * looked up under the current version; when no entry has that fingerprint, under every older version
 * still known, so an entry made by an older version keeps receiving its occurrences.
 */
import { createHash } from "node:crypto";
import { normalizeErrorMessage, toGroupingKey } from "./error-message.js";
import { type FingerprintRule, matchRule } from "./fingerprint-rules.js";

/** The grouping algorithm's current version; every fingerprint records the one that built it. */
export const FINGERPRINT_VERSION = 1;

/** What failed. */
export type FailureKind =
  | "provider_error"
  | "tool_error"
  | "tool_blocked"
  | "tool_loop"
  | "session_stuck"
  | "turn_incomplete"
  | "export_failure"
  | "alert";

/** One failure as the analyzer sees it, before grouping. */
export interface FailureSignal {
  kind: FailureKind;
  /** The host's error category (`rate_limit`, `timeout`, …), an alert's name, an export's backend. */
  category?: string;
  /** An HTTP status, when the failure has one. */
  status?: number;
  provider?: string;
  model?: string;
  tool?: string;
  /** The raw error text (it is redacted and normalized here, never kept raw). */
  message?: string;
}

/** A signal's fingerprint and the parts it was built from. */
export interface Fingerprint {
  /** 16 hex chars of SHA-256 over the parts. */
  hash: string;
  version: number;
  /** The operator rule that assigned or refined it, when one matched. */
  ruleId?: string;
  kind: FailureKind;
  category?: string;
  status?: number;
  provider?: string;
  model?: string;
  tool?: string;
  /** The normalized message (placeholders for volatile values; secrets redacted). */
  message: string;
  /** A short readable title for the entry. */
  title: string;
}

type Parts = (string | number | undefined)[];
/** One grouping algorithm: the parts a signal's fingerprint hashes. */
export type GroupingAlgorithm = (signal: FailureSignal, message: string) => Parts;

/** The parts each known version groups by; older versions stay here as long as entries use them. */
const ALGORITHMS: Readonly<Record<number, GroupingAlgorithm>> = {
  1: (signal, message) => [
    signal.kind,
    clean(signal.category),
    signal.status,
    // a provider failure belongs to its model; a tool failure to its tool
    signal.kind === "provider_error" ? clean(signal.provider) : undefined,
    signal.kind === "provider_error" ? clean(signal.model) : undefined,
    signal.kind === "provider_error" ? undefined : clean(signal.tool),
    toGroupingKey(message),
  ],
};

/**
 * The fingerprint of a signal under `version` (default the current one), after the operator's
 * rules: the first rule that matches either assigns a fingerprint of its own (every failure it
 * matches is one entry) or refines the default one (appends its value to the parts).
 */
export function toFingerprint(
  signal: FailureSignal,
  rules: readonly FingerprintRule[] = [],
  version: number = FINGERPRINT_VERSION,
  algorithms: Readonly<Record<number, GroupingAlgorithm>> = ALGORITHMS,
): Fingerprint {
  const algorithm = algorithms[version] ?? ALGORITHMS[FINGERPRINT_VERSION];
  const message = normalizeErrorMessage(signal.message);
  const rule = rules.find((candidate) => matchRule(candidate, signal, message));
  const defaultParts = algorithm ? algorithm(signal, message) : [];
  const parts: Parts =
    rule?.assign !== undefined
      ? ["rule", rule.assign]
      : rule?.refine !== undefined
        ? [...defaultParts, "refine", rule.refine]
        : defaultParts;
  const fingerprint: Fingerprint = {
    hash: hashParts(version, parts),
    version,
    kind: signal.kind,
    message,
    title: toTitle(signal, message),
  };
  if (rule) fingerprint.ruleId = rule.id;
  const category = clean(signal.category);
  if (category) fingerprint.category = category;
  if (typeof signal.status === "number" && Number.isInteger(signal.status))
    fingerprint.status = signal.status;
  for (const key of ["provider", "model", "tool"] as const) {
    const value = clean(signal[key]);
    if (value) fingerprint[key] = value;
  }
  return fingerprint;
}

/** The versions a table knows, newest first. */
function versionsOf(algorithms: Readonly<Record<number, GroupingAlgorithm>>): number[] {
  return Object.keys(algorithms)
    .map(Number)
    .sort((left, right) => right - left);
}
const DEFAULT_VERSIONS = versionsOf(ALGORITHMS);

/**
 * The fingerprint a signal is grouped under: its current version's, unless an entry made by an
 * older version already receives this failure — then that one, so a new version never regroups
 * existing entries (they keep growing under the grouping that made them; new causes get the new
 * grouping). `hasEntry` says whether an entry exists under a hash.
 */
export function toGroupingFingerprint(
  signal: FailureSignal,
  rules: readonly FingerprintRule[],
  hasEntry: (hash: string) => boolean,
  algorithms: Readonly<Record<number, GroupingAlgorithm>> = ALGORITHMS,
): Fingerprint {
  const versions = algorithms === ALGORITHMS ? DEFAULT_VERSIONS : versionsOf(algorithms);
  const current = toFingerprint(signal, rules, versions[0], algorithms);
  if (versions.length === 1 || hasEntry(current.hash)) return current;
  for (const version of versions.slice(1)) {
    const older = toFingerprint(signal, rules, version, algorithms);
    if (hasEntry(older.hash)) return older;
  }
  return current;
}

function hashParts(version: number, parts: Parts): string {
  const text = JSON.stringify([version, ...parts.map((part) => part ?? null)]);
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/** `provider_error 429 openai/gpt-4o: Rate limit reached …`, at most 160 characters. */
function toTitle(signal: FailureSignal, message: string): string {
  const subject =
    signal.kind === "provider_error"
      ? [clean(signal.provider), clean(signal.model)].filter(Boolean).join("/")
      : (clean(signal.tool) ?? "");
  const head = [signal.kind.replace("_", " "), clean(signal.category), signal.status, subject]
    .filter((part) => part !== undefined && part !== "")
    .join(" ");
  const title = message ? `${head}: ${message}` : head;
  return title.length > 160 ? `${title.slice(0, 159)}…` : title;
}

function clean(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const trimmed = value.trim().slice(0, 200);
  return trimmed === "" ? undefined : trimmed;
}
