import type { SpanRecord, TurnExport } from "@clawscope/kit/otlp";
import { assembleCapturedTurns } from "@clawscope/testing";
import { configureGlobalLogger, getGlobalLogger, LogLevel } from "@langfuse/core";
import { afterEach, describe, expect, it } from "vitest";
import { makeModelCall, makeOptions, makeToolCall, makeTurn } from "../mapping/test-fixtures.js";
import { toTurnPlan } from "../mapping/to-turn-plan.js";
import { createLangfuseTracing, type LangfuseTracing, toMaskedContent } from "./langfuse-tracing.js";
import { createSdkTracing } from "./sdk-tracing-fixtures.js";
import { createPipelineSpanExporter } from "./span-exporter.js";

/**
 * The attribute keys the official SDK (5.11.1) put on each span of its recorded export
 * (`langfuse-js-sdk-5.11.1-otlp-export.json`), content and model parameters aside: ours must carry
 * the same keys, set by the same processor.
 */
const SDK_TRACE_KEYS = ["langfuse.environment", "user.id", "session.id", "langfuse.trace.tags"];
const SDK_ROOT_KEYS = [...SDK_TRACE_KEYS, "langfuse.internal.is_app_root", "langfuse.observation.type"];
const SDK_GENERATION_KEYS = [
  ...SDK_TRACE_KEYS,
  "langfuse.observation.type",
  "langfuse.observation.model.name",
  "langfuse.observation.usage_details",
  "langfuse.observation.cost_details",
];

let tracing: LangfuseTracing | undefined;
afterEach(async () => {
  tracing?.shutdown();
  tracing = undefined;
});

function startTracing(options: { maxContentChars?: number } = {}) {
  const queued: Array<{ id: string; payload: TurnExport }> = [];
  tracing = createLangfuseTracing({
    environment: "production",
    release: "1.4.0",
    maxContentChars: options.maxContentChars ?? 8000,
    enqueue: (id, payload) => queued.push({ id, payload }),
  });
  const spans = () => queued.flatMap((item) => item.payload.spans);
  return { tracing, queued, spans };
}

const byName = (spans: SpanRecord[], name: string) => {
  const span = spans.find((candidate) => candidate.name === name);
  if (!span) throw new Error(`no span ${name} in ${spans.map((candidate) => candidate.name).join(", ")}`);
  return span;
};

