import { describe, expect, it } from "vitest";
import { toLangfuseObservations } from "./langfuse-observations.js";
import { loadLangfuseSdkExport } from "./langfuse-reference.js";
import { decodeOtlpRequest, type OtlpSpan } from "./otlp-decoder.js";

const sdkSpans = loadLangfuseSdkExport().flatMap(
  (request) => decodeOtlpRequest("traces", request.body).spans,
);

const TRACE_ID = "0123456789abcdef0123456789abcdef";

function span(overrides: Partial<OtlpSpan> & { attributes?: OtlpSpan["attributes"] }): OtlpSpan {
  return {
    resource: {},
    scope: { name: "clawscope-langfuse", attributes: {} },
    traceId: TRACE_ID,
    spanId: "00000000000000a1",
    name: "span",
    kind: 1,
    startTimeUnixNano: 1_700_000_000_000_000_000,
    endTimeUnixNano: 1_700_000_001_000_000_000,
    events: [],
    links: [],
    status: { code: 0 },
    ...overrides,
    attributes: overrides.attributes ?? {},
  };
}

describe("toLangfuseObservations on the official SDK's export", () => {
  const [view, ...others] = toLangfuseObservations(sdkSpans);
  const byName = (name: string) => view?.observations.find((observation) => observation.name === name);

  it("makes one trace with the user, session, tags, environment and metadata the SDK set", () => {
    expect(others).toEqual([]);
    expect(view?.trace).toEqual({
      id: "646360e5fede17da60141df5a4965a74",
      name: "openclaw-session",
      userId: "u1",
      sessionId: "s1",
      tags: ["gw-a"],
      environment: "test",
      release: null,
      version: null,
      public: null,
      metadata: { gateway: "a" },
      input: { msg: "hi" },
      output: { done: true },
    });
  });

  it("makes the agent root, with the generation and the tool beneath it", () => {
    const root = byName("openclaw-session");
    expect(root).toMatchObject({ type: "agent", parentObservationId: null, id: "6172a79a77e41167" });
    expect(byName("llm-call")).toMatchObject({ type: "generation", parentObservationId: "6172a79a77e41167" });
    expect(byName("tool:web_search")).toMatchObject({
      type: "tool",
      parentObservationId: "6172a79a77e41167",
      input: { q: "x" },
      output: { ok: true },
    });
    expect(view?.observations.map((observation) => observation.problems)).toEqual([[], [], []]);
  });

  it("reads the generation's model, usage, cost, model parameters and payloads", () => {
    expect(byName("llm-call")).toMatchObject({
      model: "gpt-4o",
      usageDetails: { input: 12, output: 34 },
      costDetails: { total: 0.0012 },
      modelParameters: { temperature: 0.2 },
      input: [{ role: "user", content: "hi" }],
      output: { role: "assistant", content: "hello" },
      level: "DEFAULT",
      statusMessage: null,
      environment: "test",
      startTime: new Date(1_795_329_127_163).toISOString(),
    });
  });
});

