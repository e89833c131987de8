import { describe, expect, it } from "vitest";
import { ensureNonZero, hashToHex, isValidSpanId, isValidTraceId, toTurnSpanIds } from "./ids.js";

describe("otlp ids", () => {
  it("hashes text to stable hex ids of the asked length", () => {
    const traceId = hashToHex("clawscope-test:trace:run-1", 32);
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(hashToHex("clawscope-test:trace:run-1", 32)).toBe(traceId);
    expect(hashToHex("clawscope-test:trace:run-2", 32)).not.toBe(traceId);
    expect(isValidSpanId(hashToHex("clawscope-test:span:run-1", 16))).toBe(true);
  });

  it("never yields the all-zero id OTLP reads as no id", () => {
    expect(ensureNonZero("0000000000000000")).toBe("0000000000000001");
    expect(ensureNonZero("00000000000000a0")).toBe("00000000000000a0");
  });

  it("validates W3C ids", () => {
    expect(isValidTraceId("4bf92f3577b34da6a3ce929d0e0e4736")).toBe(true);
    expect(isValidTraceId("00000000000000000000000000000000")).toBe(false);
    expect(isValidTraceId("4BF92F3577B34DA6A3CE929D0E0E4736")).toBe(false);
    expect(isValidSpanId("00f067aa0ba902b7")).toBe(true);
    expect(isValidSpanId("00f067aa0ba902b")).toBe(false);
    expect(isValidSpanId(undefined)).toBe(false);
  });
});

describe("toTurnSpanIds on a frozen turn", () => {
  it("derives a frozen turn's ids once per namespace and returns the same, frozen ids", () => {
    const turn = Object.freeze({
      id: "turn-memo",
      modelCalls: Object.freeze([Object.freeze({ callId: "c1" })]),
      toolCalls: Object.freeze([Object.freeze({ toolCallId: "t1" })]),
    });
    const first = toTurnSpanIds("ns-a", turn);
    expect(toTurnSpanIds("ns-a", turn)).toBe(first);
    expect(Object.isFrozen(first.modelCallSpanIds)).toBe(true);
    const other = toTurnSpanIds("ns-b", turn);
    expect(other).not.toBe(first);
    expect(other.traceId).not.toBe(first.traceId);
    // the same values a fresh, unfrozen copy derives
    const copy = { id: turn.id, modelCalls: [{ callId: "c1" }], toolCalls: [{ toolCallId: "t1" }] };
    expect(toTurnSpanIds("ns-a", copy)).toEqual(first);
    expect(toTurnSpanIds("ns-a", copy)).not.toBe(toTurnSpanIds("ns-a", copy));
  });

  it("hashes as sha256 hex, cut to length", () => {
    expect(hashToHex("abc", 32)).toBe("ba7816bf8f01cfea414140de5dae2223");
  });
});
