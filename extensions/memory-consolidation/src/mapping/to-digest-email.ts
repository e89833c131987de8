/**
 * A fleet consolidation as an email: a subject an operator can triage from the inbox list, the
 * Markdown as the plain-text part and the HTML page (inline SVG charts, no external assets) as the
 * HTML part. The Message-ID is derived from the day and the sender's domain, so a digest sent
 * twice (a crash between the send and its record) carries the same id and a mailbox can fold it.
 */
import type { Consolidation } from "../domain/consolidation.js";
import { toHtml } from "./to-html.js";
import { toMarkdown } from "./to-markdown.js";

export interface DigestEmail {
  subject: string;
  text: string;
  html: string;
  messageId: string;
}

export function toDigestEmail(
  record: Consolidation,
  options: { from: string; linkUrl?: string },
): DigestEmail {
  const flags: string[] = [];
  if (record.budget.overDaily || record.budget.overMonthly || record.budget.projectedOverMonthly)
    flags.push("OVER BUDGET");
  if (record.anomalies.length > 0)
    flags.push(`${record.anomalies.length} anomal${record.anomalies.length === 1 ? "y" : "ies"}`);
  const figures = record.noTraffic
    ? "no traffic"
    : `${record.totals.turns} turns, $${record.totals.costUsd.toFixed(2)}`;
  const subject = `[clawscope] ${record.date}: ${figures}${flags.length > 0 ? ` — ${flags.join(", ")}` : ""}`;
  const link = options.linkUrl ? toDayLink(options.linkUrl, record.date) : undefined;
  const text = link ? `${toMarkdown(record)}\nFull page: ${link}\n` : toMarkdown(record);
  return {
    subject,
    text,
    html: toHtml(record),
    messageId: `<clawscope-digest-${record.date}-${record.scope}@${senderDomain(options.from)}>`,
  };
}

/** `linkUrl` with `{date}` replaced, or with the date appended as a path segment when it has none. */
export function toDayLink(linkUrl: string, date: string): string {
  if (linkUrl.includes("{date}")) return linkUrl.replaceAll("{date}", date);
  const url = new URL(linkUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/${date}`;
  return url.toString();
}

/** The domain of `Name <user@domain>` or `user@domain`; `clawscope.invalid` when it has none. */
function senderDomain(from: string): string {
  const match = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from.trim());
  return match?.[1]?.toLowerCase() ?? "clawscope.invalid";
}
