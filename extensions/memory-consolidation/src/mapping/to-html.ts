/**
 * A consolidation as one self-contained HTML page: the Markdown's content laid out for a browser
 * or a mail client, with its charts drawn as inline SVG (hourly cost, hourly turns with errors,
 * cost by model). No script, no external asset, no web font: it renders the same offline, in a
 * mail client and in a screenshot. Every text from the data is escaped.
 */
import type { Consolidation } from "../domain/consolidation.js";

const WIDTH = 640;
const HEIGHT = 160;
const PAD = { left: 72, right: 8, top: 12, bottom: 24 };

export function toHtml(record: Consolidation): string {
  const title = `${record.date} — ${record.scope === "fleet" ? "fleet" : `gateway ${record.scope}`}`;
  const totals = record.totals;
  const budget = record.budget;
  const over = budget.overDaily || budget.overMonthly || budget.projectedOverMonthly;
  const sections: string[] = [
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="summary">${escapeHtml(record.summary)}</p>`,
  ];
  if (!record.noTraffic) {
    sections.push(
      `<table class="totals"><tr><th>turns</th><th>cost</th><th>tokens</th><th>model-call errors</th><th>unknown-cost turns</th><th>p95</th></tr>` +
        `<tr><td>${totals.turns}</td><td>${usd(totals.costUsd)}</td><td>${totals.tokens}</td><td>${(totals.errorRate * 100).toFixed(1)}%</td><td>${totals.costUnknownTurns}</td><td>${totals.p95Ms ?? "–"} ms</td></tr></table>`,
      `<h2>Cost by hour (UTC)</h2>${barChart(
        record.hours.map((hour) => ({ label: hour.hour.slice(11, 13), value: hour.costUsd })),
        usd,
        "#3b6fb6",
      )}`,
      `<h2>Turns and failed model calls by hour (UTC)</h2>${barChart(
        record.hours.map((hour) => ({
          label: hour.hour.slice(11, 13),
          value: hour.turns,
          mark: hour.failedModelCalls,
        })),
        (value) => String(Math.round(value)),
        "#5b9a68",
      )}`,
      `<h2>Cost by model</h2>${barChart(
        record.by.model.slice(0, 12).map((row) => ({ label: row.value, value: row.costUsd })),
        usd,
        "#b6703b",
      )}`,
    );
    if (record.anomalies.length > 0) {
      sections.push(
        `<h2>Anomalies</h2><p class="method">${escapeHtml(record.anomalyMethod)}</p><ul>${record.anomalies
          .map(
            (anomaly) =>
              `<li><b>${escapeHtml(anomaly.hour.slice(11, 16))} UTC</b> ${escapeHtml(anomaly.kind)} ${anomaly.value} (baseline ${anomaly.baselineMedian}, score ${anomaly.score})${
                anomaly.driver
                  ? ` — driven by ${escapeHtml(anomaly.driver.dimension)} <b>${escapeHtml(anomaly.driver.value)}</b>`
                  : ""
              }</li>`,
          )
          .join("")}</ul>`,
      );
    }
    if (budget.dailyUsd !== null || budget.monthlyUsd !== null) {
      sections.push(
        `<h2>Budget${over ? ' <span class="over">OVER BUDGET</span>' : ""}</h2><p>Day ${usd(budget.dayCostUsd)}${
          budget.dailyUsd !== null ? ` of ${usd(budget.dailyUsd)}` : ""
        }; month so far ${usd(budget.monthToDateUsd)}, projected ${usd(budget.projectedMonthUsd)}${
          budget.monthlyUsd !== null ? ` of ${usd(budget.monthlyUsd)}` : ""
        }.</p>`,
      );
    }
    if (record.tools.length > 0) {
      sections.push(
        `<h2>Tools</h2><table class="totals"><tr><th>tool</th><th>calls</th><th>failures</th><th>mean</th><th>max</th></tr>${record.tools
          .map(
            (tool) =>
              `<tr><td>${escapeHtml(tool.name)}</td><td>${tool.calls}</td><td>${tool.failures}</td><td>${tool.meanMs} ms</td><td>${tool.maxMs} ms</td></tr>`,
          )
          .join("")}</table>`,
      );
    }
    if (record.errorCategories.length > 0) {
      sections.push(
        `<h2>Top error categories</h2><ul>${record.errorCategories
          .map((entry) => `<li>${escapeHtml(entry.category)}: ${entry.count}</li>`)
          .join("")}</ul>`,
      );
    }
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(`clawscope ${title}`)}</title><style>${STYLE}</style></head><body>${sections.join("\n")}</body></html>\n`;
}

const STYLE =
  "body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#1d2330;max-width:720px}" +
  "h1{font-size:20px}h2{font-size:15px;margin-top:22px}.summary{font-size:14px}" +
  "table.totals{border-collapse:collapse}table.totals td,table.totals th{border:1px solid #d5d9e0;padding:4px 8px;font-size:13px}" +
  ".over{color:#fff;background:#c0392b;padding:1px 6px;border-radius:3px;font-size:12px}.method{color:#667;font-size:12px}" +
  "svg text{font-size:10px;fill:#556}";

interface Bar {
  label: string;
  value: number;
  /** A second figure drawn as a red mark over the bar (errors). */
  mark?: number;
}

function barChart(bars: readonly Bar[], format: (value: number) => string, color: string): string {
  if (bars.length === 0) return '<p class="method">no data</p>';
  const max = Math.max(...bars.map((bar) => bar.value), 0) || 1;
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const step = plotWidth / bars.length;
  const barWidth = Math.max(2, step * 0.7);
  const y = (value: number) => PAD.top + plotHeight - (value / max) * plotHeight;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img">`,
    `<line x1="${PAD.left}" y1="${PAD.top + plotHeight}" x2="${WIDTH - PAD.right}" y2="${PAD.top + plotHeight}" stroke="#99a"/>`,
    `<text x="${PAD.left - 4}" y="${PAD.top + 8}" text-anchor="end">${escapeHtml(format(max))}</text>`,
  ];
  bars.forEach((bar, index) => {
    const x = PAD.left + index * step + (step - barWidth) / 2;
    const top = y(Math.max(0, bar.value));
    parts.push(
      `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(PAD.top + plotHeight - top).toFixed(1)}" fill="${color}"><title>${escapeHtml(`${bar.label}: ${format(bar.value)}`)}</title></rect>`,
    );
    if (bar.mark !== undefined && bar.mark > 0) {
      const markTop = y(bar.mark);
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${markTop.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(PAD.top + plotHeight - markTop).toFixed(1)}" fill="#c0392b"/>`,
      );
    }
    if (bars.length <= 24)
      parts.push(
        `<text x="${(x + barWidth / 2).toFixed(1)}" y="${HEIGHT - 8}" text-anchor="middle">${escapeHtml(bar.label.slice(0, 20))}</text>`,
      );
  });
  parts.push("</svg>");
  return parts.join("");
}

function usd(value: number): string {
  return `$${value.toFixed(value >= 100 ? 0 : 4)}`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
