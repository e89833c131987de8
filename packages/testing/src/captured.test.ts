import { describe, expect, it } from "vitest";
import type { Turn } from "../../kit/src/turns/turn.js";
import { createTurnAssembler } from "../../kit/src/turns/turn-assembler.js";
import {
  type CapturedScenario,
  interleaveCaptured,
  listCapturedScenarios,
  loadCapturedSamples,
  loadCapturedScenario,
  resolveCapturedDir,
} from "./captured.js";
import { replayInputs } from "./event-builders.js";

/** Replays a scenario as recorded (bus and hooks interleaved by receive time) with a clock that follows it. */
function assemble(scenario: CapturedScenario, options: { bus?: boolean } = {}) {
  const turns: Turn[] = [];
  const warnings: string[] = [];
  let now = 0;
  const assembler = createTurnAssembler({
    onTurn: (turn) => turns.push(turn),
    now: () => now,
    onWarning: (message) => warnings.push(message),
  });
  const inputs = interleaveCaptured(scenario).filter(
    (input) => options.bus !== false || input.kind === "hook",
  );
  replayInputs(assembler, inputs, (input) => {
    now = input.at;
    assembler.tick(now);
  });
  // a failed turn without the host's end-of-run word (hooks alone) waits for a fallback a little longer
  assembler.tick(now + 10_000);
  return { turns, warnings, stats: assembler.stats() };
}

const plainUsage = { input: 111, output: 22, cacheRead: 0, cacheWrite: 0, total: 133 };
const toolTurnUsage = { input: 222, output: 44, cacheRead: 0, cacheWrite: 0, total: 266 };

describe("captured payloads", () => {
  it("lists the six recorded scenarios and the samples file", () => {
    expect(listCapturedScenarios()).toEqual([
      "e2e-conversation-access-off",
      "e2e-diagnostics-disabled",
      "e2e-http-2turns",
      "e2e-openai-responses-api",
      "e2e-provider-error-400",
      "e2e-ws-chat-send",
    ]);
    const samples = loadCapturedSamples();
    expect(samples.diag["model.usage"]?.event.type).toBe("model.usage");
    expect(samples.hooks.llm_output?.event).toMatchObject({ runId: expect.any(String) });
  });

  it("honours CLAWSCOPE_REFERENCE_DIR", () => {
    expect(resolveCapturedDir({ CLAWSCOPE_REFERENCE_DIR: "/elsewhere/captured" })).toBe(
      "/elsewhere/captured",
    );
    expect(resolveCapturedDir({})).toMatch(/shared\/reference\/openclaw-2026\.9\.6\/captured$/);
  });

  it("loads every file of a scenario and interleaves bus and hooks in receive order", () => {
    const scenario = loadCapturedScenario("e2e-http-2turns");
    expect(scenario.internal).toHaveLength(94);
    expect(scenario.hooks).toHaveLength(39);
    expect(scenario.public.length).toBeGreaterThan(0);
    expect(scenario.toolCalls).toHaveLength(1);
    const merged = interleaveCaptured(scenario);
    expect(merged).toHaveLength(94 + 39);
    // run.completed (seq 150) was delivered before the last model.call.completed (seq 149): kept as recorded
    const types = merged.flatMap((input) => (input.kind === "event" ? [input.event.type] : []));
    const completed = types.indexOf("run.completed");
    expect(types.indexOf("model.call.completed", types.indexOf("model.call.completed") + 1)).toBeGreaterThan(
      completed,
    );
    expect(() => loadCapturedScenario("no-such-scenario")).toThrow(/not found/);
  });
});