describe("createLangfuseTracing", () => {
  it("keeps the SDK's logger from printing content even when LANGFUSE_DEBUG asked it to", () => {
    configureGlobalLogger({ level: LogLevel.DEBUG });
    startTracing();
    expect(getGlobalLogger().isLevelEnabled(LogLevel.DEBUG)).toBe(false);
    expect(getGlobalLogger().isLevelEnabled(LogLevel.WARN)).toBe(true);
  });

  it("creates the plan's spans with the SDK's attributes, the plan's ids and times", async () => {
    const { tracing, queued, spans } = startTracing();
    const turn = makeTurn({
      toolCalls: [makeToolCall({ toolName: "web_search" })],
      modelCalls: [
        makeModelCall({ usage: { input: 10, output: 5, cacheRead: 7, cacheWrite: 0, total: 22 } }),
      ],
    });
    const plan = toTurnPlan(turn, makeOptions({ environment: "production", release: "1.4.0" }));
    tracing.emit(plan);

    expect(
      spans()
        .map((span) => span.spanId)
        .sort(),
    ).toEqual(plan.observations.map((observation) => observation.spanId).sort());
    // one pipeline item per turn, under its trace id
    expect(queued.map((item) => item.id)).toEqual([plan.traceId]);
    for (const span of spans()) expect(span.traceId).toBe(plan.traceId);

    const root = byName(spans(), "main · webchat");
    const generation = byName(spans(), "chat gpt-4o");
    const tool = byName(spans(), "web_search");
    expect(root.parentSpanId).toBeUndefined();
    expect(generation.parentSpanId).toBe(root.spanId);
    expect(tool.parentSpanId).toBe(root.spanId);
    expect([root.startTimeMs, root.endTimeMs]).toEqual([1_000, 3_000]);
    expect([generation.startTimeMs, generation.endTimeMs]).toEqual([1_100, 1_900]);

    for (const key of SDK_ROOT_KEYS) expect(root.attributes).toHaveProperty([key]);
    for (const key of SDK_GENERATION_KEYS) expect(generation.attributes).toHaveProperty([key]);
    expect(generation.attributes).not.toHaveProperty(["langfuse.internal.is_app_root"]);
    expect(root.attributes).toMatchObject({
      "langfuse.observation.type": "agent",
      "langfuse.internal.is_app_root": true,
      "langfuse.environment": "production",
      "langfuse.release": "1.4.0",
      "langfuse.trace.name": "main · webchat",
      "user.id": "h(user-42)",
      "session.id": "h(agent:main:s1)",
      "langfuse.trace.tags": ["agent:main", "channel:webchat", "environment:production", "release:1.4.0"],
      "langfuse.trace.metadata.outcome": "success",
      "langfuse.observation.metadata.model_calls": "1",
    });
    expect(generation.attributes).toMatchObject({
      "langfuse.observation.type": "generation",
      "langfuse.observation.model.name": "gpt-4o",
      "langfuse.observation.usage_details": JSON.stringify({
        input: 10,
        output: 5,
        input_cache_read: 7,
        total: 22,
      }),
      "langfuse.observation.cost_details": JSON.stringify({ total: 0.0012 }),
      "langfuse.observation.completion_start_time": JSON.stringify(new Date(1_350)),
      // trace fields reach every span, as the SDK's propagation does
      "session.id": "h(agent:main:s1)",
      "langfuse.trace.name": "main · webchat",
    });
    expect(tool.attributes).toMatchObject({
      "langfuse.observation.type": "retriever",
      "user.id": "h(user-42)",
    });
  });

  it("gives a re-emitted turn the same trace and span ids", async () => {
    const { tracing, queued, spans } = startTracing();
    const plan = toTurnPlan(makeTurn(), makeOptions());
    tracing.emit(plan);
    tracing.emit(plan);
    const ids = spans().map((span) => `${span.traceId}:${span.spanId}`);
    expect(ids).toHaveLength(4);
    expect(new Set(ids).size).toBe(2);
    expect(new Set(queued.map((item) => item.id)).size).toBe(1);
  });

  it("sets ERROR level and span status on failures", async () => {
    const { tracing, spans } = startTracing();
    const turn = makeTurn({
      outcome: "error",
      error: {
        category: "provider",
        source: "model.call.error",
        reason: "the provider rate-limited the request (HTTP 429)",
      },
      modelCalls: [
        makeModelCall({
          outcome: "error",
          errorCategory: "rate_limit",
          errorReason: "the provider rate-limited the request (HTTP 429)",
        }),
      ],
    });
    tracing.emit(toTurnPlan(turn, makeOptions()));
    const generation = byName(spans(), "chat gpt-4o");
    expect(generation.attributes).toMatchObject({
      "langfuse.observation.level": "ERROR",
      "langfuse.observation.status_message": "rate_limit: the provider rate-limited the request (HTTP 429)",
    });
    expect(generation.status).toEqual({
      code: "error",
      message: "rate_limit: the provider rate-limited the request (HTTP 429)",
    });
    expect(byName(spans(), "main · webchat").attributes["langfuse.observation.level"]).toBe("ERROR");
  });

  it("masks content through the kit's redaction and size bound, capture on or off", async () => {
    const { tracing, spans } = startTracing({ maxContentChars: 120 });
    const secret = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";
    const turn = makeTurn({
      modelCalls: [
        makeModelCall({
          content: { input: `my key is ${secret}, mail me at jane.doe@example.com`, output: "x".repeat(500) },
        }),
      ],
      toolCalls: [makeToolCall({ content: { input: `{"password":"hunter22"}`, output: "ok" } })],
    });
    tracing.emit(toTurnPlan(turn, makeOptions({ captureContent: true })));
    const text = JSON.stringify(spans());
    expect(text).not.toContain(secret);
    expect(text).not.toContain("jane.doe@example.com");
    expect(text).not.toContain("hunter22");
    const generation = byName(spans(), "chat gpt-4o");
    expect(generation.attributes["langfuse.observation.input"]).toContain("[REDACTED:openai_key]");
    const output = String(generation.attributes["langfuse.observation.output"]);
    expect(output.length).toBeLessThanOrEqual(120);
    expect(output).toContain("truncated");

    const quiet = startTracing();
    quiet.tracing.emit(toTurnPlan(turn, makeOptions({ captureContent: false })));
    const keys = quiet.spans().flatMap((span) => Object.keys(span.attributes));
    expect(keys.filter((key) => key.endsWith(".input") || key.endsWith(".output"))).toEqual([]);
    quiet.tracing.shutdown();
  });

  it("never throws in the mask and turns non-strings into bounded text", () => {
    const cyclic: Record<string, unknown> = { token: "abc" };
    cyclic.self = cyclic;
    expect(toMaskedContent(cyclic, 100)).not.toContain("abc");
    expect(toMaskedContent(undefined, 100)).toBe("");
    expect(toMaskedContent(123n, 100)).toBeTypeOf("string");
    expect(toMaskedContent("y".repeat(10_000), 100).length).toBeLessThanOrEqual(100);
  });

  it("drops what ends after shutdown instead of throwing", async () => {
    const { tracing, spans } = startTracing();
    tracing.shutdown();
    expect(() => tracing.emit(toTurnPlan(makeTurn(), makeOptions()))).not.toThrow();
    expect(spans()).toEqual([]);
  });
});

