import { describe, expect, it } from "vitest";
import type { Turn } from "../../kit/src/turns/turn.js";
import { createTurnAssembler, type TurnAssemblerOptions } from "../../kit/src/turns/turn-assembler.js";
import type { CapturedInput } from "./captured.js";
import {
  buildTurnEvents,
  delayInputs,
  dropInputs,
  isBusEvent,
  replayInputs,
  shuffleInputs,
} from "./event-builders.js";

function harness(options: Partial<TurnAssemblerOptions> = {}) {
  const turns: Turn[] = [];
  const clock = { now: 1_000_000 };
  const assembler = createTurnAssembler({
    onTurn: (turn) => turns.push(turn),
    now: () => clock.now,
    ...options,
  });
  const feed = (inputs: readonly CapturedInput[]) => replayInputs(assembler, inputs);
  return { turns, clock, assembler, feed };
}

const toolRun = () =>
  buildTurnEvents({
    runId: "run-tool",
    sessionKey: "agent:main:s1",
    modelCalls: [{ usage: { input: 111, output: 22 } }, { usage: { input: 120, output: 30, cacheRead: 50 } }],
    tools: [{ toolName: "echo_tool" }],
  });

describe("buildTurnEvents", () => {
  it("builds the host's shapes and order: run.completed before the last model call, model.usage last", () => {
    const built = toolRun();
    const types = built.inputs.flatMap((input) => (input.kind === "event" ? [input.event.type] : []));
    expect(types.at(-1)).toBe("model.usage");
    expect(types.lastIndexOf("model.call.completed")).toBeGreaterThan(types.indexOf("run.completed"));
    expect(built.hooks.map((hook) => hook.name)).toEqual([
      "model_call_started",
      "model_call_ended",
      "before_tool_call",
      "after_tool_call",
      "model_call_started",
      "model_call_ended",
      "agent_end",
      "llm_output",
    ]);
    const usage = built.events.find((row) => row.event.type === "model.usage")?.event;
    expect(usage).toMatchObject({
      sessionKey: "s1",
      costUsd: built.totals.costUsd,
      usage: { input: 231, output: 52 },
    });
    // the core events are trusted; the host's public end-of-run session state is not
    expect(built.events.filter((row) => row.metadata.trusted !== true).map((row) => row.event.type)).toEqual([
      "session.state",
    ]);
    expect(types.slice(-2)).toEqual(["session.state", "model.usage"]);
  });

  it("omits model.usage and marks the last assistant as failed when the final call errors", () => {
    const built = buildTurnEvents({ runId: "run-fail", modelCalls: [{ error: { message: "400 nope" } }] });
    expect(built.events.some((row) => row.event.type === "model.usage")).toBe(false);
    const output = built.hooks.find((hook) => hook.name === "llm_output")?.event as Record<string, unknown>;
    expect(output.lastAssistant).toMatchObject({ stopReason: "error", errorMessage: "400 nope" });
  });

  it("shuffles deterministically", () => {
    const inputs = toolRun().inputs;
    expect(shuffleInputs(inputs, 7)).toEqual(shuffleInputs(inputs, 7));
    expect(shuffleInputs(inputs, 7)).not.toEqual(inputs);
  });
});

