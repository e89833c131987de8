/** A consolidation as Markdown: what an operator reads in the morning. */
import type { Consolidation, DimensionRow } from "../domain/consolidation.js";

const usd = (value: number) => `$${value.toFixed(4)}`;
const percent = (value: number | null) =>
  value === null ? "–" : `${value >= 0 ? "+" : ""}${(value * 100).toFixed(0)}%`;

export function toMarkdown(record: Consolidation): string {
  const lines = [
    `# ${record.date} — ${record.scope === "fleet" ? "fleet" : `gateway ${record.scope}`}`,
    "",
    record.summary,
    "",
  ];
  if (record.noTraffic) return `${lines.join("\n")}\n`;
  const totals = record.totals;
  lines.push(
    "## Totals",
    "",
    "| turns | cost | tokens | model-call errors | unknown-cost turns | cache hit | p50 | p95 |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    `| ${totals.turns} | ${usd(totals.costUsd)} | ${totals.tokens} | ${(totals.errorRate * 100).toFixed(1)}% | ${totals.costUnknownTurns} | ${totals.cacheHitRatio === null ? "–" : `${(totals.cacheHitRatio * 100).toFixed(0)}%`} | ${totals.p50Ms ?? "–"} ms | ${totals.p95Ms ?? "–"} ms |`,
    "",
    `Change in cost: ${percent(record.change.vsPreviousDay.costUsd)} vs the day before, ${percent(record.change.vsBaseline.costUsd)} vs the ${record.change.baselineDays}-day mean.`,
    "",
  );
  if (record.anomalies.length > 0) {
    lines.push("## Anomalies", "", `Method: ${record.anomalyMethod}.`, "");
    for (const anomaly of record.anomalies) {
      const driver = anomaly.driver
        ? ` — driven by ${anomaly.driver.dimension} **${anomaly.driver.value}**`
        : "";
      lines.push(
        `- ${anomaly.hour.slice(11, 16)} UTC: ${anomaly.kind} ${anomaly.value} (baseline median ${anomaly.baselineMedian}, score ${anomaly.score})${driver}`,
      );
    }
    lines.push("");
  }
  const budget = record.budget;
  if (budget.dailyUsd !== null || budget.monthlyUsd !== null) {
    lines.push(
      "## Budget",
      "",
      `- day: ${usd(budget.dayCostUsd)}${budget.dailyUsd !== null ? ` of ${usd(budget.dailyUsd)}${budget.overDaily ? " — **OVER BUDGET**" : ""}` : ""}`,
      `- month so far: ${usd(budget.monthToDateUsd)}, projected ${usd(budget.projectedMonthUsd)}${budget.monthlyUsd !== null ? ` of ${usd(budget.monthlyUsd)}${budget.overMonthly || budget.projectedOverMonthly ? " — **OVER BUDGET**" : ""}` : ""}`,
      "",
    );
  }
  for (const dimension of ["model", "agent", "provider", "channel", "outcome"] as const) {
    const rows = record.by[dimension];
    if (rows.length === 0) continue;
    lines.push(
      `## By ${dimension}`,
      "",
      "| | turns | cost | tokens | vs day before | vs baseline |",
      "| --- | ---: | ---: | ---: | ---: | ---: |",
    );
    for (const row of rows.slice(0, 15)) lines.push(toRow(row));
    lines.push("");
  }
  if (record.errorCategories.length > 0) {
    lines.push("## Top error categories", "");
    for (const entry of record.errorCategories) lines.push(`- ${entry.category}: ${entry.count}`);
    lines.push("");
  }
  if (record.tools.length > 0) {
    lines.push(
      "## Tools",
      "",
      "| tool | calls | failures | mean | max |",
      "| --- | ---: | ---: | ---: | ---: |",
    );
    for (const tool of record.tools)
      lines.push(
        `| ${tool.name.replace(/\|/g, "\\|")} | ${tool.calls} | ${tool.failures} | ${tool.meanMs} ms | ${tool.maxMs} ms |`,
      );
    lines.push(
      "",
      `Slowest: ${record.slowestTools.map((tool) => `${tool.name} (${tool.meanMs} ms mean)`).join(", ")}.`,
      "",
    );
  }
  const firsts = Object.entries(record.newValues ?? {}).filter(([, values]) => values.length > 0);
  if (firsts.length > 0) {
    lines.push("## Seen for the first time", "");
    for (const [dimension, values] of firsts) lines.push(`- ${dimension}: ${values.join(", ")}`);
    lines.push("");
  }
  return `${lines.join("\n")}\n`;
}

function toRow(row: DimensionRow): string {
  return `| ${row.value.replace(/\|/g, "\\|")} | ${row.turns} | ${usd(row.costUsd)} | ${row.tokens} | ${percent(row.vsPreviousDay)} | ${percent(row.vsBaseline)} |`;
}
