import { describe, expect, it } from "vitest";
import { toTurnSpanIds } from "./ids.js";
import { capturedErrorTurn, capturedToolTurn, hashId, makeTurn } from "./test-fixtures.js";
import { describeTurn, toTurnLogRecords } from "./to-log-records.js";
import { toTurnSpans } from "./to-spans.js";

describe("toTurnLogRecords", () => {
  it("writes one INFO record for a successful turn, correlated with its root span", () => {
    const turn = capturedToolTurn({ captureContent: true });
    const records = toTurnLogRecords(turn, { hashId });
    const [root] = toTurnSpans(turn, { hashId, captureContent: false });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      severity: "INFO",
      body: "turn success: 2 model calls, 1 tool call, 266 tokens, $0.001326 (provider)",
      traceId: root?.traceId,
      spanId: root?.spanId,
      timeMs: turn.endedAt,
    });
    expect(records[0]?.attributes).toMatchObject({
      "event.name": "openclaw.turn",
      "gen_ai.conversation.id": hashId(turn.sessionKey),
      "openclaw.turn.outcome": "success",
      "openclaw.cost.usd": 0.001326,
    });
    const text = JSON.stringify(records);
    expect(text).not.toContain("hello-from-mock");
    expect(text).not.toContain(turn.sessionKey as string);
    expect(text).not.toContain(turn.id);
  });

  it("writes an ERROR outcome record and one per failed model call, each on its span", () => {
    const turn = capturedErrorTurn();
    const [outcome, callError, ...rest] = toTurnLogRecords(turn, { hashId });
    const ids = toTurnSpanIds(turn);
    expect(rest).toEqual([]);
    expect(outcome).toMatchObject({ severity: "ERROR", spanId: ids.rootSpanId });
    expect(outcome?.body).toBe(
      "turn error: 1 model call, 0 tool calls, 0 tokens, $0 (provider); error Error",
    );
    expect(outcome?.attributes).toMatchObject({
      "error.type": "Error",
      // content capture is off: the fixed reason, never the provider's own text
      "exception.message": "the provider rejected the request (HTTP 400)",
    });
    expect(callError).toMatchObject({
      severity: "ERROR",
      body: "model call failed: mock/mock-model (Error)",
      traceId: ids.traceId,
      spanId: ids.modelCallSpanIds[0],
    });
  });

  it("warns for aborted, blocked and incomplete turns and logs failed tools on their span", () => {
    expect(toTurnLogRecords(makeTurn({ outcome: "aborted" }), { hashId })[0]?.severity).toBe("WARN");
    expect(toTurnLogRecords(makeTurn({ outcome: "blocked" }), { hashId })[0]?.severity).toBe("WARN");
    const incomplete = makeTurn({ incomplete: { reason: "evicted", missing: ["run.completed"] } });
    const [record] = toTurnLogRecords(incomplete, { hashId });
    expect(record?.severity).toBe("WARN");
    expect(record?.body).toMatch(/^turn success \(incomplete: evicted\): /);
    expect(record?.attributes["openclaw.incomplete.reason"]).toBe("evicted");

    const withTool = makeTurn({
      toolCalls: [
        { toolCallId: "c1", toolName: "exec", outcome: "success" },
        { toolCallId: "c2", toolName: "exec", outcome: "error", errorCategory: "ENOENT", endedAt: 2_500 },
      ],
    });
    const records = toTurnLogRecords(withTool, { hashId });
    expect(records).toHaveLength(2);
    expect(records[1]).toMatchObject({
      severity: "ERROR",
      body: "tool call failed: exec (ENOENT)",
      timeMs: 2_500,
      spanId: toTurnSpanIds(withTool).toolCallSpanIds[1],
    });
  });

  it("redacts secrets from error text", () => {
    const turn = makeTurn({
      outcome: "error",
      error: {
        source: "llm_output",
        reason: "the provider rejected the credentials (HTTP 401)",
        message: "401 invalid key sk-proj-abcdefghijklmnopqrstuvwxyz0123456789",
      },
    });
    const [record] = toTurnLogRecords(turn, { hashId });
    expect(String(record?.attributes["exception.message"])).not.toContain("abcdefghijklmnop");
    expect(record?.attributes["error.type"]).toBe("_OTHER");
  });
});

describe("describeTurn", () => {
  it("says when the cost is unknown instead of printing $0", () => {
    const turn = makeTurn({ cost: { usd: null, source: "unknown" }, modelCalls: [] });
    expect(describeTurn(turn)).toBe("turn success: 0 model calls, 0 tool calls, 160 tokens, cost unknown");
  });

  it("prints small estimated costs without an exponent", () => {
    const turn = makeTurn({ cost: { usd: 0.00000012345678, source: "estimated" } });
    expect(describeTurn(turn)).toContain("$0.000000123457 (estimated)");
  });
});
