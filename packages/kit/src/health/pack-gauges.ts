/**
 * Figures one extension computes and another exports: the memory's budget burn, anomaly counts and
 * last snapshot and consolidation times, and the knowledge base's issue counts, which
 * `clawscope-otel` exports as OTLP gauges when it runs, and which each extension also serves in
 * Prometheus's text format when it does not. The definitions
 * (names, units, labels) live here because both extensions use them and neither imports the other;
 * the readings pass through `globalThis`, which every copy of the kit in the process shares.
 */

/** One gauge: its OTel name (dots) and the name Prometheus shows for it (the same in both paths). */
export interface PackGaugeDefinition {
  name: string;
  prometheusName: string;
  /** UCUM unit, or an annotation in braces that Prometheus name conversion leaves out. */
  unit: string;
  description: string;
  /** The only label keys (OTel form; `.` becomes `_` for Prometheus). */
  labels: readonly string[];
}

export interface PackGaugeReading {
  name: string;
  value: number;
  attributes?: Readonly<Record<string, string>>;
}

export const PACK_GAUGES = {
  budgetLimit: {
    name: "clawscope.memory.budget.limit",
    prometheusName: "clawscope_memory_budget_limit",
    unit: "{USD}",
    description: "The configured budget in US dollars, by period (daily, monthly).",
    labels: ["clawscope.budget.period"],
  },
  spend: {
    name: "clawscope.memory.spend",
    prometheusName: "clawscope_memory_spend",
    unit: "{USD}",
    description:
      "Spend in US dollars from the latest daily consolidation: the consolidated day, the month to that day, and the month-end projection.",
    labels: ["clawscope.spend.window"],
  },
  overBudget: {
    name: "clawscope.memory.over_budget",
    prometheusName: "clawscope_memory_over_budget",
    // not "1": a collector's Prometheus exporter would append `_ratio` to the name
    unit: "{flag}",
    description:
      "1 when the latest consolidation is over a budget (daily, monthly, projected_monthly), else 0.",
    labels: ["clawscope.budget.period"],
  },
  anomalies: {
    name: "clawscope.memory.anomalies",
    prometheusName: "clawscope_memory_anomalies",
    unit: "{anomaly}",
    description:
      "Anomalous hours in the latest daily consolidation, by kind (cost, tokens, error_rate, p95_latency).",
    labels: ["clawscope.anomaly.kind"],
  },
  lastSnapshot: {
    name: "clawscope.memory.last_snapshot.time",
    prometheusName: "clawscope_memory_last_snapshot_time",
    unit: "{unix_seconds}",
    description: "When this gateway last took its hourly snapshot (Unix seconds).",
    labels: [],
  },
  lastConsolidation: {
    name: "clawscope.memory.last_consolidation.time",
    prometheusName: "clawscope_memory_last_consolidation_time",
    unit: "{unix_seconds}",
    description:
      "When the latest daily consolidation of the fleet was written (Unix seconds), by any gateway.",
    labels: [],
  },
  kbIssues: {
    name: "clawscope.kb.issues",
    prometheusName: "clawscope_kb_issues",
    unit: "{issue}",
    description:
      "Issue entries in the knowledge base, by state (open, quiet, regressed, resolved, archived), fleet-wide.",
    labels: ["clawscope.issue.state"],
  },
  kbNewIssues: {
    name: "clawscope.kb.new_issues",
    prometheusName: "clawscope_kb_new_issues",
    unit: "{issue}",
    description: "Issue entries first seen in the last hour, fleet-wide.",
    labels: [],
  },
  kbRegressions: {
    name: "clawscope.kb.regressions",
    prometheusName: "clawscope_kb_regressions",
    unit: "{issue}",
    description:
      "Issue entries that regressed in the last hour (back after quiet, resolve or archive), fleet-wide.",
    labels: [],
  },
} as const satisfies Record<string, PackGaugeDefinition>;

export const PACK_GAUGE_DEFINITIONS: readonly PackGaugeDefinition[] = Object.values(PACK_GAUGES);

const GAUGES_KEY = Symbol.for("clawscope.pack-gauges.v1");
type Publishers = Map<string, () => readonly PackGaugeReading[]>;

function publishers(): Publishers {
  const global = globalThis as { [GAUGES_KEY]?: Publishers };
  global[GAUGES_KEY] ??= new Map();
  return global[GAUGES_KEY];
}

/** Publishes an extension's gauges (read at each collection); returns the function that withdraws them. */
export function publishPackGauges(pluginId: string, read: () => readonly PackGaugeReading[]): () => void {
  publishers().set(pluginId, read);
  return () => {
    if (publishers().get(pluginId) === read) publishers().delete(pluginId);
  };
}

/** Every published reading with a finite value and a known name; a publisher that throws is skipped. */
export function readPackGauges(): PackGaugeReading[] {
  const known = new Set(PACK_GAUGE_DEFINITIONS.map((definition) => definition.name));
  const readings: PackGaugeReading[] = [];
  for (const read of publishers().values()) {
    try {
      for (const reading of read())
        if (known.has(reading.name) && Number.isFinite(reading.value)) readings.push(reading);
    } catch {
      // one extension's broken figures do not cost the others theirs
    }
  }
  return readings;
}

/** Readings in Prometheus's text exposition format (0.0.4), with HELP and TYPE lines. */
export function toPrometheusText(readings: readonly PackGaugeReading[]): string {
  const lines: string[] = [];
  for (const definition of PACK_GAUGE_DEFINITIONS) {
    const own = readings.filter((reading) => reading.name === definition.name);
    if (own.length === 0) continue;
    lines.push(`# HELP ${definition.prometheusName} ${definition.description}`);
    lines.push(`# TYPE ${definition.prometheusName} gauge`);
    for (const reading of own) {
      const labels = Object.entries(reading.attributes ?? {})
        .filter(([key]) => definition.labels.includes(key))
        .map(([key, value]) => `${key.replace(/\./g, "_")}="${escapeLabel(value)}"`);
      lines.push(
        `${definition.prometheusName}${labels.length > 0 ? `{${labels.join(",")}}` : ""} ${reading.value}`,
      );
    }
  }
  return lines.length > 0 ? `${lines.join("\n")}\n` : "";
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}
