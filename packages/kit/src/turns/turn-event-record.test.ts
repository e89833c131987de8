import { describe, expect, it } from "vitest";
import { loadCapturedSamples } from "../../../testing/src/captured.js";
import { readHostEvent } from "../events/read-event.js";
import { readIdentity, readTurnEvent } from "./turn-event-record.js";

const samples = loadCapturedSamples().diag;
const accepted = (type: string) => {
  const result = readHostEvent(samples[type]?.event);
  if (!result.ok) throw new Error(`captured ${type} was not accepted`);
  return result.event;
};

describe("readTurnEvent", () => {
  it("reads a captured model call into one record: ids, span, identity, timing, usage and cost", () => {
    const raw = samples["model.call.completed"]?.event as Record<string, unknown>;
    const record = readTurnEvent(accepted("model.call.completed"));
    const trace = raw.trace as { traceId: string; spanId: string; parentSpanId: string };
    expect(record).toMatchObject({
      type: "model.call.completed",
      ts: raw.ts,
      runId: raw.runId,
      traceId: trace.traceId,
      span: { spanId: trace.spanId, parentSpanId: trace.parentSpanId },
      identity: {
        sessionKey: raw.sessionKey,
        sessionId: raw.sessionId,
        provider: "mock",
        model: "mock-model",
      },
      callId: raw.callId,
      provider: "mock",
      model: "mock-model",
      api: "openai-completions",
    });
    expect(record.usage?.input).toBeGreaterThan(0);
  });

  it("reads the run's totals from model.usage and the idle state from session.state", () => {
    const usage = readTurnEvent(accepted("model.usage"));
    expect(usage.usage?.output).toBeGreaterThan(0);
    expect(usage.identity.sessionKey).toBe("agent:main:cs-1");
    expect(readTurnEvent(accepted("session.state")).state).toBe("idle");
  });

  it("leaves out what is malformed and bounds what is long, without throwing", () => {
    const record = readTurnEvent({
      type: "tool.execution.error",
      runId: "r1",
      toolName: 42,
      toolCallId: "c".repeat(600),
      durationMs: -5,
      errorCategory: "e".repeat(300),
      trace: { traceId: "t".repeat(40), spanId: 7 },
    } as never);
    expect(record.toolName).toBe("unknown");
    expect(record.toolCallId).toHaveLength(512);
    expect(record.durationMs).toBeUndefined();
    expect(record.errorCategory).toHaveLength(128);
    expect(record.span).toEqual({ spanId: undefined, parentSpanId: undefined });
    expect(readIdentity({ modelProviderId: "p", modelId: "m" })).toMatchObject({ provider: "p", model: "m" });
    expect(readIdentity(null)).toEqual(readIdentity(undefined));
  });
});