describe("the turn assembler over every captured scenario", () => {
  it("covers every scenario", () => {
    for (const name of listCapturedScenarios()) {
      const { turns, warnings, stats } = assemble(loadCapturedScenario(name));
      expect(turns.length, name).toBeGreaterThan(0);
      expect(
        turns.every((turn) => turn.incomplete === undefined),
        name,
      ).toBe(true);
      expect(warnings, name).toEqual([]);
      expect(stats.malformed + stats.late + stats.open, name).toBe(0);
    }
  });

  it("e2e-http-2turns: a tool turn and a plain turn whose totals equal model.usage", () => {
    const { turns } = assemble(loadCapturedScenario("e2e-http-2turns"));
    expect(turns).toHaveLength(2);
    const [toolTurn, plainTurn] = turns as [Turn, Turn];
    expect(toolTurn).toMatchObject({
      id: "chatcmpl_e55c5430-71ed-4577-9d0b-c4647c0a91c2",
      traceId: "18610f3d0cd6a54354b2af850d056566",
      spanId: "46cc583f2c4d3e22",
      sessionKey: "agent:main:e2e-s1",
      sessionId: "0bd12548-e9bd-496c-83f4-5ee938604795",
      agentId: "main",
      channel: "webchat",
      provider: "mock",
      model: "mock-model",
      startedAt: 1795328914724,
      endedAt: 1795328918308,
      durationMs: 3584,
      usage: toolTurnUsage,
      cost: { usd: 0.001326, source: "provider" },
      usageSource: "model.usage",
      outcome: "success",
      hostOutcome: "completed",
      context: { limit: 128000, used: 111 },
    });
    expect(
      toolTurn.modelCalls.map((call) => [call.callId.split(":").at(-1), call.usage.total, call.cost.usd]),
    ).toEqual([
      ["1", 133, 0.000663],
      ["2", 133, 0.000663],
    ]);
    expect(toolTurn.modelCalls[0]).toMatchObject({
      durationMs: 249,
      timeToFirstByteMs: 210,
      outcome: "success",
    });
    expect(toolTurn.toolCalls).toEqual([
      expect.objectContaining({
        toolCallId: "call_1795328917855",
        toolName: "echo_tool",
        toolSource: "plugin",
        outcome: "success",
        durationMs: 1,
      }),
    ]);
    // content capture is off by default: nothing of the conversation is kept
    expect(JSON.stringify(turns)).not.toContain("hello-from-mock");
    expect(plainTurn).toMatchObject({
      id: "chatcmpl_ae737981-b41d-4c97-a277-2240317ad4e2",
      sessionKey: "agent:main:e2e-s1",
      usage: plainUsage,
      cost: { usd: 0.000663, source: "provider" },
      usageSource: "model.usage",
      outcome: "success",
    });
    expect(plainTurn.modelCalls).toHaveLength(1);
    expect(plainTurn.toolCalls).toEqual([]);
  });

  it("e2e-provider-error-400: outcome error although run.completed says completed", () => {
    const { turns } = assemble(loadCapturedScenario("e2e-provider-error-400"));
    expect(turns).toHaveLength(1);
    expect(turns[0]).toMatchObject({
      id: "chatcmpl_926ddad1-3308-4849-a318-3b914ba60b9e",
      sessionKey: "agent:main:err1",
      hostOutcome: "completed",
      outcome: "error",
      error: {
        category: "Error",
        status: 400,
        reason: "the provider rejected the request (HTTP 400)",
        source: "model.call.error",
      },
      usage: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 },
      cost: { usd: 0, source: "provider" },
      usageSource: "model.calls",
    });
    expect(turns[0]?.modelCalls).toEqual([
      expect.objectContaining({ outcome: "error", errorCategory: "Error", durationMs: 147 }),
    ]);
    // the host's text, and its diagnostic copy for the knowledge base, only with content capture on
    expect(turns[0]?.error?.diagnostic).toBeUndefined();
    expect(turns[0]?.error?.message).toBeUndefined();
    expect(turns[0]?.modelCalls[0]?.errorDiagnostic).toBeUndefined();
  });

  it("e2e-ws-chat-send: two turns over chat.send, canonical session key from model.usage too", () => {
    const { turns } = assemble(loadCapturedScenario("e2e-ws-chat-send"));
    expect(
      turns.map((turn) => [turn.id, turn.sessionKey, turn.usage.total, turn.cost.usd, turn.outcome]),
    ).toEqual([
      ["k01795330640814", "agent:main:cs-1", 266, 0.001326, "success"],
      ["k11795330647714", "agent:main:cs-1", 133, 0.000663, "success"],
    ]);
    expect(turns.map((turn) => [turn.modelCalls.length, turn.toolCalls.length])).toEqual([
      [2, 1],
      [1, 0],
    ]);
  });

  it("e2e-openai-responses-api: same totals through the responses API, tool id kept verbatim", () => {
    const { turns } = assemble(loadCapturedScenario("e2e-openai-responses-api"));
    expect(turns.map((turn) => [turn.sessionKey, turn.usage, turn.cost, turn.usageSource])).toEqual([
      ["agent:main:r1", toolTurnUsage, { usd: 0.001326, source: "provider" }, "model.usage"],
      ["agent:main:r1", plainUsage, { usd: 0.000663, source: "provider" }, "model.usage"],
    ]);
    expect(turns[0]?.toolCalls[0]?.toolCallId).toBe("call_1795329549812|fc_1795329549812");
    expect(turns[0]?.modelCalls.every((call) => call.api === "openai-responses")).toBe(true);
  });

  it("e2e-conversation-access-off: no llm_output or agent_end, the bus alone is enough", () => {
    const scenario = loadCapturedScenario("e2e-conversation-access-off");
    expect(scenario.hooks.some((row) => row.hook === "agent_end" || row.hook === "llm_output")).toBe(false);
    const { turns } = assemble(scenario);
    expect(
      turns.map((turn) => [turn.usage.total, turn.cost.usd, turn.outcome, turn.modelCalls.length]),
    ).toEqual([
      [266, 0.001326, "success", 2],
      [133, 0.000663, "success", 1],
    ]);
  });

  it("e2e-diagnostics-disabled: turns from hooks alone, totals from llm_output", () => {
    const scenario = loadCapturedScenario("e2e-diagnostics-disabled");
    expect(scenario.internal).toEqual([]);
    const { turns } = assemble(scenario);
    expect(turns).toHaveLength(2);
    expect(turns.map((turn) => [turn.id, turn.usage, turn.cost, turn.usageSource, turn.outcome])).toEqual([
      [
        "chatcmpl_f75ed204-74cb-4e4f-ad38-2c3a466ba5e5",
        toolTurnUsage,
        { usd: 0.001326, source: "provider" },
        "llm_output",
        "success",
      ],
      [
        "chatcmpl_eadecad6-77bd-44ac-86bb-674795cb9e72",
        plainUsage,
        { usd: 0.000663, source: "provider" },
        "llm_output",
        "success",
      ],
    ]);
    expect(turns[0]?.modelCalls.map((call) => [call.outcome, call.durationMs])).toEqual([
      ["success", 159],
      ["success", 71],
    ]);
    expect(turns[0]?.toolCalls).toEqual([
      expect.objectContaining({ toolCallId: "call_1795328977236", outcome: "success", durationMs: 28 }),
    ]);
    expect(turns[0]?.sessionKey).toBe("agent:main:e2e-s1");
  });

  it("the recorded hooks alone give the same totals as the bus (every scenario with conversation access)", () => {
    for (const name of ["e2e-http-2turns", "e2e-ws-chat-send", "e2e-openai-responses-api"]) {
      const scenario = loadCapturedScenario(name);
      const withBus = assemble(scenario).turns;
      const hooksOnly = assemble(scenario, { bus: false }).turns;
      expect(
        hooksOnly.map((turn) => [turn.id, turn.usage, turn.cost]),
        name,
      ).toEqual(withBus.map((turn) => [turn.id, turn.usage, turn.cost]));
    }
  });

  it("the provider failure is still an error from hooks alone, from the model_call_ended hook", () => {
    const { turns } = assemble(loadCapturedScenario("e2e-provider-error-400"), { bus: false });
    expect(turns[0]).toMatchObject({
      outcome: "error",
      error: { category: "Error", status: 400, source: "model_call_ended" },
    });
  });
});
