import { describe, expect, it } from "vitest";
import {
  listCapturedScenarios,
  loadCapturedSamples,
  loadCapturedScenario,
} from "../../../testing/src/captured.js";
import {
  isOperationalEventType,
  OPERATIONAL_EVENT_TYPES,
  readOperationalEvent,
} from "./operational-event.js";

const samples = loadCapturedSamples().diag;
const sample = (type: string) => {
  const found = samples[type]?.event;
  if (!found) throw new Error(`no captured sample of ${type}`);
  return found as Record<string, unknown>;
};

describe("readOperationalEvent", () => {
  it("reads every captured event of a type it knows, in every scenario, and nothing else", () => {
    let read = 0;
    for (const name of listCapturedScenarios()) {
      const scenario = loadCapturedScenario(name);
      for (const row of [...scenario.internal, ...scenario.public]) {
        const type = (row.event as { type?: string }).type ?? "";
        const event = readOperationalEvent(row.event);
        if (isOperationalEventType(type)) {
          expect(event, `${name}: ${type}`).toBeDefined();
          expect(event?.type).toBe(type);
          read += 1;
        } else {
          expect(event).toBeUndefined();
        }
      }
    }
    expect(read).toBeGreaterThan(20);
  });

  it("keeps the host's fields, the session key (raw) and a W3C trace context, lower-cased", () => {
    const processed = sample("message.processed");
    expect(readOperationalEvent(processed)).toEqual({
      type: "message.processed",
      ts: processed.ts,
      seq: processed.seq,
      trace: {
        traceId: (processed.trace as { traceId: string }).traceId,
        spanId: (processed.trace as { spanId: string }).spanId,
      },
      session: processed.sessionKey,
      channel: "webchat",
      outcome: "completed",
      messageId: processed.messageId,
      durationMs: 742,
    });
    expect(
      readOperationalEvent({
        type: "tool.loop",
        ts: 5,
        sessionId: "sid-1",
        toolName: "exec",
        count: 6.6,
        detector: "generic_repeat",
        level: "critical",
        action: "block",
        message: "exec repeated",
        trace: { traceId: "4BF92F3577B34DA6A3CE929D0E0E4736", spanId: "not-a-span" },
      }),
    ).toEqual({
      type: "tool.loop",
      ts: 5,
      session: "sid-1",
      toolName: "exec",
      count: 7,
      detector: "generic_repeat",
      level: "critical",
      action: "block",
      trace: { traceId: "4bf92f3577b34da6a3ce929d0e0e4736" },
    });
    expect(
      readOperationalEvent({
        type: "session.stuck",
        ts: 1,
        state: "processing",
        ageMs: 9,
        trace: { traceId: "xyz" },
      }),
    ).toEqual({ type: "session.stuck", ts: 1, state: "processing", ageMs: 9 });
  });

  it("reads the events the knowledge base and consolidation learn from", () => {
    expect(
      readOperationalEvent({
        type: "tool.execution.blocked",
        ts: 3,
        runId: "r1",
        toolName: "exec",
        deniedReason: "policy",
        reason: "not allowed here",
      }),
    ).toMatchObject({
      type: "tool.execution.blocked",
      toolName: "exec",
      runId: "r1",
      deniedReason: "policy",
    });
    expect(
      readOperationalEvent({
        type: "payload.large",
        ts: 3,
        surface: "webchat",
        action: "truncated",
        bytes: 9e6,
      }),
    ).toMatchObject({ type: "payload.large", surface: "webchat", action: "truncated", bytes: 9e6 });
    expect(
      readOperationalEvent({
        type: "diagnostic.memory.pressure",
        ts: 3,
        level: "critical",
        reason: "rss_threshold",
        memory: { rssBytes: 2e9, heapUsedBytes: 1e9 },
        thresholdBytes: 1.5e9,
      }),
    ).toMatchObject({ level: "critical", rssBytes: 2e9, heapUsedBytes: 1e9, thresholdBytes: 1.5e9 });
    expect(
      readOperationalEvent({
        type: "diagnostic.liveness.warning",
        ts: 3,
        reasons: ["cpu", 7, "event_loop_delay"],
      }),
    ).toMatchObject({ reasons: ["cpu", "event_loop_delay"] });
    expect(
      readOperationalEvent({
        type: "telemetry.exporter",
        ts: 3,
        exporter: "otlp",
        signal: "traces",
        status: "failure",
      }),
    ).toMatchObject({ status: "failure" });
    expect(
      readOperationalEvent({ type: "diagnostic.async_queue.dropped", ts: 3, droppedEvents: 12 }),
    ).toMatchObject({
      droppedEvents: 12,
    });
  });

  it("refuses garbage and events missing a required field, never throwing", () => {
    const throwing = Object.defineProperty({ type: "message.processed", ts: 1 }, "channel", {
      get() {
        throw new Error("getter");
      },
    });
    const proxy = new Proxy(
      {},
      {
        get() {
          throw new Error("trap");
        },
      },
    );
    for (const raw of [
      null,
      undefined,
      42,
      "session.stuck",
      [],
      {},
      proxy,
      throwing,
      { type: "webhook.received", channel: "telegram" }, // no ts
      { type: "webhook.received", ts: -1, channel: "telegram" },
      { type: "webhook.error", ts: 1, channel: "telegram" },
      { type: "message.queued", ts: 1 },
      { type: "message.processed", ts: 1, channel: "webchat" },
      { type: "queue.lane.dequeue", ts: 1, lane: "main", queueSize: 1 },
      { type: "queue.lane.enqueue", ts: 1, lane: "main", queueSize: -1 },
      { type: "session.state", ts: 1, state: 42 },
      { type: "session.stuck", ts: 1, state: "processing", ageMs: Number.NaN },
      { type: "session.stalled", ts: 1 },
      { type: "tool.loop", ts: 1, count: 3 },
      { type: "tool.execution.blocked", ts: 1 },
      { type: "payload.large", ts: 1, surface: "x" },
      { type: "diagnostic.heartbeat", ts: 1, active: 1, waiting: 0 },
      { type: "diagnostic.liveness.warning", ts: 1, reasons: [] },
      { type: "model.usage", ts: 1, usage: {} },
      { type: "webhook.received", ts: 1, channel: "c".repeat(129) },
    ]) {
      expect(readOperationalEvent(raw)).toBeUndefined();
    }
  });

  it("cuts error and reason text to its bound, and refuses oversized names rather than cutting them", () => {
    const error = readOperationalEvent({
      type: "webhook.error",
      ts: 1,
      channel: "telegram",
      error: "e".repeat(5000),
    });
    expect(error).toMatchObject({ error: "e".repeat(4096) });
    const reason = readOperationalEvent({
      type: "session.state",
      ts: 1,
      state: "idle",
      reason: "r".repeat(300),
    });
    expect(reason).toMatchObject({ reason: "r".repeat(256) });
    expect(readOperationalEvent({ type: "session.state", ts: 1, state: "s".repeat(65) })).toBeUndefined();
    expect(OPERATIONAL_EVENT_TYPES.every(isOperationalEventType)).toBe(true);
    expect(isOperationalEventType("model.usage")).toBe(false);
  });
});
