import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { ModelCall, Turn } from "./turn.js";
import { isSampledIn, shouldKeepTurn, type TurnSampling } from "./turn-sampling.js";

const healthyCall: ModelCall = {
  callId: "run-1:model:1",
  attempt: 1,
  usage: { input: 10, output: 5, cacheRead: 0, cacheWrite: 0, total: 15 },
  cost: { usd: 0.001, source: "provider" },
  outcome: "success",
};

function makeTurn(overrides: Partial<Turn> = {}): Turn {
  return {
    id: "run-1",
    runId: "run-1",
    startedAt: 1000,
    endedAt: 2000,
    durationMs: 1000,
    modelCalls: [healthyCall],
    toolCalls: [],
    usage: healthyCall.usage,
    cost: { usd: 0.001, source: "provider" },
    usageSource: "model.usage",
    outcome: "success",
    attempts: 1,
    revision: 1,
    ...overrides,
  };
}

/** A W3C-shaped trace id derived from the turn id, as the extensions derive theirs. */
const traceOf = (turn: Turn): string => createHash("sha256").update(turn.id).digest("hex").slice(0, 32);
const decide = (turn: Turn, sampling: TurnSampling) => shouldKeepTurn(turn, traceOf(turn), sampling);

const defaults: TurnSampling = { ratio: 1, keepErrors: true, slowTurnMs: 30_000, expensiveTurnUsd: 0.5 };
const atZero: TurnSampling = { ...defaults, ratio: 0 };
const healthyTurns = (count: number): Turn[] =>
  Array.from({ length: count }, (_, index) => makeTurn({ id: `run-${index}`, runId: `run-${index}` }));

describe("shouldKeepTurn", () => {
  it("keeps every failed turn at a head ratio of 0, the captured provider-400 turn included", () => {
    const failed: Turn[] = [
      makeTurn({ modelCalls: [{ ...healthyCall, outcome: "error", errorCategory: "provider" }] }),
      makeTurn({ toolCalls: [{ toolCallId: "t1", toolName: "read", outcome: "error" }] }),
      makeTurn({
        outcome: "error",
        error: { category: "Error", source: "model.call.error", reason: "the model call failed (Error)" },
      }),
      makeTurn({ outcome: "aborted" }),
      makeTurn({ outcome: "blocked" }),
      makeTurn({ incomplete: { reason: "timeout", missing: ["run.completed"] } }),
    ];
    for (const turn of failed) expect(decide(turn, atZero)).toEqual({ keep: true, reason: "error" });
  });

  it("drops failed turns like healthy ones when keepErrors is off", () => {
    const turn = makeTurn({ outcome: "error" });
    expect(decide(turn, { ...atZero, keepErrors: false })).toEqual({
      keep: false,
      reason: "sampled_out",
    });
  });

  it("keeps slow and expensive turns whatever the ratio; 0 turns those rules off", () => {
    expect(decide(makeTurn({ durationMs: 30_000 }), atZero)).toEqual({ keep: true, reason: "slow" });
    expect(decide(makeTurn({ durationMs: 29_999 }), atZero).keep).toBe(false);
    expect(decide(makeTurn({ cost: { usd: 0.5, source: "estimated" } }), atZero)).toEqual({
      keep: true,
      reason: "expensive",
    });
    expect(decide(makeTurn({ cost: { usd: 0.49, source: "provider" } }), atZero).keep).toBe(false);
    expect(decide(makeTurn({ cost: { usd: null, source: "unknown" } }), atZero).keep).toBe(false);
    const rulesOff = { ...atZero, slowTurnMs: 0, expensiveTurnUsd: 0 };
    expect(
      decide(makeTurn({ durationMs: 999_999, cost: { usd: 9, source: "provider" } }), rulesOff).keep,
    ).toBe(false);
  });

  it("keeps none of the healthy turns at ratio 0 and all at ratio 1", () => {
    const turns = healthyTurns(200);
    expect(turns.filter((turn) => decide(turn, atZero).keep)).toHaveLength(0);
    expect(turns.every((turn) => decide(turn, defaults).keep)).toBe(true);
  });

  it("keeps about the ratio of healthy turns, the same ones every time, and more at a higher ratio", () => {
    const turns = healthyTurns(4000);
    const keptAt = (ratio: number) =>
      new Set(turns.filter((turn) => decide(turn, { ...defaults, ratio }).keep).map((turn) => turn.id));
    const quarter = keptAt(0.25);
    expect(quarter.size).toBeGreaterThan(900);
    expect(quarter.size).toBeLessThan(1100);
    expect(keptAt(0.25)).toEqual(quarter);
    // consistent sampling: what a lower ratio keeps, a higher ratio keeps too
    const half = keptAt(0.5);
    expect([...quarter].every((id) => half.has(id))).toBe(true);
    expect(decide(turns[0] as Turn, { ...defaults, ratio: 0.25 }).reason).toMatch(/^(ratio|sampled_out)$/);
  });
});

describe("isSampledIn", () => {
  it("follows the threshold on the trace id's last 56 bits", () => {
    expect(isSampledIn("0000000000000000ffffffffffffffff", 0.5)).toBe(true);
    expect(isSampledIn("ffffffffffffffff0000000000000001", 0.5)).toBe(false);
    expect(isSampledIn("00000000000000000080000000000000", 0.5)).toBe(true);
    expect(isSampledIn("0000000000000000007fffffffffffff", 0.5)).toBe(false);
  });

  it("clamps odd ratios and keeps on ids it cannot read", () => {
    expect(isSampledIn("0000000000000000ffffffffffffffff", -1)).toBe(false);
    expect(isSampledIn("00000000000000000000000000000001", 7)).toBe(true);
    expect(isSampledIn("00000000000000000000000000000001", Number.NaN)).toBe(true);
    expect(isSampledIn("not-hex", 0.5)).toBe(true);
  });
});
