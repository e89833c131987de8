/**
 * The turn assembler against runs the host ran more than once: a provider call retried after 429s
 * or 5xx, a fallback to another model, late input after a turn was exported. Built with the event
 * builders in the host's shapes (each attempt its own harness and run span, same run and call ids).
 */
import { describe, expect, it } from "vitest";
import type { Turn } from "../../kit/src/turns/turn.js";
import { createTurnAssembler, type TurnAssemblerOptions } from "../../kit/src/turns/turn-assembler.js";
import type { CapturedInput } from "./captured.js";
import { buildTurnEvents, dropInputs, isBusEvent, replayInputs, shuffleInputs } from "./event-builders.js";

const RATE_LIMITED = { error: { message: "429 mock provider: scripted HTTP 429" } };
const UNAVAILABLE = { error: { message: "503 mock provider: scripted HTTP 503" } };

function harness(options: Partial<TurnAssemblerOptions> = {}) {
  const turns: Turn[] = [];
  const warnings: string[] = [];
  const clock = { now: 1_000_000 };
  const assembler = createTurnAssembler({
    onTurn: (turn) => turns.push(turn),
    onWarning: (message) => warnings.push(message),
    now: () => clock.now,
    settleMs: 1500,
    ...options,
  });
  /** Feeds inputs with the clock following their host time gaps, ticking as the runtime does. */
  const feed = (inputs: readonly CapturedInput[]) =>
    replayInputs(assembler, inputs, (input) => {
      clock.now = Math.max(clock.now, input.at - 1_795_000_000_000 + 1_000_000);
      assembler.tick();
    });
  return { turns, warnings, clock, assembler, feed };
}

const twiceRateLimited = () =>
  buildTurnEvents({
    runId: "run-429",
    attempts: [
      { modelCalls: [RATE_LIMITED] },
      { modelCalls: [RATE_LIMITED], delayMs: 2_500 },
      { modelCalls: [{ usage: { input: 101, output: 21 } }], delayMs: 4_000 },
    ],
  });

