/**
 * Issue entries (`knowledge_base`): the occurrences of one fingerprint rolled up — count, first and
 * last seen, trend, who and where it affected, example traces — and a status derived from the
 * occurrences' times and the operator's actions:
 *
 * - `open`: occurring;
 * - `quiet`: no occurrence for `quietAfterMs`;
 * - `regressed`: back after a quiet period, after being resolved, or (archived until escalating)
 *   at a rate well above its usual one; it stays so until it goes quiet or is resolved again;
 * - `resolved` and `archived`: the operator said so, and nothing has come back since;
 * - `merged`: the operator merged it into another entry, which now receives its occurrences.
 *
 * Pure: the repository gathers the figures from the store and writes what this returns.
 */

import { toTurnTraceId } from "@clawscope/kit/otlp";
import type { FailureKind } from "./fingerprint.js";

/** How many occurrences one agent, channel, model or gateway had. */
export type NameCount = { name: string; count: number };

/** Whether `name` is among the affected. */
export function isAffected(list: readonly NameCount[], name: string): boolean {
  return list.some((item) => item.name === name);
}

/** Occurrences in one hour (its start, epoch ms). */
export type HourCount = { hour: number; count: number };

export type EntryStatus = "open" | "quiet" | "regressed" | "resolved" | "archived" | "merged";
export type EntryTrend = "rising" | "steady" | "falling";

/** An example occurrence with its trace links. */
export interface EntryExample {
  ts: number;
  traceId?: string;
  turnId?: string;
  gateway?: string;
  links: Record<string, string>;
}

/** One issue entry as stored. */
export type IssueEntry = {
  id: string;
  /** The fingerprint algorithm version that made it (it keeps receiving what that version groups). */
  version: number;
  /** Every fingerprint hash grouped here (its own, and those of entries merged into it). */
  fingerprints: string[];
  title: string;
  kind: FailureKind;
  category?: string;
  status?: number;
  provider?: string;
  model?: string;
  tool?: string;
  /** The normalized message (volatile values as placeholders, secrets redacted). */
  message: string;
  ruleId?: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
  /** The store's time field: the last occurrence (retention keeps what recurred). */
  ts: number;
  /** Occurrences per hour, for the last 7 days (objects: MongoDB-wire servers such as FerretDB refuse nested arrays). */
  hourly: HourCount[];
  trend: EntryTrend;
  /**
   * Who and where, most affected first, with counts. Lists, not maps keyed by name: a model's name
   * (`gpt-4.1`) would be a key with a dot, which MongoDB-wire servers such as FerretDB refuse.
   */
  affected: {
    agents: NameCount[];
    channels: NameCount[];
    models: NameCount[];
    gateways: NameCount[];
  };
  examples: EntryExample[];
  state: EntryStatus;
  /** When and after what it last regressed. */
  regression?: { at: number; after: "quiet" | "resolved" | "archived" };
  resolvedAt?: number;
  archivedAt?: number;
  mergedInto?: string;
  updatedAt: number;
};

