import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ensureNonZero, isValidSpanId, isValidTraceId, toEventIds, toTraceId, toTurnSpanIds } from "./ids.js";
import { makeTurn } from "./test-fixtures.js";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

describe("stable ids", () => {
  it("derive the trace and root span ids from the turn id as documented", () => {
    expect(toTraceId("run-1")).toBe(sha256("clawscope-otel:trace:run-1").slice(0, 32));
    expect(toTurnSpanIds(makeTurn({ id: "run-1" })).rootSpanId).toBe(
      sha256("clawscope-otel:root:run-1").slice(0, 16),
    );
    expect(isValidTraceId(toTraceId("run-1"))).toBe(true);
    expect(isValidSpanId(toTurnSpanIds(makeTurn({ id: "run-1" })).rootSpanId)).toBe(true);
  });

  it("are the same on every call and differ between turns", () => {
    const turn = makeTurn({
      toolCalls: [{ toolCallId: "call_0", toolName: "echo", outcome: "success" }],
    });
    expect(toTurnSpanIds(turn)).toEqual(toTurnSpanIds(structuredClone(turn)));
    const other = toTurnSpanIds({ ...turn, id: "run-2" });
    const first = toTurnSpanIds(turn);
    expect(other.traceId).not.toBe(first.traceId);
    // the same provider tool call id in another turn gets another span id
    expect(other.toolCallSpanIds[0]).not.toBe(first.toolCallSpanIds[0]);
  });

  it("never repeat a span id inside a turn, even for repeated call ids", () => {
    const turn = makeTurn({
      toolCalls: [
        { toolCallId: "call_0", toolName: "echo", outcome: "success" },
        { toolCallId: "call_0", toolName: "echo", outcome: "success" },
        { toolCallId: "call_0", toolName: "echo", outcome: "error" },
      ],
    });
    const ids = toTurnSpanIds(turn);
    const all = [ids.rootSpanId, ...ids.modelCallSpanIds, ...ids.toolCallSpanIds];
    expect(new Set(all).size).toBe(5);
    expect(all.every(isValidSpanId)).toBe(true);
  });

  it("are never all zero", () => {
    expect(ensureNonZero("0000000000000000")).toBe("0000000000000001");
    expect(ensureNonZero("00000000000000000000000000000000")).toBe("00000000000000000000000000000001");
    expect(ensureNonZero("00000000000000a0")).toBe("00000000000000a0");
  });

  it("key event spans on the event identity", () => {
    expect(toEventIds("message.processed|m1|5|1")).toEqual(toEventIds("message.processed|m1|5|1"));
    expect(toEventIds("message.processed|m1|5|1").traceId).not.toBe(
      toEventIds("message.processed|m1|5|2").traceId,
    );
  });

  it("validate W3C ids", () => {
    expect(isValidTraceId("4bf92f3577b34da6a3ce929d0e0e4736")).toBe(true);
    expect(isValidTraceId("00000000000000000000000000000000")).toBe(false);
    expect(isValidTraceId("4BF92F3577B34DA6A3CE929D0E0E4736")).toBe(false);
    expect(isValidTraceId("trace-r1")).toBe(false);
    expect(isValidTraceId(undefined)).toBe(false);
    expect(isValidSpanId("00f067aa0ba902b7")).toBe(true);
    expect(isValidSpanId("0000000000000000")).toBe(false);
    expect(isValidSpanId("00f067aa0ba902b")).toBe(false);
  });
});
