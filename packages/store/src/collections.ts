/**
 * The collections of the operator's seed design and their default retention. The extension that
 * owns a collection declares it (with its indexes and version); the retention here is the default
 * an operator's `store.retentionDays` overrides.
 */

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** Default retention by collection, in milliseconds; 0 keeps records for good. */
export const DEFAULT_RETENTION_MS = {
  metrics: 90 * DAY_MS,
  alerts: 48 * HOUR_MS,
  snapshots: 30 * DAY_MS,
  consolidations: 365 * DAY_MS,
  audit_logs: 365 * DAY_MS,
  knowledge_base: 0,
  system_state: 0,
  concepts: 0,
  concept_links: 0,
} as const satisfies Record<string, number>;

export type SeedCollection = keyof typeof DEFAULT_RETENTION_MS;

/** The retention of a collection: the operator's days when given, else the default. */
export function retentionMsFor(name: string, retentionDays?: Readonly<Record<string, number>>): number {
  const days = retentionDays?.[name];
  if (typeof days === "number" && Number.isFinite(days) && days >= 0) return Math.round(days * DAY_MS);
  return (DEFAULT_RETENTION_MS as Record<string, number>)[name] ?? 0;
}
