/** The collections this extension owns, with their indexes; retention defaults come from the store package. */
import type { CollectionSpec } from "@clawscope/store";

const DAY_MS = 86_400_000;

/** The collections, with the occurrences kept `occurrenceRetentionDays`. */
export function toCollections(occurrenceRetentionDays: number): CollectionSpec[] {
  return [
    // one record per failure seen, idempotent by its key (a redelivered turn is counted once)
    {
      name: "kb_occurrences",
      timeField: "ts",
      indexes: [
        ["entry", "ts"],
        ["gateway", "ts"],
      ],
      retentionMs: Math.round(occurrenceRetentionDays * DAY_MS),
    },
    // one record per issue: the occurrences rolled up, its status, by fingerprint
    { name: "knowledge_base", timeField: "ts", indexes: [["state"], ["kind"]] },
    // the operator's resolve, archive and merge, each kept: an entry's status is derived from them
    { name: "kb_actions", timeField: "ts", indexes: [["entry", "ts"], ["into"]] },
    // solutions operators recorded on an entry, with author and time
    { name: "kb_solutions", timeField: "ts", indexes: [["entry", "ts"]] },
    // each gateway's config key hashes at its last start, and the changes between starts (the
    // evidence learned solution candidates point at)
    { name: "kb_config", timeField: "ts" },
    { name: "kb_config_changes", timeField: "ts", indexes: [["gateway", "ts"]], retentionMs: 90 * DAY_MS },
    // co-occurrence counts per gateway, hour and process; the concept graph is derived from them
    { name: "concept_counts", timeField: "ts", indexes: [["gateway", "ts"]], retentionMs: 31 * DAY_MS },
    { name: "concepts", timeField: "ts", indexes: [["type"]], retentionMs: 2 * DAY_MS },
    { name: "concept_links", timeField: "ts", indexes: [["source"], ["target"]], retentionMs: 2 * DAY_MS },
    // Alertmanager's alerts received on the webhook, by fingerprint and start (48 hours by default)
    { name: "alerts", timeField: "ts", indexes: [["fingerprint"], ["name", "ts"]], retentionMs: 2 * DAY_MS },
    {
      name: "audit_logs",
      timeField: "ts",
      indexes: [
        ["gateway", "ts"],
        ["action", "ts"],
      ],
    },
  ];
}
