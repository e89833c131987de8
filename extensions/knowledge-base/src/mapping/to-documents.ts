/**
 * The knowledge base as documents people read: the Markdown export (a runbook: each issue, how
 * often and where, and what fixes it) and the read-only HTML pages (the summary, and one issue
 * with its occurrences over time as an inline SVG chart, its solutions and trace links). No script,
 * no external asset; every text from the data is escaped.
 */

import type { HourCount, IssueEntry, NameCount } from "../domain/issue-entry.js";
import { type KnowledgeSource, solutionsOf } from "../domain/knowledge-answer.js";

const STATE_ORDER = ["regressed", "open", "archived", "quiet", "resolved"];

function byImportance(left: IssueEntry, right: IssueEntry): number {
  return (
    STATE_ORDER.indexOf(left.state) - STATE_ORDER.indexOf(right.state) ||
    right.count - left.count ||
    left.id.localeCompare(right.id)
  );
}

const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");
const names = (counts: readonly NameCount[]) =>
  counts.map((item) => `${item.name} (${item.count})`).join(", ") || "–";

/** `GET /api/knowledge/export?format=markdown`: the knowledge base as a runbook. */
export function toMarkdownRunbook(source: KnowledgeSource, now: number): string {
  const lines = [
    "# Knowledge base runbook",
    "",
    `Generated ${iso(now)} from ${source.entries.length} issue(s).`,
    "",
  ];
  for (const entry of [...source.entries].sort(byImportance)) {
    lines.push(
      `## ${escapeMarkdown(entry.title)}`,
      "",
      `- **State:** ${entry.state}${entry.regression ? ` (regressed ${iso(entry.regression.at)} after ${entry.regression.after})` : ""}; trend ${entry.trend}`,
      `- **Occurrences:** ${entry.count}, first ${iso(entry.firstSeen)}, last ${iso(entry.lastSeen)}`,
      `- **Agents:** ${escapeMarkdown(names(entry.affected.agents))}; **models:** ${escapeMarkdown(names(entry.affected.models))}`,
      `- **Message:** \`${entry.message.replace(/`/g, "'")}\``,
      "",
    );
    const solutions = solutionsOf(source, entry);
    if (solutions.length > 0) {
      lines.push("**What fixes it:**", "");
      for (const solution of solutions) {
        const who = solution.author ? ` — ${escapeMarkdown(solution.author)}, ${solution.at}` : "";
        lines.push(`- *${escapeMarkdown(solution.title)}*${who}`);
        for (const step of solution.steps) lines.push(`  - ${escapeMarkdown(step)}`);
      }
      lines.push("");
    }
    const traced = entry.examples.filter((example) => example.traceId);
    if (traced.length > 0) {
      lines.push(
        `**Example traces:** ${traced
          .map((example) => {
            const link = Object.values(example.links)[0];
            return link ? `[${example.traceId}](${link})` : `\`${example.traceId}\``;
          })
          .join(", ")}`,
        "",
      );
    }
  }
  return `${lines.join("\n").trimEnd()}\n`;
}

/** The summary page. */
export function toSummaryHtml(source: KnowledgeSource, now: number, basePath: string): string {
  const rows = [...source.entries]
    .sort(byImportance)
    .slice(0, 200)
    .map(
      (entry) =>
        `<tr><td><span class="state ${entry.state}">${entry.state}</span></td><td><a href="${basePath}/entries/${encodeURIComponent(entry.id)}?format=html">${escapeHtml(entry.title)}</a></td><td class="n">${entry.count}</td><td>${entry.trend}</td><td>${iso(entry.lastSeen)}</td></tr>`,
    )
    .join("");
  return page(
    "Knowledge base",
    `<h1>Knowledge base</h1><p>${source.entries.length} issue(s), as of ${iso(now)}.</p>` +
      `<table><tr><th>state</th><th>issue</th><th>count</th><th>trend</th><th>last seen</th></tr>${rows}</table>`,
  );
}

/** One issue's page: its figures, occurrences per hour, solutions and trace links. */
export function toEntryHtml(source: KnowledgeSource, entry: IssueEntry, basePath: string): string {
  const solutions = solutionsOf(source, entry)
    .map(
      (solution) =>
        `<li><b>${escapeHtml(solution.title)}</b>${solution.author ? ` <span class="who">${escapeHtml(solution.author)}, ${escapeHtml(solution.at ?? "")}</span>` : ""}<ul>${solution.steps
          .map((step) => `<li>${escapeHtml(step)}</li>`)
          .join("")}</ul></li>`,
    )
    .join("");
  const examples = entry.examples
    .map((example) => {
      const links = Object.entries(example.links)
        .map(([name, url]) => `<a href="${escapeHtml(url)}">${escapeHtml(name)}</a>`)
        .join(" · ");
      return `<li><code>${escapeHtml(example.traceId ?? example.turnId ?? "")}</code> ${iso(example.ts)} ${links}</li>`;
    })
    .join("");
  return page(
    entry.title,
    `<p><a href="${basePath}/summary?format=html">← all issues</a></p><h1>${escapeHtml(entry.title)}</h1>` +
      `<p><span class="state ${entry.state}">${entry.state}</span> ${entry.count} occurrence(s), first ${iso(entry.firstSeen)}, last ${iso(entry.lastSeen)}, trend ${entry.trend}</p>` +
      `<p class="message"><code>${escapeHtml(entry.message)}</code></p>` +
      `<table><tr><th>agents</th><td>${escapeHtml(names(entry.affected.agents))}</td></tr><tr><th>channels</th><td>${escapeHtml(names(entry.affected.channels))}</td></tr><tr><th>models</th><td>${escapeHtml(names(entry.affected.models))}</td></tr><tr><th>gateways</th><td>${escapeHtml(names(entry.affected.gateways))}</td></tr></table>` +
      `<h2>Occurrences per hour (last 7 days)</h2>${hourlyChart(entry.hourly)}` +
      `<h2>Solutions</h2><ul>${solutions || "<li>none yet</li>"}</ul>` +
      `<h2>Example traces</h2><ul>${examples || "<li>none with a trace</li>"}</ul>`,
  );
}

function hourlyChart(hourly: readonly HourCount[]): string {
  const width = 640;
  const height = 120;
  if (hourly.length === 0) return "<p>no occurrence in the last 7 days</p>";
  const first = hourly[0]?.hour ?? 0;
  const last = hourly.at(-1)?.hour ?? first;
  const span = Math.max(1, (last - first) / 3_600_000 + 1);
  const max = Math.max(...hourly.map(({ count }) => count), 1);
  // a bar an hour wide at most 24 px: one busy hour is a bar, not a wall
  const barWidth = Math.max(1, Math.min(24, (width - 40) / span));
  const bars = hourly
    .map(({ hour, count }) => {
      const x = 36 + ((hour - first) / 3_600_000) * barWidth;
      const barHeight = (count / max) * (height - 24);
      return `<rect x="${x.toFixed(1)}" y="${(height - 16 - barHeight).toFixed(1)}" width="${Math.max(1, barWidth - 1).toFixed(1)}" height="${barHeight.toFixed(1)}" fill="#b64a3b"><title>${iso(hour)}: ${count}</title></rect>`;
    })
    .join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="occurrences per hour"><text x="0" y="12" font-size="11">${max}</text><text x="0" y="${height - 18}" font-size="11">0</text>${bars}<text x="36" y="${height - 2}" font-size="11">${iso(first).slice(0, 13)}h</text><text x="${width - 4}" y="${height - 2}" font-size="11" text-anchor="end">${iso(last).slice(0, 13)}h</text></svg>`;
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>body{font:14px/1.45 system-ui,sans-serif;margin:24px;max-width:980px;color:#222}table{border-collapse:collapse;margin:8px 0}td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}.n{text-align:right}.state{border-radius:3px;padding:1px 6px;font-size:12px;background:#eee}.regressed{background:#f6d5cf}.open{background:#fbe7c6}.quiet{background:#e2ecd9}.resolved{background:#d9e6f2}.archived{background:#e6e6e6}.message code{white-space:pre-wrap}.who{color:#666;font-size:12px}</style></head><body>${body}</body></html>`;
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

function escapeMarkdown(text: string): string {
  return text.replace(/([\\`*_[\]<>])/g, "\\$1");
}
