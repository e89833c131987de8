import { describe, expect, it } from "vitest";
import { definedAttributes, toCallTiming } from "./span-fields.js";

const turn = { startedAt: 1_000, endedAt: 3_000 };

describe("definedAttributes", () => {
  it("drops undefined and non-finite numbers, keeps everything else", () => {
    expect(
      definedAttributes({ a: "x", b: undefined, c: Number.NaN, d: 0, e: false, f: { total_cost: 1 } }),
    ).toEqual({ a: "x", d: 0, e: false, f: { total_cost: 1 } });
  });
});

describe("toCallTiming", () => {
  it("uses the call's own times, else its duration, else the turn's bounds", () => {
    expect(toCallTiming({ startedAt: 1_100, endedAt: 1_900, outcome: "success" }, turn)).toEqual({
      startTimeMs: 1_100,
      endTimeMs: 1_900,
    });
    expect(toCallTiming({ startedAt: 1_100, durationMs: 200, outcome: "success" }, turn).endTimeMs).toBe(
      1_300,
    );
    expect(toCallTiming({ outcome: "success" }, turn)).toEqual({ startTimeMs: 1_000, endTimeMs: 3_000 });
  });

  it("ends a pending call with its turn and never ends before the start", () => {
    expect(toCallTiming({ startedAt: 1_100, endedAt: 1_200, outcome: "pending" }, turn).endTimeMs).toBe(
      3_000,
    );
    expect(toCallTiming({ startedAt: 2_000, endedAt: 1_500, outcome: "error" }, turn)).toEqual({
      startTimeMs: 2_000,
      endTimeMs: 2_000,
    });
  });
});
