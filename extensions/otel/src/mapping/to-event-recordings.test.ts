import { listCapturedScenarios, loadCapturedSamples, loadCapturedScenario } from "@clawscope/testing";
import { describe, expect, it } from "vitest";
import { looksLikeId, toLabelValue, toLaneLabel } from "./metric-labels.js";
import { findMetricDefinition } from "./metric-names.js";
import { readEvent } from "./test-fixtures.js";
import { toEventRecordings as mapEvent } from "./to-event-recordings.js";

// what the service does with a raw host event: the kit reads it (malformed → never delivered), then the mapper
const toEventRecordings = (raw: unknown) => {
  const event = readEvent(raw);
  return event ? mapEvent(event) : [];
};

const samples = loadCapturedSamples().diag;
const sample = (type: string) => {
  const found = samples[type]?.event;
  if (!found) throw new Error(`no captured sample of ${type}`);
  return found;
};
const base = { ts: 1_795_330_650_380, seq: 9 };

describe("toEventRecordings", () => {
  it("maps the captured message, queue, session and heartbeat events", () => {
    expect(toEventRecordings(sample("message.queued"))).toEqual([
      {
        name: "openclaw.message.queued",
        value: 1,
        attributes: { "openclaw.channel": "webchat", "openclaw.source": "dispatch" },
      },
    ]);
    const processedLabels = { "openclaw.channel": "webchat", "openclaw.outcome": "completed" };
    expect(toEventRecordings(sample("message.processed"))).toEqual([
      { name: "openclaw.message.processed", value: 1, attributes: processedLabels },
      { name: "openclaw.message.duration_ms", value: 742, attributes: processedLabels },
    ]);
    expect(toEventRecordings(sample("queue.lane.dequeue"))).toEqual([
      { name: "openclaw.queue.depth", value: 0, attributes: { "openclaw.lane": "main" } },
      { name: "openclaw.queue.wait_ms", value: 0, attributes: { "openclaw.lane": "main" } },
    ]);
    expect(toEventRecordings(sample("session.state"))).toEqual([
      {
        name: "openclaw.session.state",
        value: 1,
        attributes: { "openclaw.state": "idle", "openclaw.reason": "message_completed" },
      },
    ]);
    expect(toEventRecordings(sample("diagnostic.heartbeat"))).toEqual([
      { name: "openclaw.queue.depth", value: 0, attributes: { "openclaw.channel": "heartbeat" } },
    ]);
  });

  it("maps webhook events and stuck sessions", () => {
    const labels = { "openclaw.channel": "telegram", "openclaw.webhook": "message" };
    const webhook = { ...base, channel: "telegram", updateType: "message", chatId: 123456789012 };
    expect(toEventRecordings({ ...webhook, type: "webhook.received" })).toEqual([
      { name: "openclaw.webhook.received", value: 1, attributes: labels },
    ]);
    expect(toEventRecordings({ ...webhook, type: "webhook.processed", durationMs: 35 })).toEqual([
      { name: "openclaw.webhook.duration_ms", value: 35, attributes: labels },
    ]);
    expect(toEventRecordings({ ...webhook, type: "webhook.error", error: "boom" })).toEqual([
      { name: "openclaw.webhook.error", value: 1, attributes: labels },
    ]);
    const stuck = {
      ...base,
      type: "session.stuck",
      sessionKey: "agent:main:s1",
      state: "processing",
      ageMs: 180_000,
      classification: "stale_session_state",
    };
    expect(toEventRecordings(stuck)).toEqual([
      { name: "openclaw.session.stuck", value: 1, attributes: { "openclaw.state": "processing" } },
      {
        name: "openclaw.session.stuck_age_ms",
        value: 180_000,
        attributes: { "openclaw.state": "processing" },
      },
    ]);
  });

  it("keeps only the lane kind: session lanes are named after session keys", () => {
    const lane = { ...base, type: "queue.lane.enqueue", lane: "session:agent:main:cs-1", queueSize: 2 };
    expect(toEventRecordings(lane)).toEqual([
      { name: "openclaw.queue.depth", value: 2, attributes: { "openclaw.lane": "session" } },
    ]);
  });

  it("returns [] on garbage and on events missing required fields, without throwing", () => {
    const throwing = Object.defineProperty({ type: "message.processed", ts: 1 }, "channel", {
      get() {
        throw new Error("getter");
      },
    });
    for (const raw of [
      null,
      undefined,
      42,
      "message.queued",
      [],
      {},
      { type: "message.queued", ts: 1 },
      { type: "message.processed", ts: 1, channel: "webchat" },
      { type: "queue.lane.dequeue", ts: 1, lane: "main", queueSize: 1 },
      { type: "queue.lane.enqueue", ts: 1, lane: "main", queueSize: -1 },
      { type: "session.stuck", ts: 1, state: "processing", ageMs: Number.NaN },
      { type: "webhook.error", ts: 1, channel: "telegram" },
      { type: "webhook.received", channel: "telegram" },
      { type: "diagnostic.heartbeat", ts: 1, active: 1, waiting: 0 },
      { type: "model.usage", ts: 1, usage: {} },
      throwing,
    ]) {
      expect(toEventRecordings(raw)).toEqual([]);
    }
  });

  it("never puts an id in a label over every captured event", () => {
    const ids = new Set<string>();
    const events = listCapturedScenarios().flatMap((name) =>
      loadCapturedScenario(name).internal.map((row) => row.event),
    );
    for (const event of events) {
      for (const key of ["sessionKey", "sessionId", "messageId", "chatId", "runId", "lane"]) {
        const value = (event as Record<string, unknown>)[key];
        if (typeof value === "string" && value.length >= 6 && value !== "main") ids.add(value);
      }
    }
    expect([...ids].some((id) => id.startsWith("session:agent:"))).toBe(true);
    let recorded = 0;
    for (const event of events) {
      for (const recording of toEventRecordings(event)) {
        recorded += 1;
        const definition = findMetricDefinition(recording.name);
        for (const [key, value] of Object.entries(recording.attributes)) {
          expect(definition?.labels).toContain(key);
          for (const id of ids) expect(value).not.toContain(id);
        }
      }
    }
    expect(recorded).toBeGreaterThan(20);
  });
});