describe("a turn the host retried", () => {
  it("is one turn over all attempts: the last decides the outcome, totals equal model.usage", () => {
    const built = twiceRateLimited();
    const { turns, feed } = harness();
    feed(built.inputs);
    expect(turns).toHaveLength(1);
    const turn = turns[0] as Turn;
    expect(turn).toMatchObject({
      outcome: "success",
      attempts: 3,
      usage: { input: 101, output: 21, total: 122 },
      cost: { usd: built.totals.costUsd, source: "provider" },
      usageSource: "model.usage",
      revision: 1,
    });
    expect(turn.error).toBeUndefined();
    // every attempt is a model call of its own, with its error and duration
    expect(
      turn.modelCalls.map((call) => [call.callId, call.attempt, call.outcome, call.errorStatus]),
    ).toEqual([
      ["run-429:model:1", 1, "error", 429],
      ["run-429:model:1", 2, "error", 429],
      ["run-429:model:1", 3, "success", undefined],
    ]);
    expect(turn.modelCalls[0]?.errorReason).toBe("the provider rate-limited the request (HTTP 429)");
    expect(turn.modelCalls.every((call) => call.durationMs === 120)).toBe(true);
  });

  it("starts with its first attempt and ends with its last, around every call", () => {
    const { turns, feed } = harness();
    feed(twiceRateLimited().inputs);
    const turn = turns[0] as Turn;
    const starts = turn.modelCalls.map((call) => call.startedAt ?? Number.NaN);
    const ends = turn.modelCalls.map((call) => call.endedAt ?? Number.NaN);
    expect(turn.startedAt).toBeLessThanOrEqual(Math.min(...starts));
    expect(turn.endedAt).toBeGreaterThanOrEqual(Math.max(...ends));
    // the three attempts and the 6.5 s between them
    expect(turn.durationMs).toBe(turn.endedAt - turn.startedAt);
    expect(turn.durationMs).toBeGreaterThan(6_500);
  });

  it("is not closed between attempts, however long the host waits before retrying", () => {
    const built = buildTurnEvents({
      runId: "run-slow-retry",
      attempts: [{ modelCalls: [RATE_LIMITED] }, { modelCalls: [{}], delayMs: 60_000 }],
    });
    const { turns, feed } = harness({ settleMs: 300 });
    feed(built.inputs);
    expect(turns).toHaveLength(1);
    expect(turns[0]).toMatchObject({ outcome: "success", attempts: 2 });
  });

  it("ends as the same turn for any arrival order (an early export is amended under the same id)", () => {
    const built = twiceRateLimited();
    const reference = harness();
    reference.feed(built.inputs);
    const expected = reference.turns[0];
    for (let seed = 1; seed <= 40; seed += 1) {
      const { turns, assembler, clock } = harness();
      replayInputs(assembler, shuffleInputs(built.inputs, seed));
      clock.now += 10_000;
      assembler.tick();
      const last = turns.at(-1);
      expect(new Set(turns.map((turn) => turn.id)), `seed ${seed}`).toEqual(new Set(["run-429"]));
      expect(
        turns.map((turn) => turn.revision),
        `seed ${seed}`,
      ).toEqual(turns.map((_, index) => index + 1));
      expect(
        last?.modelCalls.map((call) => [call.attempt, call.outcome]),
        `seed ${seed}`,
      ).toEqual(expected?.modelCalls.map((call) => [call.attempt, call.outcome]));
      expect(last?.usage, `seed ${seed}`).toEqual(expected?.usage);
      expect(last?.outcome, `seed ${seed}`).toBe("success");
      expect(last?.attempts, `seed ${seed}`).toBe(3);
    }
  });

  it("sums the attempts' usage when a tool call succeeded before the retried call", () => {
    const built = buildTurnEvents({
      runId: "run-tool-429",
      attempts: [
        { modelCalls: [{}, RATE_LIMITED], tools: [{ toolName: "echo_tool" }] },
        { modelCalls: [{}] },
      ],
    });
    const { turns, feed } = harness();
    feed(built.inputs);
    expect(turns[0]).toMatchObject({
      outcome: "success",
      usage: { input: 222, output: 44 },
      cost: { usd: built.totals.costUsd },
    });
    expect(turns[0]?.toolCalls).toHaveLength(1);
    expect(turns[0]?.modelCalls.map((call) => [call.attempt, call.outcome])).toEqual([
      [1, "success"],
      [1, "error"],
      [2, "success"],
    ]);
  });

  it("with hooks alone, sums llm_output over the attempts (each reports its own calls)", () => {
    const built = buildTurnEvents({
      runId: "run-hooks-retry",
      withBus: false,
      attempts: [
        { modelCalls: [{}, RATE_LIMITED], tools: [{ toolName: "echo_tool" }] },
        { modelCalls: [{}] },
      ],
    });
    const { turns, feed, assembler, clock } = harness();
    feed(built.inputs);
    clock.now += 130_000;
    assembler.tick();
    expect(turns).toHaveLength(1);
    expect(turns[0]).toMatchObject({
      outcome: "success",
      attempts: 2,
      usage: { input: 222, output: 44 },
      cost: { usd: built.totals.costUsd, source: "provider" },
      usageSource: "llm_output",
    });
  });
});

