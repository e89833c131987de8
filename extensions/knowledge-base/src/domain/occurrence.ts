/**
 * One occurrence of an issue (`kb_occurrences`): a failure with its fingerprint, where and when it
 * happened. Its id is a hash of the gateway and the failure's idempotency key, so a turn redelivered
 * after a crash writes the same record again instead of a second one.
 */
import { createHash } from "node:crypto";
import type { FailureObservation } from "./failure-signals.js";
import type { Fingerprint } from "./fingerprint.js";

const HOUR_MS = 3_600_000;

export type Occurrence = {
  id: string;
  /** The entry it belongs to: the fingerprint hash it was grouped under. */
  entry: string;
  version: number;
  ts: number;
  /** The hour it happened in (epoch ms), for the hourly series. */
  hour: number;
  gateway: string;
  kind: Fingerprint["kind"];
  title: string;
  message: string;
  category?: string;
  status?: number;
  provider?: string;
  model?: string;
  tool?: string;
  ruleId?: string;
  agent?: string;
  channel?: string;
  traceId?: string;
  turnId?: string;
  /** The session, hashed (or raw when the operator opted in). */
  session?: string;
};

/** The occurrence of an observed failure under its fingerprint. */
export function toOccurrence(
  observation: FailureObservation,
  fingerprint: Fingerprint,
  entry: string,
  gateway: string,
  hashId: (id: string | undefined) => string | undefined,
): Occurrence {
  const ts = Number.isFinite(observation.ts) ? observation.ts : 0;
  const occurrence: Occurrence = {
    id: createHash("sha256").update(`${gateway}\u0000${observation.key}`).digest("hex").slice(0, 32),
    entry,
    version: fingerprint.version,
    ts,
    hour: Math.floor(ts / HOUR_MS) * HOUR_MS,
    gateway,
    kind: fingerprint.kind,
    title: fingerprint.title,
    message: fingerprint.message,
  };
  for (const key of ["category", "status", "provider", "model", "tool", "ruleId"] as const) {
    const value = fingerprint[key];
    if (value !== undefined) (occurrence as unknown as Record<string, unknown>)[key] = value;
  }
  for (const key of ["agent", "channel", "traceId", "turnId"] as const) {
    const value = observation[key];
    if (value !== undefined) occurrence[key] = value.slice(0, 200);
  }
  const session = hashId(observation.session);
  if (session !== undefined) occurrence.session = session;
  return occurrence;
}
