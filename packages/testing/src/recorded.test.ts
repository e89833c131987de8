/**
 * The turn assembler over our own recordings of the real gateway (`recorded/`, by
 * `scripts/record-host.ts`): retries, a fallback, an unpriced model, heartbeat, cron and CLI runs.
 * Every figure is checked against what the host itself reported in the same recording.
 */
import { describe, expect, it } from "vitest";
import type { Turn } from "../../kit/src/turns/turn.js";
import { createTurnAssembler, type TurnAssemblerOptions } from "../../kit/src/turns/turn-assembler.js";
import { type CapturedScenario, interleaveCaptured, loadRecordedScenario } from "./captured.js";
import { replayInputs } from "./event-builders.js";

/** Replays a recording with a clock that follows it, ticking as the runtime does. */
function replay(
  scenario: CapturedScenario,
  options: { bus?: boolean } & Partial<TurnAssemblerOptions> = {},
): { turns: Turn[]; warnings: string[] } {
  const turns: Turn[] = [];
  const warnings: string[] = [];
  let now = 0;
  const assembler = createTurnAssembler({
    onTurn: (turn) => turns.push(turn),
    onWarning: (message) => warnings.push(message),
    now: () => now,
    settleMs: 1500,
    ...options,
  });
  const inputs = interleaveCaptured(scenario).filter(
    (input) => options.bus !== false || input.kind === "hook",
  );
  replayInputs(assembler, inputs, (input) => {
    now = input.at;
    assembler.tick(now);
  });
  // without the bus nothing says the run is over: a failure waits for a retry that never comes
  assembler.tick(now + 200_000);
  return { turns, warnings };
}

/** The host's own `model.usage` in a recording (one per run that had a successful call). */
function modelUsageOf(scenario: CapturedScenario) {
  return scenario.internal
    .filter((row) => row.event.type === "model.usage")
    .map((row) => row.event as unknown as { usage: Record<string, number>; costUsd?: number });
}

/** The usage the host put on its `model.call.completed` events, summed. */
function callUsageOf(scenario: CapturedScenario) {
  let input = 0;
  let output = 0;
  let cost = 0;
  for (const row of scenario.internal) {
    if (row.event.type !== "model.call.completed") continue;
    const usage = (row.event as { usage?: { input?: number; output?: number; cost?: { total?: number } } })
      .usage;
    input += usage?.input ?? 0;
    output += usage?.output ?? 0;
    cost += usage?.cost?.total ?? 0;
  }
  return { input, output, cost: Math.round(cost * 1e12) / 1e12 };
}

const only = (turns: Turn[]): Turn => {
  expect(turns.map((turn) => turn.id)).toHaveLength(1);
  return turns[0] as Turn;
};

describe("recorded retries", () => {
  it("429, 429, 200: one successful turn of three attempts whose totals equal model.usage", () => {
    const scenario = loadRecordedScenario("retry-429-twice");
    const turn = only(replay(scenario).turns);
    const [usage] = modelUsageOf(scenario);
    expect(turn).toMatchObject({
      outcome: "success",
      attempts: 3,
      usageSource: "model.usage",
      usage: { input: usage?.usage.input, output: usage?.usage.output },
      cost: { usd: usage?.costUsd, source: "provider" },
    });
    expect(turn.modelCalls.map((call) => [call.attempt, call.outcome, call.errorStatus])).toEqual([
      [1, "error", 429],
      [2, "error", 429],
      [3, "success", undefined],
    ]);
    expect(turn.error).toBeUndefined();
    for (const call of turn.modelCalls) {
      expect(call.startedAt).toBeGreaterThanOrEqual(turn.startedAt);
      expect(call.endedAt).toBeLessThanOrEqual(turn.endedAt);
    }
  });

  it("429 with retry-after, then 200", () => {
    const turn = only(replay(loadRecordedScenario("retry-429-retry-after")).turns);
    expect(turn).toMatchObject({ outcome: "success", attempts: 2 });
    expect(turn.modelCalls[0]).toMatchObject({ outcome: "error", errorStatus: 429, attempt: 1 });
  });

  it("a tool call, a 429, a retry: model.usage sums both attempts and so does the turn", () => {
    const scenario = loadRecordedScenario("retry-after-tool");
    const turn = only(replay(scenario).turns);
    const [usage] = modelUsageOf(scenario);
    const calls = callUsageOf(scenario);
    // the host's run total is the sum of both attempts' calls
    expect(usage?.usage).toMatchObject({ input: calls.input, output: calls.output });
    expect(turn).toMatchObject({
      outcome: "success",
      attempts: 2,
      usage: { input: usage?.usage.input, output: usage?.usage.output },
      cost: { usd: usage?.costUsd },
    });
    expect(turn.toolCalls.map((tool) => [tool.toolName, tool.outcome])).toEqual([["echo_tool", "success"]]);
  });

  it("503 on every attempt: one failed turn, exported when the host gave up, with every attempt", () => {
    const scenario = loadRecordedScenario("retry-5xx-exhausted");
    expect(modelUsageOf(scenario)).toEqual([]);
    const turn = only(replay(scenario).turns);
    const attempts = scenario.internal.filter((row) => row.event.type === "run.started").length;
    expect(attempts).toBeGreaterThanOrEqual(5);
    expect(turn).toMatchObject({
      outcome: "error",
      attempts,
      error: { status: 503, reason: "the provider was unavailable (HTTP 503)" },
      usage: { total: 0 },
    });
    expect(turn.modelCalls).toHaveLength(attempts);
    expect(turn.modelCalls.every((call) => call.outcome === "error" && call.errorStatus === 503)).toBe(true);
    // the turn spans the host's whole retry window, not one attempt
    expect(turn.durationMs).toBeGreaterThan(30_000);
    expect(turn.incomplete).toBeUndefined();
  });

  it("a tool loop whose third call fails with 400: an error that still used tokens", () => {
    const scenario = loadRecordedScenario("tool-loop-400");
    const turn = only(replay(scenario).turns);
    const [usage] = modelUsageOf(scenario);
    expect(turn).toMatchObject({
      outcome: "error",
      attempts: 1,
      error: { status: 400 },
      usage: { input: usage?.usage.input, output: usage?.usage.output },
      cost: { usd: usage?.costUsd, source: "provider" },
    });
    expect(turn.modelCalls.map((call) => call.outcome)).toEqual(["success", "success", "error"]);
    expect(turn.toolCalls).toHaveLength(2);
  });
});

