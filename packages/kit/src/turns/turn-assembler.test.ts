import { describe, expect, it } from "vitest";
import type { Turn } from "./turn.js";
import { createTurnAssembler, type TurnAssemblerOptions } from "./turn-assembler.js";

/** Minimal host events in the captured shapes; the full builders live in packages/testing. */
const trace = (runId: string) => ({ traceId: `trace-${runId}`, spanId: "0000000000000001" });
const run = (runId: string, extra: Record<string, unknown> = {}) => ({
  runId,
  sessionKey: "agent:main:s1",
  sessionId: "sid-1",
  provider: "mock",
  model: "mock-model",
  channel: "webchat",
  trace: trace(runId),
  ...extra,
});
const events = {
  started: (runId: string) => ({ type: "run.started", ...run(runId), ts: 1000 }),
  completed: (runId: string, outcome = "completed") => ({
    type: "run.completed",
    ...run(runId),
    outcome,
    durationMs: 50,
    ts: 1050,
  }),
  harnessCompleted: (runId: string) => ({
    type: "harness.run.completed",
    ...run(runId),
    outcome: "completed",
    ts: 1051,
  }),
  callStarted: (runId: string, n: number) => ({
    type: "model.call.started",
    ...run(runId),
    callId: `${runId}:model:${n}`,
    ts: 1010,
  }),
  callCompleted: (runId: string, n: number, usage: Record<string, unknown>) => ({
    type: "model.call.completed",
    ...run(runId),
    callId: `${runId}:model:${n}`,
    durationMs: 20,
    usage,
    ts: 1030,
  }),
  usage: (runId: string, usage: Record<string, unknown>, costUsd?: number) => ({
    type: "model.usage",
    sessionKey: "s1",
    provider: "mock",
    model: "mock-model",
    usage,
    ...(costUsd === undefined ? {} : { costUsd }),
    trace: trace(runId),
    ts: 1100,
  }),
};
const tokens = { input: 111, output: 22, cacheRead: 0, cacheWrite: 0, total: 133 };

function harness(options: Partial<TurnAssemblerOptions> = {}) {
  const turns: Turn[] = [];
  const warnings: string[] = [];
  const clock = { now: 10_000 };
  const assembler = createTurnAssembler({
    onTurn: (turn) => turns.push(turn),
    onWarning: (message) => warnings.push(message),
    now: () => clock.now,
    ...options,
  });
  return { turns, warnings, clock, assembler };
}

function feedRun(
  assembler: ReturnType<typeof createTurnAssembler>,
  runId: string,
  usage: Record<string, unknown>,
  costUsd?: number,
) {
  assembler.handleEvent(events.started(runId), { trusted: true });
  assembler.handleEvent(events.callStarted(runId, 1), { trusted: true });
  assembler.handleEvent(events.completed(runId), { trusted: true });
  assembler.handleEvent(events.callCompleted(runId, 1, usage), { trusted: true });
  assembler.handleEvent(events.harnessCompleted(runId), { trusted: true });
  if (costUsd !== null) assembler.handleEvent(events.usage(runId, tokens, costUsd), { trusted: true });
}