describe("the turn assembler against built runs", () => {
  it("assembles the run: totals equal model.usage exactly", () => {
    const built = toolRun();
    const { turns, feed } = harness();
    feed(built.inputs);
    expect(turns).toHaveLength(1);
    expect(turns[0]).toMatchObject({
      id: "run-tool",
      sessionKey: "agent:main:s1",
      usage: { input: 231, output: 52, cacheRead: 50, cacheWrite: 0, total: 333 },
      cost: { usd: built.totals.costUsd, source: "provider" },
      usageSource: "model.usage",
      outcome: "success",
    });
    expect(turns[0]?.modelCalls.map((call) => call.callId)).toEqual(built.callIds);
    expect(turns[0]?.toolCalls.map((tool) => tool.toolCallId)).toEqual(built.toolCallIds);
  });

  it("gives the same turn for 50 permutations of the same input", () => {
    const built = toolRun();
    const reference = harness();
    reference.feed(built.inputs);
    const expected = reference.turns[0];
    expect(expected).toBeDefined();
    for (let seed = 1; seed <= 50; seed += 1) {
      const { turns, feed, assembler, clock } = harness();
      feed(shuffleInputs(built.inputs, seed));
      clock.now += 5_000;
      assembler.tick();
      expect(turns, `seed ${seed}`).toEqual([expected]);
    }
  });

  it("gives the same failed and retried turns for any permutation", () => {
    const runs = [
      buildTurnEvents({ runId: "run-fail", modelCalls: [{ error: { message: "400 bad" } }] }),
      buildTurnEvents({
        runId: "run-retry",
        modelCalls: [{ error: { failureKind: "timeout" } }, {}],
        tools: [{ toolName: "t" }],
      }),
    ];
    for (const built of runs) {
      const reference = harness();
      reference.feed(built.inputs);
      reference.clock.now += 5_000;
      reference.assembler.tick();
      for (let seed = 100; seed < 130; seed += 1) {
        const { turns, feed, assembler, clock } = harness();
        feed(shuffleInputs(built.inputs, seed));
        clock.now += 5_000;
        assembler.tick();
        expect(turns, `seed ${seed}`).toEqual(reference.turns);
      }
    }
  });

  it("waits for calls and tools that arrive after run.completed, and model.usage after them", () => {
    const built = toolRun();
    const isLate = (input: CapturedInput) =>
      input.kind === "event" &&
      (input.event.type.startsWith("tool.execution") || input.event.type === "model.usage");
    const { turns, feed, assembler } = harness();
    feed(delayInputs(built.inputs, isLate).slice(0, -3));
    assembler.tick();
    expect(turns).toEqual([]);
    feed(delayInputs(built.inputs, isLate).slice(-3));
    expect(turns).toHaveLength(1);
    expect(turns[0]?.incomplete).toBeUndefined();
    expect(turns[0]?.toolCalls[0]?.outcome).toBe("success");
  });

  it("never emits a turn twice for repeated input, and counts input too late to amend", () => {
    const built = toolRun();
    const { turns, feed, assembler, clock } = harness();
    feed(built.inputs);
    // repeated input reopens the closed turn, changes nothing, and is not exported again
    feed(built.inputs.slice(0, 5));
    expect(turns).toHaveLength(1);
    expect(assembler.stats()).toMatchObject({ late: 0, amended: 0, open: 0, assembled: 1 });
    clock.now += 20 * 60_000;
    assembler.tick();
    feed(built.inputs.slice(0, 5));
    expect(turns).toHaveLength(1);
    expect(assembler.stats()).toMatchObject({ late: 5, open: 0, assembled: 1 });
  });

  it("closes a run whose run.completed never came at the timeout, naming it", () => {
    const built = buildTurnEvents({ runId: "run-drop", withModelUsage: false, withConversationHooks: false });
    const { turns, feed, assembler, clock } = harness({ turnTimeoutMs: 60_000 });
    feed(
      dropInputs(
        built.inputs,
        (input) => isBusEvent(input, "run.completed") || isBusEvent(input, "harness.run.completed"),
      ),
    );
    clock.now += 59_000;
    assembler.tick();
    expect(turns).toEqual([]);
    clock.now += 1_000;
    assembler.tick();
    expect(turns[0]?.incomplete).toEqual({ reason: "timeout", missing: ["run.completed"] });
    expect(turns[0]?.usageSource).toBe("model.calls");
    expect(assembler.stats()).toMatchObject({ incomplete: 1, timedOut: 1, open: 0 });
  });

  it("closes a run missing one model.call.completed after the settle time, naming the call", () => {
    const built = buildTurnEvents({ runId: "run-gap", modelCalls: [{}, {}] });
    const missing = built.callIds[0] ?? "";
    const { turns, feed, assembler, clock } = harness({ settleMs: 1500 });
    feed(dropInputs(built.inputs, (input) => isBusEvent(input, "model.call.completed", missing)));
    expect(turns).toEqual([]);
    clock.now += 1499;
    assembler.tick();
    expect(turns).toEqual([]);
    clock.now += 1;
    assembler.tick();
    expect(turns[0]?.incomplete).toEqual({ reason: "timeout", missing: [`model.call.completed ${missing}`] });
    // the gateway's own totals still came through model.usage
    expect(turns[0]?.usage.total).toBe(built.totals.total);
  });

  it("names a tool execution that never completed", () => {
    const built = buildTurnEvents({
      runId: "run-tool-gap",
      tools: [{ toolName: "search", toolCallId: "t1" }],
    });
    const { turns, feed, assembler, clock } = harness();
    feed(dropInputs(built.inputs, (input) => isBusEvent(input, "tool.execution.completed")));
    clock.now += 2_000;
    assembler.tick();
    expect(turns[0]?.incomplete?.missing).toEqual(["tool.execution.completed search t1"]);
  });

  it("recovers a provider failure the host reports as completed, and lets a retried failure succeed", () => {
    const failed = buildTurnEvents({
      runId: "run-fail",
      modelCalls: [{ error: { category: "Error", message: "400 bad" } }],
    });
    const retried = buildTurnEvents({
      runId: "run-retry",
      modelCalls: [{ error: { category: "Error", failureKind: "timeout" } }, {}],
    });
    const { turns, feed, assembler, clock } = harness();
    feed(failed.inputs);
    feed(retried.inputs);
    clock.now += 2_000;
    assembler.tick();
    const byId = new Map(turns.map((turn) => [turn.id, turn]));
    expect(byId.get("run-fail")).toMatchObject({
      hostOutcome: "completed",
      outcome: "error",
      error: {
        category: "Error",
        status: 400,
        reason: "the provider rejected the request (HTTP 400)",
        source: "model.call.error",
      },
    });
    // the host's text leaves only with content capture on
    expect(byId.get("run-fail")?.error).not.toHaveProperty("message");
    expect(byId.get("run-retry")?.outcome).toBe("success");
    expect(byId.get("run-retry")?.modelCalls.map((call) => [call.outcome, call.failureKind])).toEqual([
      ["error", "timeout"],
      ["success", undefined],
    ]);
  });

  it("maps the host's own aborted, blocked and error outcomes", () => {
    const { turns, feed } = harness();
    for (const outcome of ["aborted", "blocked", "error"] as const) {
      feed(buildTurnEvents({ runId: `run-${outcome}`, hostOutcome: outcome }).inputs);
    }
    expect(turns.map((turn) => [turn.id, turn.outcome])).toEqual([
      ["run-aborted", "aborted"],
      ["run-blocked", "blocked"],
      ["run-error", "error"],
    ]);
  });

  it("assembles from hooks alone (diagnostics off), with totals from llm_output", () => {
    const built = buildTurnEvents({ runId: "run-hooks", withBus: false, tools: [{ toolName: "echo_tool" }] });
    const { turns, feed, assembler, clock } = harness();
    feed(built.inputs);
    clock.now += 2_000;
    assembler.tick();
    expect(turns[0]).toMatchObject({
      usage: { total: built.totals.total },
      cost: { usd: built.totals.costUsd, source: "provider" },
      usageSource: "llm_output",
      outcome: "success",
    });
    expect(turns[0]?.incomplete).toBeUndefined();
  });

  it("stores content only through captureContent, and what it returns", () => {
    const built = buildTurnEvents({
      runId: "run-content",
      tools: [{ toolName: "echo_tool", params: { q: "secret" } }],
    });
    const kinds: string[] = [];
    const { turns, feed } = harness({
      captureContent: (value, kind) => {
        kinds.push(kind);
        return `${kind}:${JSON.stringify(value).length}`;
      },
    });
    feed(built.inputs);
    expect(turns[0]?.toolCalls[0]?.content?.input).toBe(
      `tool-input:${JSON.stringify({ q: "secret" }).length}`,
    );
    expect(turns[0]?.modelCalls[0]?.content?.input).toMatch(/^model-input:/);
    expect(turns[0]?.modelCalls.at(-1)?.content?.output).toMatch(/^model-output:/);
    expect(new Set(kinds)).toEqual(new Set(["tool-input", "tool-output", "model-input", "model-output"]));
    expect(JSON.stringify(turns)).not.toContain("secret");
  });
});