describe("recorded runs nobody watches", () => {
  it("a fallback to another provider's model: one turn, each call with its own provider and model", () => {
    const scenario = loadRecordedScenario("fallback-auth");
    const turn = only(replay(scenario).turns);
    const [usage] = modelUsageOf(scenario);
    expect(turn).toMatchObject({
      outcome: "success",
      provider: "mock2",
      model: "mock-model-b",
      attempts: 2,
      usage: { input: usage?.usage.input, output: usage?.usage.output },
      cost: { usd: usage?.costUsd, source: "provider" },
      fallbacks: [
        { fromProvider: "mock", fromModel: "mock-model", toProvider: "mock2", toModel: "mock-model-b" },
      ],
    });
    expect(
      turn.modelCalls.map((call) => [call.provider, call.model, call.outcome, call.errorStatus]),
    ).toEqual([
      ["mock", "mock-model", "error", 401],
      ["mock2", "mock-model-b", "success", undefined],
    ]);
  });

  it("an unpriced model: tokens counted, the cost unknown, never $0", () => {
    const turn = only(replay(loadRecordedScenario("unpriced-model")).turns);
    expect(turn).toMatchObject({ model: "mock-model-free", usage: { input: 111, output: 22 } });
    expect(turn.cost).toEqual({ usd: null, source: "unknown" });
    expect(turn.modelCalls[0]?.cost).toEqual({ usd: null, source: "unknown" });
  });

  it("a heartbeat that ends in NO_REPLY: a turn with the calls' own figures (the host sends no model.usage)", () => {
    const scenario = loadRecordedScenario("heartbeat-no-reply");
    expect(modelUsageOf(scenario)).toEqual([]);
    const turn = only(replay(scenario).turns);
    const calls = callUsageOf(scenario);
    expect(turn).toMatchObject({
      trigger: "heartbeat",
      outcome: "success",
      usage: { input: calls.input, output: calls.output },
      cost: { usd: calls.cost, source: "provider" },
      provider: "mock",
      model: "mock-model",
    });
  });

  it("a cron job and an `openclaw agent` run: turns with the gateway's figures", () => {
    for (const [name, trigger] of [
      ["cron-isolated", "cron"],
      ["agent-cli", "user"],
    ] as const) {
      const scenario = loadRecordedScenario(name);
      const turn = only(replay(scenario).turns);
      const [usage] = modelUsageOf(scenario);
      const expected = usage?.usage ?? callUsageOf(scenario);
      expect(turn, name).toMatchObject({
        trigger,
        outcome: "success",
        usage: { input: expected.input, output: expected.output },
        provider: "mock",
        model: "mock-model",
      });
      expect(turn.cost.source, name).toBe("provider");
    }
  });
});

describe("recorded runs from the hooks alone (diagnostics off)", () => {
  it("give the same attempts, outcome and totals as with the bus", () => {
    for (const name of [
      "retry-429-twice",
      "retry-after-tool",
      "tool-loop-400",
      "fallback-auth",
      "heartbeat-no-reply",
    ]) {
      const scenario = loadRecordedScenario(name);
      const withBus = only(replay(scenario).turns);
      const hooksOnly = only(replay(scenario, { bus: false }).turns);
      expect(
        [
          hooksOnly.outcome,
          hooksOnly.attempts,
          hooksOnly.usage.input,
          hooksOnly.usage.output,
          hooksOnly.cost,
        ],
        name,
      ).toEqual([withBus.outcome, withBus.attempts, withBus.usage.input, withBus.usage.output, withBus.cost]);
    }
  });
});