describe("createLangfuseTracing against the official SDK path", () => {
  /** Both paths fed the same plan; what each queued, in order. */
  async function bothPaths(
    plans: ReturnType<typeof toTurnPlan>[],
    options: { environment?: string; release?: string; maxContentChars?: number } = {},
  ) {
    const direct: Array<{ id: string; payload: TurnExport }> = [];
    const sdk: Array<{ id: string; payload: TurnExport }> = [];
    const maxContentChars = options.maxContentChars ?? 8000;
    const ours = createLangfuseTracing({
      ...options,
      maxContentChars,
      enqueue: (id, payload) => direct.push({ id, payload }),
    });
    const reference = createSdkTracing({
      publicKey: "pk-lf-test-1234",
      secretKey: "sk-lf-test-5678",
      baseUrl: "http://127.0.0.1:1",
      ...options,
      maxContentChars,
      exporter: createPipelineSpanExporter({ enqueue: (id, payload) => sdk.push({ id, payload }) }),
    });
    for (const plan of plans) {
      ours.emit(plan);
      reference.emit(plan);
    }
    await reference.flush();
    await reference.shutdown();
    return { direct, sdk };
  }

  const secret = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";
  const variedTurns = () => [
    makeTurn(),
    makeTurn({
      toolCalls: [makeToolCall({ toolName: "web_search" }), makeToolCall({ toolName: "exec" })],
      modelCalls: [
        makeModelCall({ usage: { input: 10, output: 5, cacheRead: 7, cacheWrite: 3, total: 25 } }),
        makeModelCall({ content: { input: `key ${secret}`, output: "y".repeat(20_000) } }),
      ],
    }),
    makeTurn({
      outcome: "error",
      error: { category: "provider", source: "model.call.error", reason: "HTTP 429" },
      modelCalls: [makeModelCall({ outcome: "error", errorCategory: "rate_limit", errorReason: "HTTP 429" })],
    }),
    makeTurn({ toolCalls: [makeToolCall({ content: { input: `{"password":"hunter22"}`, output: "ok" } })] }),
  ];

  it("queues exactly the records the SDK's tracer, processor and exporter produce", async () => {
    for (const [options, captureContent] of [
      [{ environment: "production", release: "1.4.0" }, true],
      [{}, false],
      [{ environment: "staging", maxContentChars: 64 }, true],
    ] as const) {
      const plans = [
        ...variedTurns(),
        ...assembleCapturedTurns("e2e-http-2turns", { captureContent }),
        ...assembleCapturedTurns("e2e-provider-error-400", { captureContent }),
        ...assembleCapturedTurns("e2e-openai-responses-api", { captureContent }),
      ].map((turn) => toTurnPlan(turn, makeOptions({ captureContent, ...options })));
      const { direct, sdk } = await bothPaths(plans, options);
      expect(sdk.length).toBeGreaterThan(plans.length);
      // the SDK queues a span when its asynchronous mask is done, so its order is not the turn's,
      // and each span apart (ours: a turn's spans in one item): compare the spans, by id
      const byId = (items: typeof direct) =>
        items
          .flatMap((item) => item.payload.spans)
          .map((span) => ({ span, key: `${span.traceId}:${span.spanId} ${JSON.stringify(span)}` }))
          .sort((a, b) => a.key.localeCompare(b.key))
          .map(({ span }) => span);
      expect(byId(direct)).toHaveLength(sdk.length);
      expect(byId(direct)).toEqual(byId(sdk));
      // the same attribute order too: the encoded bytes are the same
      const keys = (items: typeof direct) => byId(items).map((span) => Object.keys(span.attributes));
      expect(keys(direct)).toEqual(keys(sdk));
    }
  });

  it("takes environment and release from the SDK's variables when the config has none", async () => {
    process.env.LANGFUSE_TRACING_ENVIRONMENT = "from-env";
    process.env.LANGFUSE_RELEASE = "9.9.9";
    try {
      const { direct, sdk } = await bothPaths([toTurnPlan(makeTurn(), makeOptions())]);
      const bySpanId = (spans: SpanRecord[]) => [...spans].sort((a, b) => a.spanId.localeCompare(b.spanId));
      expect(bySpanId(direct[0]?.payload.spans ?? [])).toEqual(
        bySpanId(sdk.flatMap((item) => item.payload.spans)),
      );
      expect(direct[0]?.payload.spans.at(-1)?.attributes).toMatchObject({
        "langfuse.environment": "from-env",
        "langfuse.release": "9.9.9",
      });
    } finally {
      delete process.env.LANGFUSE_TRACING_ENVIRONMENT;
      delete process.env.LANGFUSE_RELEASE;
    }
  });
});
