import { makeTurn } from "@clawscope/testing";
import { describe, expect, it } from "vitest";
import { latencyCount } from "./latency-histogram.js";
import { type FactSums, toMinuteRollups } from "./minute-rollup.js";
import { toMinute, toTurnFact } from "./turn-fact.js";

const MINUTE = 1_795_000_020_000 - (1_795_000_020_000 % 60_000);
const dims = { agent: "main", provider: "openai", model: "gpt", channel: "webchat" };

describe("turn facts", () => {
  it("keep cost provenance apart and never turn an unknown cost into zero dollars", () => {
    const priced = toTurnFact(
      makeTurn({ cost: { usd: 0.25, source: "provider" }, endedAt: MINUTE + 5 }),
      "gw",
    );
    const estimated = toTurnFact(makeTurn({ cost: { usd: 0.5, source: "estimated" } }), "gw");
    const unknown = toTurnFact(makeTurn({ cost: { usd: null, source: "unknown" } }), "gw");
    expect([priced.costProviderUsd, priced.costEstimatedUsd, priced.costUnknownTurns]).toEqual([0.25, 0, 0]);
    expect([estimated.costProviderUsd, estimated.costEstimatedUsd, estimated.costUnknownTurns]).toEqual([
      0, 0.5, 0,
    ]);
    expect([unknown.costProviderUsd, unknown.costEstimatedUsd, unknown.costUnknownTurns]).toEqual([0, 0, 1]);
    expect(priced.ts).toBe(toMinute(MINUTE + 5));
    expect(priced.ts % 60_000).toBe(0);
  });
});

describe("minute rollups", () => {
  it("fold the store's sums by dimension and latency bucket into one record per dimension, histogram included", () => {
    const rows: FactSums[] = [
      {
        group: { ...dims, outcome: "success", latencyBucket: 30 },
        count: 2,
        sums: { turns: 2, inputTokens: 10 },
      },
      {
        group: { ...dims, outcome: "success", latencyBucket: 31 },
        count: 1,
        sums: { turns: 1, inputTokens: 5 },
      },
      {
        group: { ...dims, outcome: "error", latencyBucket: null },
        count: 1,
        sums: { turns: 1, failedModelCalls: 1 },
      },
    ];
    const rollups = toMinuteRollups("gw", MINUTE, rows);
    expect(rollups).toHaveLength(2);
    const success = rollups.find((rollup) => rollup.outcome === "success");
    expect(success?.turns).toBe(3);
    expect(success?.inputTokens).toBe(15);
    expect(success?.latency.counts).toEqual({ "30": 2, "31": 1 });
    expect(latencyCount(success?.latency.counts ?? {})).toBe(3);
    expect(success?.day).toBe(new Date(MINUTE).toISOString().slice(0, 10));
    const error = rollups.find((rollup) => rollup.outcome === "error");
    expect(error?.failedModelCalls).toBe(1);
    expect(latencyCount(error?.latency.counts ?? {})).toBe(0);
  });

  it("write a combination that lost its turns (an amended outcome) as zeros, so no stale figure survives", () => {
    const before = toMinuteRollups("gw", MINUTE, [
      {
        group: { ...dims, outcome: "error", latencyBucket: 30 },
        count: 1,
        sums: { turns: 1, outputTokens: 7 },
      },
    ]);
    const after = toMinuteRollups(
      "gw",
      MINUTE,
      [
        {
          group: { ...dims, outcome: "success", latencyBucket: 30 },
          count: 1,
          sums: { turns: 1, outputTokens: 9 },
        },
      ],
      before,
    );
    const stale = after.find((rollup) => rollup.id === before[0]?.id);
    expect(stale?.turns).toBe(0);
    expect(stale?.outputTokens).toBe(0);
    expect(after.reduce((total, rollup) => total + rollup.outputTokens, 0)).toBe(9);
    // ids depend on the gateway, the minute and the dimensions only
    expect(
      toMinuteRollups("gw", MINUTE, [{ group: { ...dims, outcome: "error" }, count: 1, sums: {} }])[0]?.id,
    ).toBe(before[0]?.id);
    expect(
      toMinuteRollups("gw2", MINUTE, [{ group: { ...dims, outcome: "error" }, count: 1, sums: {} }])[0]?.id,
    ).not.toBe(before[0]?.id);
  });
});
