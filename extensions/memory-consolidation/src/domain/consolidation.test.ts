import { describe, expect, it } from "vitest";
import { type ConsolidationInput, toConsolidation } from "./consolidation.js";
import { createWindowFold, foldRollup, type WindowFold } from "./day-fold.js";
import { makeRollup } from "./rollup-fixture.js";
import { createToolWindow, foldToolActivity } from "./tool-activity.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const DAY0 = Date.UTC(2026, 10, 20);

const rollup = (ts: number, model: string, turns: number, costUsd: number) =>
  makeRollup("gw-a", ts, model, { turns, costUsd });

/** A day of steady traffic: every hour 10 turns of gpt-small at about 0.10 $ (a little noise). */
function steadyDay(start: number): WindowFold {
  const fold = createWindowFold();
  for (let hour = 0; hour < 24; hour += 1) {
    const noise = ((hour * 7 + start / DAY) % 5) / 500;
    foldRollup(fold, rollup(start + hour * HOUR, "gpt-small", 10, 0.1 + noise));
  }
  return fold;
}

/** A consolidation of 2026-11-20 (UTC) for the fleet: only what a test varies is given. */
function consolidate(
  input: Pick<ConsolidationInput, "day"> & Partial<ConsolidationInput>,
): ReturnType<typeof toConsolidation> {
  return toConsolidation({
    scope: "fleet",
    date: "2026-11-20",
    timeZone: "UTC",
    from: DAY0,
    to: DAY0 + DAY,
    createdAt: DAY0 + DAY,
    previousDay: createWindowFold(),
    baselineDays: [],
    budget: {},
    month: { toDateUsd: 0, dayOfMonth: 20, daysInMonth: 30 },
    ...input,
  });
}

describe("toConsolidation", () => {
  const baselineDays = Array.from({ length: 7 }, (_, index) => steadyDay(DAY0 - (index + 2) * DAY));
  const previousDay = steadyDay(DAY0 - DAY);

  it("names a planted cost spike and the model that drove it, and nothing on steady hours", () => {
    const day = steadyDay(DAY0);
    // 14:00: a new, expensive model burns 3 $
    foldRollup(day, rollup(DAY0 + 14 * HOUR + 5 * 60_000, "gpt-big", 4, 3));
    const record = consolidate({
      createdAt: DAY0 + DAY + HOUR,
      day,
      previousDay,
      baselineDays,
      budget: { dailyUsd: 2, monthlyUsd: 100 },
      month: { toDateUsd: 60, dayOfMonth: 20, daysInMonth: 30 },
    });
    const cost = record.anomalies.filter((anomaly) => anomaly.kind === "cost");
    expect(cost).toHaveLength(1);
    expect(cost[0]?.hour).toBe(new Date(DAY0 + 14 * HOUR).toISOString());
    expect(cost[0]?.driver).toMatchObject({ dimension: "model", value: "gpt-big" });
    expect(cost[0]?.score).toBeGreaterThan(3.5);
    expect(record.anomalyMethod).toMatch(/median/);
    expect(record.newValues.model).toEqual(["gpt-big"]);
    expect(record.totals.turns).toBe(24 * 10 + 4);
    expect(record.totals.costUsd).toBeGreaterThan(5);
    expect(record.change.vsPreviousDay.costUsd).toBeGreaterThan(1);
    expect(record.by.model.map((row) => row.value)).toEqual(["gpt-big", "gpt-small"]);
    expect(record.budget).toMatchObject({
      overDaily: true,
      overMonthly: false,
      projectedMonthUsd: 90,
      projectedOverMonthly: false,
    });
    expect(record.summary).toMatch(/OVER BUDGET/);
    expect(record.id).toBe("fleet:2026-11-20");
  });

  it("finds no anomaly in a day like its baseline", () => {
    const record = consolidate({
      day: steadyDay(DAY0),
      previousDay,
      baselineDays,
      month: { toDateUsd: 2, dayOfMonth: 20, daysInMonth: 30 },
    });
    expect(record.anomalies).toEqual([]);
    expect(record.newValues.model).toEqual([]);
    expect(record.budget).toMatchObject({ dailyUsd: null, overDaily: false });
  });

  it("says so when a day had no traffic", () => {
    const record = consolidate({ scope: "gw-a", day: createWindowFold() });
    expect(record.noTraffic).toBe(true);
    expect(record.summary).toBe("2026-11-20: no traffic (gw-a).");
    expect(record.anomalies).toEqual([]);
    expect(record.change.vsPreviousDay.turns).toBeNull();
  });
});

describe("anomalies of a recurring figure", () => {
  it("does not flag errors that recur a few hours every day, and flags them when they jump", () => {
    const dayWithErrors = (start: number, extra = 0) => {
      const fold = createWindowFold();
      for (let hour = 0; hour < 24; hour += 1)
        foldRollup(
          fold,
          makeRollup("gw-a", start + hour * HOUR, "gpt-small", {
            turns: 50,
            costUsd: 0.1,
            failed: hour % 6 === 0 ? 2 : hour === 9 ? extra : 0,
          }),
        );
      return fold;
    };
    const baseline = Array.from({ length: 7 }, (_, index) => dayWithErrors(DAY0 - (index + 1) * DAY));
    const input = { previousDay: baseline[0] as WindowFold, baselineDays: baseline };
    expect(consolidate({ ...input, day: dayWithErrors(DAY0) }).anomalies).toEqual([]);
    const jumped = consolidate({ ...input, day: dayWithErrors(DAY0, 20) }).anomalies;
    expect(jumped.map((anomaly) => [anomaly.kind, anomaly.hour.slice(11, 13)])).toEqual([
      ["error_rate", "09"],
    ]);
  });

  it("lists the day's tools by calls, the slowest ones, the top error categories and the tools seen first", () => {
    const tools = createToolWindow();
    foldToolActivity(tools, {
      tools: {
        web_search: { calls: 10, failures: 1, durationMs: 5_000, maxMs: 1_200 },
        exec: { calls: 3, failures: 0, durationMs: 9_000, maxMs: 4_000 },
        new_tool: { calls: 1, failures: 0, durationMs: 10, maxMs: 10 },
      },
      errors: { rate_limit: 4, "tool:error": 1, provider: 2 },
    });
    const record = consolidate({
      day: steadyDay(DAY0),
      previousDay: steadyDay(DAY0 - DAY),
      tools,
      toolsBefore: new Set(["web_search", "exec"]),
    });
    expect(record.tools.map((tool) => [tool.name, tool.calls, tool.meanMs])).toEqual([
      ["web_search", 10, 500],
      ["exec", 3, 3000],
      ["new_tool", 1, 10],
    ]);
    expect(record.slowestTools[0]).toEqual({ name: "exec", calls: 3, meanMs: 3000, maxMs: 4000 });
    expect(record.errorCategories).toEqual([
      { category: "rate_limit", count: 4 },
      { category: "provider", count: 2 },
      { category: "tool:error", count: 1 },
    ]);
    expect(record.newValues.tool).toEqual(["new_tool"]);
    // without any history of tools, nothing is "new"
    expect(consolidate({ day: steadyDay(DAY0), tools }).newValues.tool).toEqual([]);
  });
});
