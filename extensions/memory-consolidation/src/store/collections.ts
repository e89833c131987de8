/** The collections this extension owns, with their indexes; retention defaults come from the store package. */
import type { CollectionSpec } from "@clawscope/store";

const DAY_MS = 86_400_000;

export const COLLECTIONS: readonly CollectionSpec[] = [
  // one record per turn, kept long enough to recompute any recent minute (a spool drained late, a restart)
  { name: "turn_facts", timeField: "ts", indexes: [["gateway", "ts"]], retentionMs: 3 * DAY_MS },
  { name: "metrics", timeField: "ts", indexes: [["gateway", "ts"], ["day"]] },
  // one record per gateway and minute: each tool's calls, failures and durations, and error categories
  { name: "tool_rollups", timeField: "ts", indexes: [["gateway", "ts"]], retentionMs: 90 * DAY_MS },
  // one record per gateway and hour
  { name: "snapshots", timeField: "ts", indexes: [["gateway", "ts"]] },
  // one record per scope (the fleet, or a gateway) and day
  { name: "consolidations", timeField: "ts", indexes: [["scope", "ts"], ["date"]] },
  // one record per day and channel the digest was sent on: what makes it once per day (a year, as the consolidations)
  { name: "deliveries", timeField: "ts", indexes: [["date"]], retentionMs: 365 * DAY_MS },
  // who or what did what, when, and how it went: consolidations run, config loaded
  {
    name: "audit_logs",
    timeField: "ts",
    indexes: [
      ["gateway", "ts"],
      ["action", "ts"],
    ],
  },
];
