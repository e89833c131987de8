/**
 * Learned solution candidates. At every start the knowledge base records a hash of each key of the
 * gateway's effective config (`ctx.config`, to three levels: `models.providers.openai`,
 * `tools.loopDetection.enabled`, …) — hashes only, never a value, so no secret is stored. When they
 * differ from the previous start's, it records a config change: when, on which gateway, which keys.
 *
 * When an issue goes quiet and its last occurrence lies within a window around a config change on
 * a gateway it affected, the change is evidence of a fix: "stopped after the config change at T
 * (these keys changed)". It is recorded as a candidate, never as a fact.
 *
 * Pure: the service reads and writes the records.
 */
import { createHash } from "node:crypto";
import { toCanonicalJson } from "@clawscope/kit";
import type { IssueEntry } from "./issue-entry.js";

/** How deep the config is split into keys: `a.b.c` is hashed as a whole. */
const KEY_DEPTH = 3;
const MAX_KEYS = 2_000;
/** Changed keys kept per change; the total is kept too. */
const MAX_CHANGED_KEYS = 30;
/** Top-level keys the host writes itself (timestamps of its own edits), not the operator's config. */
const IGNORED_ROOTS = new Set(["meta", "wizard"]);

export type ConfigKeyHash = { path: string; hash: string };

/** This gateway's config keys at its last start (one record per gateway, by its id). */
export type ConfigState = { id: string; gateway: string; ts: number; keys: ConfigKeyHash[] };

/** A start whose config differed from the previous start's on the same gateway. */
export type ConfigChange = {
  id: string;
  gateway: string;
  ts: number;
  /** The changed, added or removed keys (at most 30, sorted). */
  keys: string[];
  /** How many keys changed in all. */
  changed: number;
};

/** The hash of each config key, sorted by path. */
export function toConfigKeys(config: unknown): ConfigKeyHash[] {
  const keys: ConfigKeyHash[] = [];
  const visit = (value: unknown, path: string, depth: number) => {
    if (keys.length >= MAX_KEYS) return;
    if (depth < KEY_DEPTH && isPlainObject(value) && Object.keys(value).length > 0) {
      for (const key of Object.keys(value).sort()) {
        if (depth === 0 && IGNORED_ROOTS.has(key)) continue;
        visit(value[key], path ? `${path}.${key}` : key, depth + 1);
      }
      return;
    }
    if (path) keys.push({ path, hash: hashValue(value) });
  };
  visit(config, "", 0);
  return keys;
}

/** The keys whose hash differs, added or removed between two starts, sorted. */
export function toChangedKeys(previous: readonly ConfigKeyHash[], next: readonly ConfigKeyHash[]): string[] {
  const before = new Map(previous.map((key) => [key.path, key.hash]));
  const after = new Map(next.map((key) => [key.path, key.hash]));
  const changed = new Set<string>();
  for (const [path, hash] of after) if (before.get(path) !== hash) changed.add(path);
  for (const path of before.keys()) if (!after.has(path)) changed.add(path);
  return [...changed].sort();
}

/** The change record for a start, or undefined when nothing changed (or there is no previous start). */
export function toConfigChange(
  previous: ConfigState | undefined,
  next: ConfigState,
): ConfigChange | undefined {
  if (!previous || !Array.isArray(previous.keys)) return undefined;
  const changed = toChangedKeys(previous.keys, next.keys);
  if (changed.length === 0) return undefined;
  return {
    id: `${next.gateway}:${next.ts}`,
    gateway: next.gateway,
    ts: next.ts,
    keys: changed.slice(0, MAX_CHANGED_KEYS),
    changed: changed.length,
  };
}

/** Occurrences this long after a change still count as stopped by it (requests already in flight). */
const IN_FLIGHT_MS = 5 * 60_000;

/**
 * The config change that best explains why an entry stopped: on a gateway the entry affected,
 * after the entry first occurred, at most `windowMs` after its last occurrence, and with no
 * occurrence later than a few minutes after it (requests in flight during the restart). The
 * nearest wins.
 */
export function findStoppingChange(
  entry: Pick<IssueEntry, "firstSeen" | "lastSeen" | "affected">,
  changes: readonly ConfigChange[],
  windowMs: number,
): ConfigChange | undefined {
  const gateways = new Set(entry.affected.gateways.map((item) => item.name));
  let best: ConfigChange | undefined;
  for (const change of changes) {
    if (!gateways.has(change.gateway)) continue;
    if (change.ts < entry.firstSeen) continue;
    if (change.ts - entry.lastSeen > windowMs) continue;
    if (entry.lastSeen - change.ts > Math.min(IN_FLIGHT_MS, windowMs)) continue;
    const distance = Math.abs(change.ts - entry.lastSeen);
    if (!best || distance < Math.abs(best.ts - entry.lastSeen)) best = change;
  }
  return best;
}

/** The candidate's text, e.g. "Stopped after the config change at 2026-12-05T10:00:00.000Z on gw-1 (keys changed: …)". */
export function describeStoppingChange(change: ConfigChange): string {
  const more = change.changed > change.keys.length ? `, and ${change.changed - change.keys.length} more` : "";
  return `Stopped after the config change at ${new Date(change.ts).toISOString()} on ${change.gateway} (keys changed: ${change.keys.join(", ")}${more}). A candidate, not a confirmed fix: check that the change addressed it.`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function hashValue(value: unknown): string {
  return createHash("sha256").update(toCanonicalJson(value)).digest("hex").slice(0, 16);
}
