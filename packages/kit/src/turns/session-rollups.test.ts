import { describe, expect, it } from "vitest";
import { createSessionRollups } from "./session-rollups.js";
import type { Turn } from "./turn.js";

const turn = (id: string, sessionKey: string | undefined, extra: Partial<Turn> = {}): Turn => ({
  id,
  runId: id,
  sessionKey,
  startedAt: 100,
  endedAt: 200,
  durationMs: 100,
  modelCalls: [],
  toolCalls: [],
  usage: { input: 111, output: 22, cacheRead: 0, cacheWrite: 0, total: 133 },
  cost: { usd: 0.000663, source: "provider" },
  usageSource: "model.usage",
  outcome: "success",
  attempts: 1,
  revision: 1,
  ...extra,
});

describe("createSessionRollups", () => {
  it("sums turns, tokens, known cost, unknown-cost turns and outcomes per session", () => {
    const rollups = createSessionRollups();
    rollups.add(turn("a", "agent:main:s1", { channel: "webchat" }));
    rollups.add(
      turn("b", "agent:main:s1", { outcome: "error", cost: { usd: null, source: "unknown" }, endedAt: 900 }),
    );
    const last = rollups.add(
      turn("c", "agent:main:s1", { cost: { usd: 0.000663, source: "estimated" }, startedAt: 50 }),
    );
    expect(last).toMatchObject({
      sessionKey: "agent:main:s1",
      channel: "webchat",
      turns: 3,
      usage: { input: 333, output: 66, total: 399 },
      costUsd: 0.001326,
      turnsWithUnknownCost: 1,
      outcomes: { success: 2, error: 1, aborted: 0, blocked: 0, unknown: 0 },
      firstSeenAt: 50,
      lastSeenAt: 900,
    });
    expect(rollups.add(turn("d", undefined))).toBeUndefined();
    expect(rollups.list()).toHaveLength(1);
  });

  it("returns copies and stays within maxSessions, dropping the least recently updated", () => {
    const rollups = createSessionRollups({ maxSessions: 2 });
    rollups.add(turn("a", "s1"));
    rollups.add(turn("b", "s2"));
    rollups.add(turn("c", "s1"));
    rollups.add(turn("d", "s3"));
    expect(rollups.list().map((rollup) => rollup.sessionKey)).toEqual(["s1", "s3"]);
    expect(rollups.stats()).toEqual({ sessions: 2, evicted: 1 });
    const copy = rollups.get("s1");
    if (copy) copy.turns = 999;
    expect(rollups.get("s1")?.turns).toBe(2);
  });
});