/** The operator's last word on an entry, from `kb_actions`. */
export interface EntryDecision {
  resolvedAt?: number;
  archivedAt?: number;
  /** Occurrences per hour before the archive: the usual rate escalation is measured against. */
  archivedBaselinePerHour?: number;
  mergedInto?: string;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** How far above its usual hourly rate an archived entry must rise to come back. */
export const ESCALATION_FACTOR = 3;
/** ...and by at least this many occurrences an hour (a rate of 1 becoming 3 is not an escalation). */
export const ESCALATION_MIN_EXCESS = 5;

/**
 * The status of an entry, now. `gapBefore` says when the latest occurrence that followed a quiet gap
 * happened (the repository finds it among the new occurrences), if any.
 */
export function deriveEntryStatus(input: {
  lastSeen: number;
  now: number;
  quietAfterMs: number;
  decision: EntryDecision;
  previous?: Pick<IssueEntry, "regression">;
  /** The first occurrence after a gap of at least `quietAfterMs`, among those just added. */
  returnedAfterQuietAt?: number;
  /** The first occurrence after the resolve, if any. */
  firstAfterResolveAt?: number;
  /** The first hour after the archive whose count escalated, if any. */
  escalatedAt?: number;
}): Pick<IssueEntry, "state" | "regression"> {
  const { decision, lastSeen, now } = input;
  if (decision.mergedInto) return { state: "merged" };
  let regression = input.previous?.regression;
  if (input.returnedAfterQuietAt !== undefined && (regression?.at ?? -1) < input.returnedAfterQuietAt)
    regression = { at: input.returnedAfterQuietAt, after: "quiet" };
  if (decision.resolvedAt !== undefined) {
    if (input.firstAfterResolveAt === undefined) return { state: "resolved" };
    if ((regression?.at ?? -1) < input.firstAfterResolveAt)
      regression = { at: input.firstAfterResolveAt, after: "resolved" };
  }
  if (decision.archivedAt !== undefined) {
    if (input.escalatedAt === undefined) return { state: "archived", ...(regression ? { regression } : {}) };
    if ((regression?.at ?? -1) < input.escalatedAt) regression = { at: input.escalatedAt, after: "archived" };
  }
  if (now - lastSeen >= input.quietAfterMs) return { state: "quiet", ...(regression ? { regression } : {}) };
  // a regression older than the operator's last decision is history, not the state
  const decidedAt = Math.max(decision.resolvedAt ?? -1, decision.archivedAt ?? -1);
  if (regression && regression.at > decidedAt) return { state: "regressed", regression };
  return { state: "open", ...(regression ? { regression } : {}) };
}

/**
 * The first occurrence, among `times` (ascending, all after `previousLastSeen`), that came at least
 * `quietAfterMs` after the one before it.
 */
export function findReturnAfterQuiet(
  previousLastSeen: number | undefined,
  times: readonly number[],
  quietAfterMs: number,
): number | undefined {
  let before = previousLastSeen;
  let found: number | undefined;
  for (const time of times) {
    if (before !== undefined && time - before >= quietAfterMs) found = time;
    before = time;
  }
  return found;
}

/** The first hour after `archivedAt` whose count rose well above the usual rate. */
export function findEscalation(
  hourly: readonly HourCount[],
  archivedAt: number,
  baselinePerHour: number,
): number | undefined {
  const threshold = Math.max(baselinePerHour * ESCALATION_FACTOR, baselinePerHour + ESCALATION_MIN_EXCESS);
  for (const { hour, count } of hourly) {
    if (hour + HOUR_MS <= archivedAt) continue;
    if (count >= threshold) return Math.max(hour, archivedAt);
  }
  return undefined;
}

/** The usual hourly rate over the week before `at` (occurrences / hours the entry existed in it). */
export function toBaselinePerHour(hourly: readonly HourCount[], at: number, firstSeen: number): number {
  const from = Math.max(at - 7 * DAY_MS, firstSeen);
  const hours = Math.max(1, Math.ceil((at - from) / HOUR_MS));
  const total = hourly
    .filter(({ hour }) => hour >= from - HOUR_MS && hour < at)
    .reduce((sum, { count }) => sum + count, 0);
  return total / hours;
}

/**
 * Rising or falling: the last 24 hours against the 24 before, when the change is at least twofold
 * and at least 3 occurrences (a handful of occurrences is not a trend).
 */
export function toTrend(hourly: readonly HourCount[], now: number): EntryTrend {
  let recent = 0;
  let before = 0;
  for (const { hour, count } of hourly) {
    if (hour >= now - DAY_MS) recent += count;
    else if (hour >= now - 2 * DAY_MS) before += count;
  }
  if (recent >= 2 * before && recent - before >= 3) return "rising";
  if (before >= 2 * recent && before - recent >= 3) return "falling";
  return "steady";
}

/**
 * Fills a trace-link template. `{traceId}` is the host's trace id; `{langfuseTraceId}`,
 * `{mlflowTraceId}` (MLflow's `tr-…` request id) and `{otelTraceId}` are the ids the pack's own
 * exporters gave the turn (each in its namespace); `{turnId}` and `{gateway}` as they are. Undefined
 * when a value the template needs is missing.
 */
export function toTraceLink(
  template: string,
  example: { traceId?: string; turnId?: string; gateway?: string },
): string | undefined {
  let missing = false;
  const link = template.replace(/\{(\w+)\}/g, (match, key: string) => {
    const value = traceLinkValue(key, example);
    if (value === null) return match;
    if (!value) missing = true;
    return encodeURIComponent(value ?? "");
  });
  return missing ? undefined : link;
}

function traceLinkValue(
  key: string,
  example: { traceId?: string; turnId?: string; gateway?: string },
): string | undefined | null {
  switch (key) {
    case "traceId":
    case "turnId":
    case "gateway":
      return example[key];
    case "langfuseTraceId":
      return example.turnId && toTurnTraceId("clawscope-langfuse", example.turnId);
    case "mlflowTraceId":
      return example.turnId && `tr-${toTurnTraceId("clawscope-mlflow", example.turnId)}`;
    case "otelTraceId":
      return example.turnId && toTurnTraceId("clawscope-otel", example.turnId);
    default:
      // not ours: left as written (a URL may hold braces of its own)
      return null;
  }
}