describe("a turn whose every attempt failed", () => {
  const exhausted = () =>
    buildTurnEvents({
      runId: "run-5xx",
      attempts: Array.from({ length: 7 }, (_, index) => ({
        modelCalls: [UNAVAILABLE],
        delayMs: 1_000 * 2 ** index,
      })),
    });

  it("is exported once, when the host says the run is over, as an error with no tokens and an unknown cost", () => {
    const { turns, feed } = harness();
    feed(exhausted().inputs);
    expect(turns).toHaveLength(1);
    expect(turns[0]).toMatchObject({
      outcome: "error",
      attempts: 7,
      error: { status: 503, reason: "the provider was unavailable (HTTP 503)" },
      usage: { input: 0, output: 0, total: 0 },
    });
    expect(turns[0]?.modelCalls).toHaveLength(7);
    expect(turns[0]?.durationMs).toBeGreaterThan(100_000);
  });

  it("without the host's word, waits retryWaitMs after a retryable failure, then exports it", () => {
    const built = buildTurnEvents({ runId: "run-quiet", withEndMarker: false, modelCalls: [RATE_LIMITED] });
    const { turns, feed, assembler, clock } = harness({ retryWaitMs: 90_000 });
    feed(built.inputs);
    clock.now += 89_000;
    assembler.tick();
    expect(turns).toHaveLength(0);
    clock.now += 2_000;
    assembler.tick();
    expect(turns).toHaveLength(1);
    expect(turns[0]).toMatchObject({ outcome: "error", error: { status: 429 } });
    expect(turns[0]?.incomplete).toBeUndefined();
  });

  it("with the bus, a failure the host does not retry (400) still waits for the host's word (a fallback may follow)", () => {
    const built = buildTurnEvents({
      runId: "run-400-bus",
      withEndMarker: false,
      modelCalls: [{ error: {} }],
    });
    const { turns, feed, assembler, clock } = harness({ settleMs: 300, retryWaitMs: 60_000 });
    feed(built.inputs);
    clock.now += 59_000;
    assembler.tick();
    expect(turns).toHaveLength(0);
    clock.now += 2_000;
    assembler.tick();
    expect(turns[0]).toMatchObject({ outcome: "error", error: { status: 400 } });
  });

  it("from hooks alone, a failure the host does not retry (400) waits only a fallback's grace", () => {
    const built = buildTurnEvents({ runId: "run-400", withBus: false, modelCalls: [{ error: {} }] });
    const { turns, feed, assembler, clock } = harness({ settleMs: 300 });
    feed(built.inputs);
    clock.now += 4_000;
    assembler.tick();
    expect(turns).toHaveLength(0);
    clock.now += 1_500;
    assembler.tick();
    expect(turns[0]).toMatchObject({ outcome: "error", error: { status: 400 } });
  });

  it("keeps the host's text, redacted, only when asked to (content capture on)", () => {
    const secret = "sk-proj-abcdefghijklmnopqrstuvwxyz012345";
    const built = buildTurnEvents({
      runId: "run-text",
      modelCalls: [{ error: { message: `400 your prompt "call me at +1 415 555 0100" key ${secret}` } }],
    });
    const off = harness();
    off.feed(built.inputs);
    expect(JSON.stringify(off.turns)).not.toContain("415");
    expect(JSON.stringify(off.turns)).not.toContain(secret);
    expect(off.turns[0]?.error).toEqual({
      category: "Error",
      status: 400,
      reason: "the provider rejected the request (HTTP 400)",
      source: "model.call.error",
    });
    const on = harness({ keepErrorText: true });
    on.feed(built.inputs);
    expect(on.turns[0]?.error?.message).toMatch(/^400 your prompt/);
    expect(on.turns[0]?.error?.message).not.toContain(secret);
  });
});

describe("a fallback to another model", () => {
  it("is one turn whose calls name their own providers, and whose model is the one that answered", () => {
    const built = buildTurnEvents({
      runId: "run-fallback",
      attempts: [
        { modelCalls: [{ error: { message: "401 mock provider: scripted HTTP 401" } }] },
        { provider: "mock2", model: "mock-model-b", modelCalls: [{ costUsd: 0.000199 }], delayMs: 200 },
      ],
    });
    const failover = {
      kind: "event" as const,
      at: (built.inputs.at(-1)?.at ?? 0) - 1,
      metadata: { trusted: true },
      event: {
        type: "model.failover",
        fromProvider: "mock",
        fromModel: "mock-model",
        toProvider: "mock2",
        toModel: "mock-model-b",
        reason: "auth",
        trace: { traceId: built.traceId, spanId: "0000000000000009" },
        ts: 1_795_000_000_100,
      },
    };
    const { turns, feed } = harness({ settleMs: 300 });
    feed([...built.inputs.slice(0, 20), failover, ...built.inputs.slice(20)]);
    expect(turns).toHaveLength(1);
    expect(turns[0]).toMatchObject({
      outcome: "success",
      provider: "mock2",
      model: "mock-model-b",
      attempts: 2,
      fallbacks: [
        {
          fromProvider: "mock",
          fromModel: "mock-model",
          toProvider: "mock2",
          toModel: "mock-model-b",
          reason: "auth",
        },
      ],
    });
    expect(turns[0]?.modelCalls.map((call) => [call.provider, call.model, call.outcome])).toEqual([
      ["mock", "mock-model", "error"],
      ["mock2", "mock-model-b", "success"],
    ]);
  });
});

