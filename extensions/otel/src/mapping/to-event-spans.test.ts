import { loadCapturedSamples } from "@clawscope/testing";
import { describe, expect, it } from "vitest";
import { isValidSpanId, isValidTraceId } from "./ids.js";
import { hashId, readEvent } from "./test-fixtures.js";
import type { EventSpanOptions } from "./to-event-spans.js";
import { toEventExport as exportEvent, toEventSpans as spansOf } from "./to-event-spans.js";

// what the service does with a raw host event: the kit reads it (malformed → never delivered), then the mapper
const toEventSpans = (raw: unknown, options: EventSpanOptions) => {
  const event = readEvent(raw);
  return event ? spansOf(event, options) : [];
};
const toEventExport = (raw: unknown, options: EventSpanOptions) => {
  const event = readEvent(raw);
  return event ? exportEvent(event, options) : undefined;
};

const processed = loadCapturedSamples().diag["message.processed"]?.event as Record<string, unknown>;
const options = { hashId };
const webhook = { ts: 2_000, seq: 4, channel: "telegram", updateType: "message", chatId: 4242424242 };
const stuck = {
  type: "session.stuck",
  ts: 5_000,
  seq: 7,
  sessionKey: "agent:main:s1",
  sessionId: "sid-0001",
  state: "processing",
  ageMs: 180_000,
  queueDepth: 2,
  classification: "stale_session_state",
  activeToolName: "exec",
  activeToolCallId: "call_77",
};

describe("toEventSpans", () => {
  it("turns the captured message.processed into a `message <channel>` span covering its duration", () => {
    const [span, ...rest] = toEventSpans(processed, options);
    expect(rest).toEqual([]);
    expect(span).toMatchObject({
      name: "message webchat",
      kind: "consumer",
      startTimeMs: (processed.ts as number) - 742,
      endTimeMs: processed.ts,
      status: { code: "unset" },
    });
    expect(span?.attributes).toMatchObject({
      "openclaw.channel": "webchat",
      "openclaw.outcome": "completed",
      "gen_ai.conversation.id": hashId(processed.sessionKey as string),
      "messaging.message.id": hashId(processed.messageId as string),
      "openclaw.trace_id": (processed.trace as { traceId: string }).traceId,
    });
    expect(isValidTraceId(span?.traceId) && isValidSpanId(span?.spanId)).toBe(true);
    expect(span?.traceId).not.toBe((processed.trace as { traceId: string }).traceId);
    expect(span?.links?.[0]?.spanId).toBe((processed.trace as { spanId: string }).spanId);
    const text = JSON.stringify(span);
    for (const raw of [processed.sessionKey, processed.sessionId, processed.messageId]) {
      expect(text).not.toContain(raw as string);
    }
  });

  it("gives the same event the same ids, and another event other ids", () => {
    expect(toEventSpans(processed, options)).toEqual(toEventSpans(structuredClone(processed), options));
    const [first] = toEventSpans(processed, options);
    const [later] = toEventSpans({ ...processed, ts: (processed.ts as number) + 1 }, options);
    const [nextSeq] = toEventSpans({ ...processed, seq: (processed.seq as number) + 1 }, options);
    expect(new Set([first?.traceId, later?.traceId, nextSeq?.traceId]).size).toBe(3);
  });

  it("marks failed messages and webhook errors as errors, with redacted text", () => {
    const [message] = toEventSpans(
      {
        ...processed,
        outcome: "error",
        error: "send failed for token sk-ant-api03-abcdefghijklmnopqrstuvwx",
      },
      options,
    );
    expect(message?.status.code).toBe("error");
    expect(String(message?.status.message)).not.toContain("abcdefghijklmnop");
    const [error] = toEventSpans({ ...webhook, type: "webhook.error", error: "bad update" }, options);
    expect(error).toMatchObject({
      name: "webhook telegram",
      kind: "server",
      startTimeMs: 2_000,
      endTimeMs: 2_000,
      status: { code: "error", message: "bad update" },
    });
    expect(error?.attributes["openclaw.chat.id"]).toBe(hashId("4242424242"));
    const [done] = toEventSpans({ ...webhook, type: "webhook.processed", durationMs: 30 }, options);
    expect(done).toMatchObject({ startTimeMs: 1_970, endTimeMs: 2_000, status: { code: "unset" } });
  });

  it("records stuck and stalled sessions as instant spans with state and age, the session hashed", () => {
    const [span] = toEventSpans(stuck, options);
    expect(span).toMatchObject({ name: "openclaw.session.stuck", startTimeMs: 5_000, endTimeMs: 5_000 });
    expect(span?.attributes).toMatchObject({
      "openclaw.state": "processing",
      "openclaw.ageMs": 180_000,
      "openclaw.queueDepth": 2,
      "openclaw.session.classification": "stale_session_state",
      "gen_ai.tool.name": "exec",
      "gen_ai.conversation.id": hashId("agent:main:s1"),
    });
    expect(JSON.stringify(span)).not.toMatch(/agent:main:s1|sid-0001|call_77/);
    const [stalled] = toEventSpans(
      { ...stuck, type: "session.stalled", classification: "stalled_agent_run" },
      options,
    );
    expect(stalled?.name).toBe("openclaw.session.stalled");
  });

  it("makes no span for events without one, nor for garbage", () => {
    for (const raw of [
      loadCapturedSamples().diag["message.queued"]?.event,
      { ...webhook, type: "webhook.received" },
      { type: "message.processed", ts: 1 },
      null,
      "x",
      { type: "session.stuck", ts: 1, state: "idle" },
    ]) {
      expect(toEventSpans(raw, options)).toEqual([]);
      expect(toEventExport(raw, options)).toBeUndefined();
    }
  });
});

describe("toEventExport", () => {
  it("adds a correlated log record for problems only", () => {
    expect(toEventExport(processed, options)?.logs).toEqual([]);
    const failed = toEventExport({ ...webhook, type: "webhook.error", error: "bad update" }, options);
    expect(failed?.id).toBe(`event:${failed?.spans[0]?.traceId}${failed?.spans[0]?.spanId}`);
    expect(failed?.logs).toEqual([
      {
        timeMs: 2_000,
        severity: "ERROR",
        body: "webhook failed: telegram message",
        traceId: failed?.spans[0]?.traceId,
        spanId: failed?.spans[0]?.spanId,
        attributes: {
          "event.name": "openclaw.webhook.error",
          "openclaw.channel": "telegram",
          "openclaw.webhook": "message",
          "exception.message": "bad update",
        },
      },
    ]);
    const stuckLog = toEventExport(stuck, options)?.logs[0];
    expect(stuckLog).toMatchObject({ severity: "WARN", body: "session stuck: processing for 180000 ms" });
    expect(stuckLog?.attributes["gen_ai.conversation.id"]).toBe(hashId("agent:main:s1"));
  });
});