describe("toLangfuseObservations on gen_ai attributes (no langfuse.* ones)", () => {
  it("types observations from gen_ai.operation.name and reads gen_ai usage with cache tokens out of input", () => {
    const [view] = toLangfuseObservations([
      span({
        spanId: "00000000000000b1",
        parentSpanId: "00000000000000a1",
        name: "chat gpt-4o",
        attributes: {
          "gen_ai.operation.name": "chat",
          "gen_ai.request.model": "gpt-4o",
          "gen_ai.response.model": "gpt-4o-2024-08-06",
          "gen_ai.request.temperature": 0.5,
          "gen_ai.request.max_tokens": 256,
          "gen_ai.usage.input_tokens": 1000,
          "gen_ai.usage.output_tokens": 50,
          "gen_ai.usage.cache_read.input_tokens": 600,
          "gen_ai.usage.cache_creation.input_tokens": 100,
          "gen_ai.usage.cost": 0.25,
        },
      }),
      span({
        spanId: "00000000000000c1",
        parentSpanId: "00000000000000a1",
        attributes: { "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "web_search" },
      }),
      span({ attributes: { "gen_ai.operation.name": "invoke_agent", "gen_ai.conversation.id": "conv-1" } }),
    ]);
    const [generation, tool, agent] = view?.observations ?? [];
    expect(generation).toMatchObject({
      type: "generation",
      model: "gpt-4o-2024-08-06",
      usageDetails: { input: 300, output: 50, input_cached_tokens: 600, input_cache_creation: 100 },
      costDetails: { total: 0.25 },
      modelParameters: { temperature: 0.5, max_tokens: 256 },
    });
    expect(tool).toMatchObject({ type: "tool", name: "web_search" });
    expect(agent).toMatchObject({ type: "agent", parentObservationId: null });
    expect(view?.trace.sessionId).toBe("conv-1");
  });

  it("falls back to the model, then to span", () => {
    const [view] = toLangfuseObservations([
      span({ spanId: "00000000000000b2", attributes: { "gen_ai.request.model": "m" } }),
      span({ spanId: "00000000000000b3", attributes: { other: 1 } }),
    ]);
    expect(view?.observations.map((observation) => observation.type)).toEqual(["generation", "span"]);
  });
});

describe("toLangfuseObservations levels, times and problems", () => {
  it("marks an error status ERROR with its message unless the level attribute says otherwise", () => {
    const [view] = toLangfuseObservations([
      span({ spanId: "00000000000000d1", status: { code: 2, message: "provider 500" } }),
      span({
        spanId: "00000000000000d2",
        status: { code: 2, message: "ignored" },
        attributes: {
          "langfuse.observation.level": "WARNING",
          "langfuse.observation.status_message": "retrying",
          "langfuse.observation.completion_start_time": '"2026-01-02T03:04:05.678Z"',
        },
      }),
    ]);
    expect(view?.observations[0]).toMatchObject({ level: "ERROR", statusMessage: "provider 500" });
    expect(view?.observations[1]).toMatchObject({
      level: "WARNING",
      statusMessage: "retrying",
      completionStartTime: "2026-01-02T03:04:05.678Z",
    });
  });

  it("reports what Langfuse would drop: a usage record with a non-number, an unknown type or level", () => {
    const [view] = toLangfuseObservations([
      span({
        attributes: {
          "langfuse.observation.type": "llm",
          "langfuse.observation.level": "FATAL",
          "langfuse.observation.usage_details": '{"input":"12"}',
          "langfuse.observation.cost_details": '{"total":-1}',
        },
      }),
    ]);
    const observation = view?.observations[0];
    expect(observation).toMatchObject({ type: "span", level: "DEFAULT", usageDetails: {}, costDetails: {} });
    expect(observation?.problems).toHaveLength(4);
    expect(observation?.problems.join("\n")).toMatch(/usage_details\.input/);
  });

  it("merges trace fields across spans: later values win, tags are united, metadata merged", () => {
    const [view] = toLangfuseObservations([
      span({
        spanId: "00000000000000e1",
        parentSpanId: "00000000000000e0",
        attributes: { "langfuse.trace.tags": ["a"], "langfuse.trace.metadata.first": "1", "user.id": "u-1" },
      }),
      span({
        spanId: "00000000000000e0",
        name: "turn",
        attributes: {
          "langfuse.trace.name": "agent main · telegram",
          "langfuse.trace.tags": ["a", "b"],
          "langfuse.trace.metadata": '{"second":2}',
          "langfuse.release": "1.2.3",
        },
      }),
    ]);
    expect(view?.trace).toMatchObject({
      name: "agent main · telegram",
      userId: "u-1",
      tags: ["a", "b"],
      metadata: { first: "1", second: 2 },
      release: "1.2.3",
    });
  });

  it("tolerates garbage spans without throwing", () => {
    const garbage = [
      null,
      {},
      { traceId: 5, attributes: { constructor: "x", "gen_ai.operation.name": "constructor" } },
    ] as unknown as OtlpSpan[];
    const views = toLangfuseObservations(garbage);
    expect(views.flatMap((view) => view.observations.map((observation) => observation.type))).toEqual([
      "span",
      "span",
    ]);
  });
});