describe("input after a turn was exported", () => {
  it("amends the turn under the same id, with the figures it replaces", () => {
    const built = buildTurnEvents({
      runId: "run-late",
      withModelUsage: false,
      withConversationHooks: false,
      modelCalls: [{}, {}],
      tools: [{ toolName: "echo_tool" }],
    });
    const lastCall = (input: CapturedInput) => isBusEvent(input, "model.call.completed", "run-late:model:2");
    const { turns, feed, assembler, clock } = harness();
    feed(dropInputs(built.inputs, lastCall));
    clock.now += 2_000;
    assembler.tick();
    expect(turns).toHaveLength(1);
    expect(turns[0]?.incomplete?.missing).toEqual(["model.call.completed run-late:model:2"]);
    expect(turns[0]?.usage.input).toBe(111);
    feed(built.inputs.filter(lastCall));
    clock.now += 2_000;
    assembler.tick();
    expect(turns).toHaveLength(2);
    expect(turns[1]).toMatchObject({
      id: "run-late",
      revision: 2,
      usage: { input: 222 },
      previous: { usage: { input: 111 }, modelCalls: 2, incomplete: true },
    });
    expect(turns[1]?.incomplete).toBeUndefined();
    expect(assembler.stats()).toMatchObject({ assembled: 1, amended: 1, late: 0 });
  });

  it("counts and warns once about input too late to amend", () => {
    const built = twiceRateLimited();
    const { turns, feed, assembler, clock, warnings } = harness({ turnTimeoutMs: 60_000 });
    feed(built.inputs);
    clock.now += 61_000;
    assembler.tick();
    feed(built.inputs.slice(0, 8));
    expect(turns).toHaveLength(1);
    expect(assembler.stats().late).toBeGreaterThanOrEqual(6);
    expect(warnings.filter((line) => line.includes("can no longer be amended"))).toHaveLength(1);
  });
});

describe("model.usage without a provider (openclaw#153244)", () => {
  it("takes the provider and model from the run's own events", () => {
    const built = buildTurnEvents({ runId: "run-no-provider", provider: "acme", model: "acme-large" });
    const inputs = built.inputs.map((input) => {
      if (input.kind !== "event" || input.event.type !== "model.usage") return input;
      const { provider: _provider, ...event } = input.event;
      return { ...input, event: event as typeof input.event };
    });
    const { turns, feed } = harness();
    feed(inputs);
    expect(turns[0]).toMatchObject({ provider: "acme", model: "acme-large", usageSource: "model.usage" });
    expect(turns[0]?.cost.usd).toBe(built.totals.costUsd);
  });
});

describe("a run that ended well", () => {
  it("closes at once when model.usage follows the host's word, however slow the bus, and waits for that word", () => {
    const built = buildTurnEvents({ runId: "run-slow-bus", withModelUsage: false });
    const usage = buildTurnEvents({ runId: "run-slow-bus" }).inputs.filter((input) =>
      isBusEvent(input, "model.usage"),
    );
    const { turns, feed, assembler, clock } = harness({ settleMs: 300 });
    feed(built.inputs.filter((input) => !isBusEvent(input, "session.state")));
    // run.completed came, the host's idle did not yet: a busy gateway, not the end of the turn
    clock.now += 5_000;
    assembler.tick();
    expect(turns).toHaveLength(0);
    feed(built.inputs.filter((input) => isBusEvent(input, "session.state")));
    clock.now += 1_500;
    assembler.tick();
    expect(turns).toHaveLength(0);
    feed(usage);
    expect(turns).toHaveLength(1);
    expect(turns[0]).toMatchObject({ usageSource: "model.usage", revision: 1 });
  });

  it("without the host's word it is exported after a while all the same", () => {
    const built = buildTurnEvents({ runId: "run-no-word", withEndMarker: false, withModelUsage: false });
    const { turns, feed, assembler, clock } = harness({ settleMs: 300 });
    feed(built.inputs);
    clock.now += 9_000;
    assembler.tick();
    expect(turns).toHaveLength(0);
    clock.now += 1_500;
    assembler.tick();
    expect(turns[0]).toMatchObject({ outcome: "success", usageSource: "llm_output" });
  });
});