describe("label values", () => {
  it("bound and normalise values, replacing anything id-like", () => {
    expect(toLabelValue(undefined)).toBe("unknown");
    expect(toLabelValue("   ")).toBe("unknown");
    expect(toLabelValue(12)).toBe("unknown");
    expect(toLabelValue("gpt-4o")).toBe("gpt-4o");
    expect(toLabelValue("claude-3-5-sonnet-20241022")).toBe("claude-3-5-sonnet-20241022");
    expect(toLabelValue("a\nb")).toBe("a_b");
    expect(toLabelValue("y".repeat(300))).toHaveLength(64);
    for (const id of [
      "agent:main:cs-1",
      "session:agent:main:cs-1",
      "9f424979-38af-4d85-a184-03c3613bc6ff",
      "bb828ee64f0a9be02fa28502cf6a7bac",
      "k11795330647714",
      "chatcmpl_926ddad1-3308",
      "call_1795330647456",
      "someone@example.com",
      "+1 555 123 4567",
    ]) {
      expect(looksLikeId(id), id).toBe(true);
      expect(toLabelValue(id)).toBe("other");
    }
    // the host's session.state reasons look like id prefixes but are not ids
    for (const reason of ["run_started", "run_completed", "message_start", "message_completed"]) {
      expect(toLabelValue(reason)).toBe(reason);
    }
    expect(toLabelValue("call_mock_3")).toBe("other");
    expect(toLaneLabel("session:agent:main:e2e-s1")).toBe("session");
    expect(toLaneLabel("main")).toBe("main");
    expect(toLaneLabel(null)).toBe("unknown");
  });
});
