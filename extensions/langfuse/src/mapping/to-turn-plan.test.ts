import { describe, expect, it } from "vitest";
import { toLangfuseTraceId } from "./ids.js";
import { createModelParameterLookup } from "./model-parameters.js";
import { makeModelCall, makeOptions, makeToolCall, makeTurn } from "./test-fixtures.js";
import { toTraceName, toTurnPlan } from "./to-turn-plan.js";

describe("toTurnPlan", () => {
  it("maps a plain turn to an agent root and one generation, with trace fields hashed", () => {
    const plan = toTurnPlan(makeTurn(), makeOptions({ environment: "production", release: "1.4.0" }));
    expect(plan.traceId).toBe(toLangfuseTraceId("run-1"));
    expect(plan.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(plan.traceName).toBe("main · webchat");
    expect(plan.sessionId).toBe("h(agent:main:s1)");
    expect(plan.userId).toBe("h(user-42)");
    expect(plan.tags).toEqual(["agent:main", "channel:webchat", "environment:production", "release:1.4.0"]);
    expect(plan.metadata).toEqual({
      outcome: "success",
      host_outcome: "completed",
      usage_source: "model.usage",
      cost_source: "provider",
      provider: "openai",
      model: "gpt-4o",
      trigger: "user",
      openclaw_trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
    });

    const [root, generation, ...rest] = plan.observations;
    expect(rest).toEqual([]);
    expect(root).toMatchObject({
      type: "agent",
      name: "main · webchat",
      startTimeMs: 1_000,
      endTimeMs: 3_000,
    });
    expect(root?.parentSpanId).toBeUndefined();
    expect(root?.attributes.level).toBeUndefined();
    expect(generation).toMatchObject({
      type: "generation",
      name: "chat gpt-4o",
      parentSpanId: root?.spanId,
      startTimeMs: 1_100,
      endTimeMs: 1_900,
    });
    expect(generation?.attributes).toEqual({
      model: "gpt-4o",
      usageDetails: { input: 100, output: 20, total: 120 },
      costDetails: { total: 0.0012 },
      completionStartTime: new Date(1_350),
      metadata: {
        provider: "openai",
        api: "openai-completions",
        cost_source: "provider",
        time_to_first_byte_ms: 250,
      },
    });
    for (const observation of plan.observations) expect(observation.spanId).toMatch(/^[0-9a-f]{16}$/);
  });

  it("is deterministic per turn and distinct across turns", () => {
    const first = toTurnPlan(makeTurn(), makeOptions());
    expect(toTurnPlan(makeTurn(), makeOptions())).toEqual(first);
    const other = toTurnPlan(makeTurn({ id: "run-2", runId: "run-2" }), makeOptions());
    expect(other.traceId).not.toBe(first.traceId);
    expect(other.observations[0]?.spanId).not.toBe(first.observations[0]?.spanId);
  });

  it("types search tools as retrievers, other tools as tools, and marks a failed tool ERROR", () => {
    const turn = makeTurn({
      toolCalls: [
        makeToolCall({ toolCallId: "call_1", toolName: "web_search" }),
        makeToolCall({ toolCallId: "call_2", toolName: "exec", outcome: "error", errorCategory: "ENOENT" }),
        makeToolCall({ toolCallId: "call_3", toolName: "memory_search", outcome: "blocked" }),
      ],
    });
    const tools = toTurnPlan(turn, makeOptions()).observations.slice(2);
    expect(tools.map((tool) => [tool.name, tool.type])).toEqual([
      ["web_search", "retriever"],
      ["exec", "tool"],
      ["memory_search", "retriever"],
    ]);
    expect(tools[0]?.attributes.level).toBeUndefined();
    expect(tools[1]?.attributes).toMatchObject({ level: "ERROR", statusMessage: "ENOENT" });
    expect(tools[1]?.errorMessage).toBe("ENOENT");
    expect(tools[2]?.attributes).toMatchObject({ level: "WARNING", statusMessage: "blocked" });
    expect(tools[0]?.attributes.metadata).toEqual({ tool_call_id: "call_1" });
    // two calls with one id still get two observation ids
    const twice = toTurnPlan(
      makeTurn({ toolCalls: [makeToolCall(), makeToolCall()] }),
      makeOptions(),
    ).observations.slice(2);
    expect(twice[0]?.spanId).not.toBe(twice[1]?.spanId);
  });

  it("marks a provider error on the generation and on the root", () => {
    const turn = makeTurn({
      outcome: "error",
      hostOutcome: "completed",
      error: {
        category: "provider",
        status: 400,
        reason: "the provider rejected the request (HTTP 400)",
        // the kit keeps the host's text only with content capture on
        message: "400 bad request:\n key sk-proj-abcdefghijklmnopqrstuvwx rejected",
        source: "llm_output",
      },
      modelCalls: [
        makeModelCall({
          outcome: "error",
          errorCategory: "invalid_request",
          failureKind: "http_400",
          errorStatus: 400,
          errorReason: "the provider rejected the request (HTTP 400)",
          usage: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 },
          cost: { usd: null, source: "unknown" },
        }),
      ],
    });
    const [root, generation] = toTurnPlan(turn, makeOptions()).observations;
    // the provider's reason, as one line with secrets redacted, says why
    const reason = "400 bad request: key [REDACTED:openai_key] rejected";
    expect(root?.attributes).toMatchObject({ level: "ERROR", statusMessage: `error: provider: ${reason}` });
    expect(root?.errorMessage).toBe(`error: provider: ${reason}`);
    expect(generation?.attributes).toMatchObject({
      level: "ERROR",
      statusMessage: `invalid_request: the provider rejected the request (HTTP 400): ${reason}`,
    });
    expect(generation?.attributes.metadata).toMatchObject({ http_status: 400 });
    expect(generation?.attributes.usageDetails).toBeUndefined();
    expect(generation?.attributes.costDetails).toBeUndefined();
    expect(JSON.stringify(toTurnPlan(turn, makeOptions()))).not.toContain("sk-proj-abc");
    // with content capture off the host's text never comes: the fixed, content-free reason stands in
    const [bare, bareGeneration] = toTurnPlan(
      {
        ...turn,
        error: {
          category: "provider",
          status: 400,
          reason: "the provider rejected the request (HTTP 400)",
          source: "model.call.error",
        },
      },
      makeOptions(),
    ).observations;
    expect(bare?.attributes.statusMessage).toBe(
      "error: provider: the provider rejected the request (HTTP 400)",
    );
    expect(bareGeneration?.attributes.statusMessage).toBe(
      "invalid_request: the provider rejected the request (HTTP 400)",
    );
  });

  it("sends cache and reasoning tokens under Langfuse's keys without counting them twice", () => {
    const call = makeModelCall({
      usage: { input: 100, output: 50, reasoning: 30, cacheRead: 400, cacheWrite: 60, total: 610 },
    });
    const generation = toTurnPlan(makeTurn({ modelCalls: [call] }), makeOptions()).observations[1];
    const usage = generation?.attributes.usageDetails as Record<string, number>;
    expect(usage).toEqual({
      input: 100,
      output: 20,
      output_reasoning_tokens: 30,
      input_cache_read: 400,
      input_cache_creation: 60,
      total: 610,
    });
    const { total, ...parts } = usage;
    expect(Object.values(parts).reduce((sum, value) => sum + value, 0)).toBe(total);
  });

  it("leaves an unknown cost to Langfuse and says where each cost came from", () => {
    const unknown = makeModelCall({ cost: { usd: null, source: "unknown" } });
    const estimated = makeModelCall({ callId: "run-1:model:2", cost: { usd: 0.5, source: "estimated" } });
    const plan = toTurnPlan(
      makeTurn({ modelCalls: [unknown, estimated], cost: { usd: null, source: "unknown" } }),
      makeOptions(),
    );
    const [first, second] = plan.observations.slice(1);
    expect(first?.attributes.costDetails).toBeUndefined();
    expect(first?.attributes.metadata).toMatchObject({ cost_source: "unknown" });
    expect(second?.attributes.costDetails).toEqual({ total: 0.5 });
    expect(second?.attributes.metadata).toMatchObject({ cost_source: "estimated" });
    expect(plan.metadata.cost_source).toBe("unknown");
  });

  it("puts captured content on observations only when capture is on", () => {
    const turn = makeTurn({
      modelCalls: [makeModelCall({ content: { input: "what is 2+2?", output: "4" } })],
      toolCalls: [makeToolCall({ content: { input: '{"cmd":"ls"}', output: "a.txt" } })],
    });
    const off = toTurnPlan(turn, makeOptions({ captureContent: false }));
    for (const observation of off.observations) {
      expect(observation.attributes.input).toBeUndefined();
      expect(observation.attributes.output).toBeUndefined();
    }
    const [root, generation, tool] = toTurnPlan(turn, makeOptions({ captureContent: true })).observations;
    expect(root?.attributes).toMatchObject({ input: "what is 2+2?", output: "4" });
    expect(generation?.attributes).toMatchObject({ input: "what is 2+2?", output: "4" });
    expect(tool?.attributes).toMatchObject({ input: '{"cmd":"ls"}', output: "a.txt" });
  });

  it("keeps children inside the root and derives missing times", () => {
    const turn = makeTurn({
      modelCalls: [makeModelCall({ startedAt: 500, endedAt: 9_000 })],
      toolCalls: [makeToolCall({ startedAt: undefined, endedAt: 2_500, durationMs: 300 })],
    });
    const [, generation, tool] = toTurnPlan(turn, makeOptions()).observations;
    expect(generation).toMatchObject({ startTimeMs: 1_000, endTimeMs: 3_000 });
    expect(tool).toMatchObject({ startTimeMs: 2_200, endTimeMs: 2_500 });
  });

  it("marks incomplete and aborted turns as warnings and drops ids too long to propagate", () => {
    const incomplete = toTurnPlan(
      makeTurn({ incomplete: { reason: "timeout", missing: ["run.completed"] } }),
      makeOptions(),
    );
    expect(incomplete.observations[0]?.attributes).toMatchObject({
      level: "WARNING",
      statusMessage: "incomplete: timeout",
    });
    expect(incomplete.metadata).toMatchObject({
      incomplete_reason: "timeout",
      incomplete_missing: "run.completed",
    });
    const aborted = toTurnPlan(makeTurn({ outcome: "aborted" }), makeOptions());
    expect(aborted.observations[0]?.attributes).toMatchObject({ level: "WARNING", statusMessage: "aborted" });
    const long = toTurnPlan(makeTurn({ senderId: "x".repeat(300) }), makeOptions({ hashId: (id) => id }));
    expect(long.userId).toBeUndefined();
    const many = toTurnPlan(
      makeTurn({
        incomplete: { reason: "timeout", missing: Array.from({ length: 50 }, (_, i) => `event ${i}`) },
      }),
      makeOptions(),
    );
    expect(many.metadata.incomplete_missing?.length).toBe(200);
  });

  it("names traces without a channel after the agent alone, and adds configured model parameters", () => {
    expect(toTraceName({ agentId: "ops", channel: undefined })).toBe("ops");
    expect(toTraceName({ agentId: undefined, channel: "telegram" })).toBe("agent · telegram");
    const lookup = createModelParameterLookup({
      models: { providers: { openai: { models: [{ id: "gpt-4o", maxTokens: 4096 }, { id: "bad" }] } } },
    });
    const generation = toTurnPlan(makeTurn(), makeOptions({ modelParameters: lookup })).observations[1];
    expect(generation?.attributes.modelParameters).toEqual({ max_tokens: 4096 });
    expect(lookup("openai", "bad")).toBeUndefined();
    expect(createModelParameterLookup(null)("openai", "gpt-4o")).toBeUndefined();
    expect(createModelParameterLookup({ models: { providers: [1, 2] } })("0", "x")).toBeUndefined();
  });
});
