import { isSampledIn } from "@clawscope/kit";
import { describe, expect, it } from "vitest";
import { toTraceId } from "./ids.js";
import { shouldKeepTurn, type TurnSampling } from "./sampling.js";
import { capturedErrorTurn, makeTurn } from "./test-fixtures.js";

// the rule itself is tested in the kit (turn-sampling.test.ts); here: it is decided on the trace we send
const atZero: TurnSampling = { ratio: 0, keepErrors: true, slowTurnMs: 30_000, expensiveTurnUsd: 0.5 };

describe("shouldKeepTurn (otel)", () => {
  it("keeps the captured provider-400 turn at a head ratio of 0", () => {
    expect(shouldKeepTurn(capturedErrorTurn(), atZero)).toEqual({ keep: true, reason: "error" });
  });

  it("decides healthy turns on the trace id this extension derives from the turn", () => {
    const turns = Array.from({ length: 400 }, (_, index) =>
      makeTurn({ id: `run-${index}`, runId: `run-${index}` }),
    );
    const kept = turns.filter((turn) => shouldKeepTurn(turn, { ...atZero, ratio: 0.5 }).keep);
    expect(kept.length).toBeGreaterThan(150);
    expect(kept.length).toBeLessThan(250);
    for (const turn of turns)
      expect(shouldKeepTurn(turn, { ...atZero, ratio: 0.5 }).keep).toBe(isSampledIn(toTraceId(turn.id), 0.5));
  });
});
