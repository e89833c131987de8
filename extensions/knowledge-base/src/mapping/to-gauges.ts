/**
 * The knowledge base's figures for Prometheus, as the kit's pack gauges: issues by state (every
 * state, 0 when none, so an alert has a series to read), issues first seen and issues regressed in
 * the last hour. Fleet-wide: they are read from the entries every gateway shares.
 */
import { PACK_GAUGES, type PackGaugeReading } from "@clawscope/kit";
import type { IssueEntry } from "../domain/issue-entry.js";

const STATES = ["open", "quiet", "regressed", "resolved", "archived"] as const;
const HOUR_MS = 3_600_000;

export function toKnowledgeGauges(entries: readonly IssueEntry[], now: number): PackGaugeReading[] {
  const readings: PackGaugeReading[] = STATES.map((state) => ({
    name: PACK_GAUGES.kbIssues.name,
    value: entries.filter((entry) => entry.state === state).length,
    attributes: { "clawscope.issue.state": state },
  }));
  readings.push({
    name: PACK_GAUGES.kbNewIssues.name,
    value: entries.filter((entry) => entry.firstSeen >= now - HOUR_MS).length,
  });
  readings.push({
    name: PACK_GAUGES.kbRegressions.name,
    value: entries.filter((entry) => entry.regression !== undefined && entry.regression.at >= now - HOUR_MS)
      .length,
  });
  return readings;
}
