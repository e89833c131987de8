import { describe, expect, it } from "vitest";
import { readHostEvent, readNumber, readString } from "./read-event.js";

const trace = { traceId: "18610f3d0cd6a54354b2af850d056566", spanId: "46cc583f2c4d3e22" };

describe("readHostEvent", () => {
  it("accepts each turn event type with the fields the assembler joins on", () => {
    const accepted = [
      { type: "run.started", runId: "r1" },
      { type: "run.completed", runId: "r1", outcome: "completed" },
      { type: "harness.run.error", runId: "r1", errorCategory: "Error" },
      { type: "model.call.completed", runId: "r1", callId: "r1:model:1" },
      { type: "model.usage", usage: { input: 1 }, trace },
      { type: "tool.execution.started", toolName: "echo_tool" },
      { type: "context.assembled", runId: "r1" },
    ];
    for (const event of accepted) {
      const result = readHostEvent(Object.freeze(event));
      expect(result, event.type).toMatchObject({ ok: true, status: "accepted", event });
    }
  });

  it("names the type and the field of a malformed event in one line", () => {
    const cases: Array<[unknown, string]> = [
      [null, "event is null, expected an object"],
      ["run.started", "event is a string, expected an object"],
      [{ runId: "r1" }, 'unknown event type: "type" is missing, expected a string'],
      [{ type: 42 }, 'unknown event type: "type" is a number, expected a string'],
      [{ type: "run.completed" }, 'run.completed: "runId" is missing, expected a non-empty string'],
      [{ type: "model.call.started", runId: "r1" }, 'model.call.started: "callId" is missing'],
      [{ type: "model.call.error", runId: "r1", callId: 7 }, 'model.call.error: "callId" is a number'],
      [{ type: "model.usage", usage: {} }, 'model.usage: "trace.traceId" is missing'],
      [{ type: "model.usage", trace }, 'model.usage: "usage" is missing, expected an object'],
      [{ type: "tool.execution.completed", runId: "r1" }, 'tool.execution.completed: "toolName" is missing'],
      [
        { type: "tool.execution.started", toolName: "t", runId: 5 },
        'tool.execution.started: "runId" is a number',
      ],
      [
        { type: "run.started", runId: "x".repeat(600) },
        'run.started: "runId" is 600 characters, at most 512',
      ],
      [{ type: "run.started", runId: "" }, 'run.started: "runId" is an empty string'],
    ];
    for (const [raw, message] of cases) {
      const result = readHostEvent(raw);
      expect(result.ok).toBe(false);
      expect(result.status).toBe("malformed");
      expect(result.ok === false && result.status === "malformed" ? result.error : "").toContain(message);
      expect(result.ok === false && result.status === "malformed" ? result.error : "").not.toContain("\n");
    }
  });

  it("ignores well-formed events of other types", () => {
    expect(readHostEvent({ type: "queue.lane.enqueue", lane: "main" })).toEqual({
      ok: false,
      status: "ignored",
      type: "queue.lane.enqueue",
      reason: "not a turn event type",
    });
  });

  it("never throws: throwing getters, proxies, cycles", () => {
    const throwing = Object.defineProperty({ type: "run.started" }, "runId", {
      get() {
        throw new Error("boom");
      },
    });
    expect(readHostEvent(throwing)).toMatchObject({ ok: false, status: "malformed" });
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error("trap");
        },
      },
    );
    expect(readHostEvent(hostile)).toMatchObject({ ok: false, status: "malformed" });
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(readHostEvent(proxy).ok).toBe(false);
    const cyclic: Record<string, unknown> = { type: "run.started", runId: "r1" };
    cyclic.self = cyclic;
    expect(readHostEvent(cyclic).ok).toBe(true);
  });
});

describe("field readers", () => {
  it("read only usable values and cut long strings", () => {
    expect(readString({ name: "x".repeat(300) }, "name")?.length).toBe(256);
    expect(readString({ name: "" }, "name")).toBeUndefined();
    expect(readNumber({ value: Number.NaN }, "value")).toBeUndefined();
    expect(readNumber({ value: "3" }, "value")).toBeUndefined();
    expect(readNumber(null, "value")).toBeUndefined();
  });
});
