/**
 * A fleet consolidation as a Slack incoming-webhook message: `text` (the notification and the
 * fallback) and Block Kit `blocks` within Slack's limits (a header of at most 150 characters,
 * section texts of at most 3 000, at most 10 fields, at most 50 blocks). Names that came from the
 * gateway are escaped for mrkdwn (`&`, `<`, `>`), so a model name cannot become a link or a mention.
 */
import type { Consolidation } from "../domain/consolidation.js";
import { toDayLink } from "./to-digest-email.js";

const SECTION_CHARS = 3_000;
const MAX_ANOMALY_LINES = 8;

type TextObject = { type: "mrkdwn" | "plain_text"; text: string };
export type SlackBlock =
  | { type: "header"; text: TextObject }
  | { type: "section"; text?: TextObject; fields?: TextObject[] }
  | { type: "context"; elements: TextObject[] }
  | { type: "divider" };

export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

const usd = (value: number) => `$${value.toFixed(2)}`;
const change = (value: number | null) =>
  value === null ? "" : ` (${value >= 0 ? "+" : ""}${(value * 100).toFixed(0)}% vs day before)`;

/** Escapes the three characters Slack's mrkdwn gives a meaning. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function toSlackMessage(record: Consolidation, options: { linkUrl?: string } = {}): SlackMessage {
  const scope = record.scope === "fleet" ? "fleet" : `gateway ${record.scope}`;
  const blocks: SlackBlock[] = [
    {
      type: "header",
      text: { type: "plain_text", text: clip(`clawscope digest · ${record.date} · ${scope}`, 150) },
    },
    { type: "section", text: { type: "mrkdwn", text: clip(escapeMrkdwn(record.summary), SECTION_CHARS) } },
  ];
  if (!record.noTraffic) {
    const totals = record.totals;
    const vs = record.change.vsPreviousDay;
    blocks.push({
      type: "section",
      fields: [
        field("Turns", `${totals.turns}${change(vs.turns)}`),
        field("Cost", `${usd(totals.costUsd)}${change(vs.costUsd)}`),
        field("Tokens", `${totals.tokens}${change(vs.tokens)}`),
        field("Model-call errors", `${(totals.errorRate * 100).toFixed(1)}%`),
        field("Latency p50 / p95", `${totals.p50Ms ?? "–"} ms / ${totals.p95Ms ?? "–"} ms`),
        field(
          "Cache hit",
          totals.cacheHitRatio === null ? "–" : `${(totals.cacheHitRatio * 100).toFixed(0)}%`,
        ),
      ],
    });
  }
  const topModels = [...record.by.model].sort((a, b) => b.costUsd - a.costUsd).slice(0, 3);
  if (topModels.length > 0) {
    const lines = topModels.map(
      (row) => `• ${escapeMrkdwn(clip(row.value, 80))} ${usd(row.costUsd)} · ${row.turns} turns`,
    );
    blocks.push({
      type: "section",
      text: { type: "mrkdwn", text: `*Top models by cost*\n${lines.join("\n")}` },
    });
  }
  if ((record.errorCategories ?? []).length > 0) {
    const errors = record.errorCategories
      .slice(0, 5)
      .map((entry) => `${escapeMrkdwn(clip(entry.category, 60))} ${entry.count}`)
      .join(" · ");
    blocks.push({ type: "section", text: { type: "mrkdwn", text: `*Top errors*\n${errors}` } });
  }
  const budget = record.budget;
  if (budget.dailyUsd !== null || budget.monthlyUsd !== null) {
    const over = budget.overDaily || budget.overMonthly || budget.projectedOverMonthly;
    const lines = [
      `${over ? ":warning: *Over budget*" : "*Budget*"}`,
      budget.dailyUsd !== null ? `day ${usd(budget.dayCostUsd)} of ${usd(budget.dailyUsd)}` : undefined,
      `month so far ${usd(budget.monthToDateUsd)}, projected ${usd(budget.projectedMonthUsd)}${
        budget.monthlyUsd !== null ? ` of ${usd(budget.monthlyUsd)}` : ""
      }`,
    ].filter((line): line is string => line !== undefined);
    blocks.push({ type: "section", text: { type: "mrkdwn", text: lines.join("\n") } });
  }
  if (record.anomalies.length > 0) {
    const lines = record.anomalies.slice(0, MAX_ANOMALY_LINES).map((anomaly) => {
      const driver = anomaly.driver
        ? ` — ${anomaly.driver.dimension} *${escapeMrkdwn(clip(anomaly.driver.value, 80))}*`
        : "";
      return `• ${anomaly.hour.slice(11, 16)} UTC ${anomaly.kind.replace("_", " ")} ${anomaly.value}${driver}`;
    });
    const more = record.anomalies.length - MAX_ANOMALY_LINES;
    if (more > 0) lines.push(`…and ${more} more`);
    blocks.push({
      type: "section",
      text: { type: "mrkdwn", text: clip(`*Anomalies*\n${lines.join("\n")}`, SECTION_CHARS) },
    });
  }
  const context = [`${record.gateways.length} gateway(s)`, `time zone ${record.timeZone}`];
  if (options.linkUrl) context.push(`<${toDayLink(options.linkUrl, record.date)}|full digest>`);
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: context.join(" · ") }] });
  return { text: clip(`clawscope digest for ${record.date}: ${record.summary}`, SECTION_CHARS), blocks };
}

function field(label: string, value: string): TextObject {
  return { type: "mrkdwn", text: `*${label}*\n${escapeMrkdwn(value)}` };
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