describe("createTurnAssembler", () => {
  it("closes as soon as model.usage joins by trace, with the gateway's figures and the canonical session key", () => {
    const { turns, assembler } = harness();
    feedRun(assembler, "r1", { ...tokens, cost: { total: 0.000663 } }, 0.000663);
    expect(turns).toHaveLength(1);
    expect(turns[0]).toMatchObject({
      id: "r1",
      sessionKey: "agent:main:s1",
      usage: tokens,
      cost: { usd: 0.000663, source: "provider" },
      usageSource: "model.usage",
      outcome: "success",
      durationMs: 50,
    });
    expect(assembler.stats()).toMatchObject({ open: 0, assembled: 1, incomplete: 0 });
  });

  it("names the sender of the session's latest inbound message (message_received), and no one elsewhere", () => {
    const { turns, assembler } = harness();
    assembler.handleHook(
      "message_received",
      { from: "", content: "hi", senderId: "cli", sessionKey: "agent:main:s1" },
      { channelId: "webchat", sessionKey: "agent:main:s1", senderId: "cli" },
    );
    assembler.handleHook(
      "message_received",
      { senderId: "someone-else" },
      { sessionKey: "agent:main:other" },
    );
    assembler.handleHook("message_received", { senderId: "" }, { sessionKey: "agent:main:s1" });
    feedRun(assembler, "r1", tokens, 0.000663);
    expect(turns[0]?.senderId).toBe("cli");
    assembler.handleEvent({ ...events.started("r2"), sessionKey: "agent:main:quiet" }, { trusted: true });
    assembler.closeAll("shutdown");
    expect(turns[1]?.sessionKey).toBe("agent:main:quiet");
    expect(turns[1]?.senderId).toBeUndefined();
    expect(assembler.stats()).toMatchObject({ malformed: 0 });
  });

  it("takes the agent from a canonical session key when no input named it", () => {
    const { turns, assembler } = harness();
    feedRun(assembler, "r1", tokens, 0.000663);
    expect(turns[0]?.agentId).toBe("main");
    assembler.handleEvent({ ...events.started("r2"), sessionKey: "raw-header-key" }, { trusted: true });
    assembler.closeAll("shutdown");
    expect(turns[1]?.agentId).toBeUndefined();
  });

  it("prices what the host did not, and says unknown when it cannot (per call and per turn)", () => {
    const priced = harness({ pricing: { "mock/mock-model": { input: 3, output: 15 } } });
    feedRun(priced.assembler, "r1", tokens, undefined);
    priced.clock.now += 2_000;
    priced.assembler.tick();
    expect(priced.turns[0]?.cost).toEqual({ usd: 0.000663, source: "estimated" });
    expect(priced.turns[0]?.modelCalls[0]?.cost).toEqual({ usd: 0.000663, source: "estimated" });

    const unpriced = harness();
    feedRun(unpriced.assembler, "r2", { ...tokens, cost: { total: 0 } }, 0);
    expect(unpriced.turns[0]?.cost).toEqual({ usd: null, source: "unknown" });
    expect(unpriced.turns[0]?.modelCalls[0]?.cost).toEqual({ usd: null, source: "unknown" });
  });

  it("sums the model calls when no model.usage comes (heartbeats, cron runs, provider failures)", () => {
    const { turns, assembler, clock } = harness();
    assembler.handleEvent(events.started("r1"));
    assembler.handleEvent(events.callStarted("r1", 1));
    assembler.handleEvent(events.callCompleted("r1", 1, { ...tokens, cost: { total: 0.000663 } }));
    assembler.handleEvent(events.callStarted("r1", 2));
    assembler.handleEvent(events.callCompleted("r1", 2, { ...tokens, cost: { total: 0.000663 } }));
    assembler.handleEvent(events.completed("r1"));
    // the host says the run is over (session.state idle, public); model.usage may still follow it
    assembler.handleEvent(
      { type: "session.state", state: "idle", reason: "run_completed", trace: trace("r1"), ts: 1060 },
      { trusted: false },
    );
    clock.now += 1_999;
    assembler.tick();
    expect(turns).toEqual([]);
    clock.now += 1;
    assembler.tick();
    expect(turns[0]).toMatchObject({
      usage: { input: 222, output: 44, total: 266 },
      cost: { usd: 0.001326, source: "provider" },
      usageSource: "model.calls",
    });
    expect(turns[0]?.incomplete).toBeUndefined();
  });

  it("skips malformed events and hooks with a one-line warning and keeps working", () => {
    const { turns, warnings, assembler } = harness();
    assembler.handleEvent({ type: "model.call.completed", runId: "r1" });
    assembler.handleEvent(null);
    assembler.handleEvent({ type: 12 });
    assembler.handleHook("model_call_ended", { runId: "r1" }, {});
    assembler.handleHook("agent_end", "not an object", {});
    assembler.handleEvent({ type: "queue.lane.enqueue" });
    assembler.handleHook("gateway_start", {}, {});
    feedRun(assembler, "r1", tokens, 0.000663);
    expect(turns).toHaveLength(1);
    expect(assembler.stats()).toMatchObject({ malformed: 5, ignored: 2, assembled: 1 });
    expect(warnings[0]).toBe(
      'turn assembler: skipped a malformed event: model.call.completed: "callId" is missing, expected a non-empty string',
    );
    expect(warnings.some((warning) => warning.includes('model_call_ended: "callId" missing'))).toBe(true);
    expect(warnings.every((warning) => !warning.includes("\n"))).toBe(true);
  });

  it("rate-limits repeated warnings", () => {
    const { warnings, assembler, clock } = harness();
    for (let index = 0; index < 1000; index += 1) assembler.handleEvent({ type: "run.started" });
    expect(warnings).toHaveLength(1);
    clock.now += 60_000;
    assembler.handleEvent({ type: "run.started" });
    expect(warnings[1]).toContain("(999 similar suppressed)");
  });

  it("never throws on hostile input", () => {
    const { assembler } = harness();
    const hostile = new Proxy(
      {},
      {
        get: () => {
          throw new Error("trap");
        },
      },
    );
    const throwing = Object.defineProperty({ type: "run.started", runId: "r1" }, "trace", {
      get() {
        throw new Error("getter");
      },
    });
    expect(() => {
      assembler.handleEvent(hostile, hostile);
      assembler.handleEvent(throwing);
      assembler.handleHook("agent_end", hostile, hostile);
      assembler.handleHook("llm_output", { runId: "r9", usage: hostile, lastAssistant: hostile }, null);
      assembler.handleEvent({ type: "model.usage", trace: { traceId: "t" }, usage: hostile });
      assembler.tick(Number.NaN);
    }).not.toThrow();
  });

  it("ignores untrusted copies of trusted event types", () => {
    const { turns, assembler } = harness();
    assembler.handleEvent(events.usage("r1", { input: 1e9, output: 1e9 }, 9999), { trusted: false });
    feedRun(assembler, "r1", tokens, 0.000663);
    expect(turns[0]?.usage).toEqual(tokens);
    expect(assembler.stats().untrusted).toBe(1);
  });

  it("keeps open turns within maxOpenTurns whatever the input, evicting the oldest", () => {
    const { turns, assembler } = harness({ maxOpenTurns: 1000 });
    for (let index = 0; index < 100_000; index += 1) {
      assembler.handleEvent({ type: "run.started", runId: `run-${index}`, ts: index });
      if (index % 10_000 === 0) expect(assembler.stats().open).toBeLessThanOrEqual(1000);
    }
    expect(assembler.stats()).toMatchObject({ open: 1000, evicted: 99_000, incomplete: 99_000 });
    expect(turns[0]).toMatchObject({
      runId: "run-0",
      incomplete: { reason: "evicted", missing: ["run.completed"] },
    });
    assembler.closeAll("shutdown");
    expect(assembler.stats()).toMatchObject({ open: 0, shutdown: 1000 });
    expect(turns.at(-1)?.incomplete).toEqual({ reason: "shutdown", missing: ["run.completed"] });
  });

  it("caps model calls per turn and counts the overflow", () => {
    const { turns, assembler } = harness({ maxCallsPerTurn: 3 });
    assembler.handleEvent(events.started("r1"));
    for (let n = 1; n <= 10; n += 1) {
      assembler.handleEvent(events.callStarted("r1", n));
      assembler.handleEvent(events.callCompleted("r1", n, tokens));
    }
    assembler.closeAll("shutdown");
    expect(turns[0]?.modelCalls).toHaveLength(3);
    expect(assembler.stats().droppedModelCalls).toBe(14);
  });

  it("survives an onTurn that throws, counting it", () => {
    const warnings: string[] = [];
    const assembler = createTurnAssembler({
      onTurn: () => {
        throw new Error("exporter down");
      },
      onWarning: (message) => warnings.push(message),
    });
    feedRun(assembler, "r1", tokens, 0.000663);
    feedRun(assembler, "r2", tokens, 0.000663);
    expect(assembler.stats()).toMatchObject({ assembled: 2, onTurnErrors: 2, open: 0 });
    expect(warnings[0]).toContain("onTurn failed for turn r1: exporter down");
  });

  it("reaps a turn without any new event after turnTimeoutMs, naming the pending call", () => {
    const { turns, assembler, clock } = harness({ turnTimeoutMs: 10_000 });
    assembler.handleEvent(events.started("r1"));
    assembler.handleEvent(events.callStarted("r1", 1));
    clock.now += 9_999;
    assembler.tick();
    expect(turns).toEqual([]);
    clock.now += 1;
    assembler.tick();
    expect(turns[0]?.incomplete).toEqual({
      reason: "timeout",
      missing: ["run.completed", "model.call.completed r1:model:1"],
    });
    expect(turns[0]?.outcome).toBe("unknown");
    expect(turns[0]?.modelCalls[0]?.outcome).toBe("pending");
  });
});
