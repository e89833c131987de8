import { checkSlackWebhookBody } from "@clawscope/testing";
import { describe, expect, it } from "vitest";
import { toConsolidation } from "../domain/consolidation.js";
import { createWindowFold, foldRollup } from "../domain/day-fold.js";
import { makeRollup } from "../domain/rollup-fixture.js";
import { toDigestEmail } from "./to-digest-email.js";
import { escapeMrkdwn, toSlackMessage } from "./to-slack-message.js";

const HOUR = 3_600_000;
const DAY0 = Date.UTC(2026, 10, 20);

/** A fleet day with a cost spike at 14:00 from a model whose name holds mrkdwn's special characters. */
function spikedDay(options: { spikeModel?: string; budget?: { dailyUsd?: number } } = {}) {
  const fold = (start: number, spike: boolean) => {
    const day = createWindowFold();
    for (let hour = 0; hour < 24; hour += 1)
      foldRollup(
        day,
        makeRollup("gw-a", start + hour * HOUR, "gpt-small", { turns: 10, costUsd: 0.1 + (hour % 3) / 1000 }),
      );
    if (spike)
      foldRollup(
        day,
        makeRollup("gw-a", start + 14 * HOUR, options.spikeModel ?? "gpt-big", { turns: 4, costUsd: 3 }),
      );
    return day;
  };
  return toConsolidation({
    scope: "fleet",
    date: "2026-11-20",
    timeZone: "UTC",
    from: DAY0,
    to: DAY0 + 24 * HOUR,
    createdAt: DAY0 + 25 * HOUR,
    day: fold(DAY0, true),
    previousDay: fold(DAY0 - 24 * HOUR, false),
    baselineDays: Array.from({ length: 7 }, (_, index) => fold(DAY0 - (index + 2) * 24 * HOUR, false)),
    budget: options.budget ?? {},
    month: { toDateUsd: 10, dayOfMonth: 20, daysInMonth: 30 },
  });
}

describe("toSlackMessage", () => {
  it("is a message Slack's webhook accepts, naming the spike and its model, escaped for mrkdwn", () => {
    const record = spikedDay({ spikeModel: "<!channel> & gpt" });
    const message = toSlackMessage(record, {
      linkUrl: "https://ops.example.com/api/consolidation/{date}?format=html",
    });
    expect(checkSlackWebhookBody(message)).toBeUndefined();
    const text = JSON.stringify(message.blocks);
    expect(text).toContain("&lt;!channel&gt; &amp; gpt");
    expect(text).not.toContain("<!channel>");
    expect(text).toContain("14:00 UTC cost");
    expect(text).toContain("https://ops.example.com/api/consolidation/2026-11-20?format=html|full digest");
    expect(message.text).toContain("2026-11-20");
  });

  it("marks a day over budget and stays within Slack's limits with many anomalies and long names", () => {
    const record = spikedDay({ spikeModel: "m".repeat(5_000), budget: { dailyUsd: 1 } });
    const many = {
      ...record,
      anomalies: Array.from({ length: 40 }, () => record.anomalies[0]).filter((a) => a !== undefined),
    };
    const message = toSlackMessage(many);
    expect(checkSlackWebhookBody(message)).toBeUndefined();
    expect(JSON.stringify(message.blocks)).toContain(":warning: *Over budget*");
    expect(JSON.stringify(message.blocks)).toContain("…and 32 more");
  });

  it("says a day without traffic in a valid message", () => {
    const empty = toConsolidation({
      scope: "fleet",
      date: "2026-11-21",
      timeZone: "UTC",
      from: DAY0,
      to: DAY0 + 24 * HOUR,
      createdAt: DAY0 + 25 * HOUR,
      day: createWindowFold(),
      previousDay: createWindowFold(),
      baselineDays: [],
      budget: {},
      month: { toDateUsd: 0, dayOfMonth: 21, daysInMonth: 30 },
    });
    const message = toSlackMessage(empty);
    expect(checkSlackWebhookBody(message)).toBeUndefined();
    expect(message.text).toMatch(/no traffic/i);
  });

  it("escapes exactly &, < and >", () => {
    expect(escapeMrkdwn("a<b>&c *d*")).toBe("a&lt;b&gt;&amp;c *d*");
  });
});

describe("toDigestEmail", () => {
  it("has a subject for the inbox list, the Markdown and the HTML with inline charts, and a stable Message-ID", () => {
    const record = spikedDay({ budget: { dailyUsd: 1 } });
    const email = toDigestEmail(record, { from: "clawscope <ops@Example.com>" });
    expect(email.subject).toMatch(
      /^\[clawscope\] 2026-11-20: 244 turns, \$\d+\.\d\d — OVER BUDGET, 2 anomalies$/,
    );
    expect(email.text).toContain("## Anomalies");
    expect(email.html).toContain("<svg");
    expect(email.html).not.toMatch(/<(script|link|img)\b/i);
    expect(email.messageId).toBe("<clawscope-digest-2026-11-20-fleet@example.com>");
    expect(toDigestEmail(record, { from: "ops@example.com" }).messageId).toBe(email.messageId);
  });
});
