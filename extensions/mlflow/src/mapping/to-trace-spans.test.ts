import { createIdHasher, isSampledIn, shouldKeepTurn, type Turn } from "@clawscope/kit";
import { createOtlpEncoder } from "@clawscope/kit/otlp";
import {
  assembleCapturedTurns,
  decodeOtlpRequest,
  makeModelCall,
  makeTurn as makeSharedTurn,
  makeToolCall,
} from "@clawscope/testing";
import { describe, expect, it } from "vitest";
import { toMlflowTraceId, toTraceSpans } from "./to-trace-spans.js";

const hasher = createIdHasher({ key: "clawscope-mlflow-test-key" });
const hashId = (id: string | undefined) => (id === undefined || id === "" ? undefined : hasher.hash(id));

/** The shared healthy turn, with a calculator tool call and content the kit would capture. */
function makeTurn(overrides: Partial<Turn> = {}): Turn {
  return makeSharedTurn({
    modelCalls: [makeModelCall({ content: { input: "what is 2+2?", output: "4" } })],
    toolCalls: [
      makeToolCall({
        toolCallId: "call_0",
        toolName: "calculator",
        endedAt: 2_100,
        durationMs: 100,
        content: { input: '{"expr":"2+2"}', output: "4" },
      }),
    ],
    ...overrides,
  });
}

describe("toTraceSpans", () => {
  it("maps a turn to an AGENT root with CHAT_MODEL and TOOL children", () => {
    const spans = toTraceSpans(makeTurn(), { hashId, captureContent: false });
    expect(spans.map((span) => span.attributes["mlflow.spanType"])).toEqual(["AGENT", "CHAT_MODEL", "TOOL"]);
    expect(spans.map((span) => span.attributes["gen_ai.operation.name"])).toEqual([
      "invoke_agent",
      "chat",
      "execute_tool",
    ]);
    const [root, chat, tool] = spans;
    expect(root?.parentSpanId).toBeUndefined();
    expect(chat?.parentSpanId).toBe(root?.spanId);
    expect(tool?.parentSpanId).toBe(root?.spanId);
    expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([toMlflowTraceId("run-1")]));
    expect(new Set(spans.map((span) => span.spanId)).size).toBe(3);
    expect(tool?.attributes["gen_ai.tool.name"]).toBe("calculator");
    expect(chat?.attributes["gen_ai.request.model"]).toBe("gpt-4o");
  });

  it("puts the turn's token totals on the root and each call's on its span (input counts the cache)", () => {
    const [root, chat] = toTraceSpans(makeTurn(), { hashId, captureContent: false });
    for (const span of [root, chat]) {
      expect(span?.attributes).toMatchObject({
        "gen_ai.usage.input_tokens": 140,
        "gen_ai.usage.output_tokens": 20,
        "gen_ai.usage.cache_read.input_tokens": 30,
        "gen_ai.usage.cache_creation.input_tokens": 10,
        "openclaw.cost.usd": 0.002,
        "openclaw.cost.source": "provider",
      });
    }
    const unknownCost = toTraceSpans(makeTurn({ cost: { usd: null, source: "unknown" } }), {
      hashId,
      captureContent: false,
    })[0];
    expect(unknownCost?.attributes["openclaw.cost.usd"]).toBeUndefined();
    expect(unknownCost?.attributes["mlflow.llm.cost"]).toBeUndefined();
  });

  it("gives MLflow the cost as the map its Traces tab reads, on the root and each call", () => {
    const [root, chat] = toTraceSpans(makeTurn(), { hashId, captureContent: false });
    expect(root?.attributes["mlflow.llm.cost"]).toEqual({ total_cost: 0.002 });
    expect(chat?.attributes["mlflow.llm.cost"]).toEqual({ total_cost: 0.002 });
  });

  it("sets the hashed session (never the raw key) and trace tags on the root only", () => {
    const [root, chat] = toTraceSpans(makeTurn(), { hashId, captureContent: false, userId: "alice" });
    expect(root?.attributes["session.id"]).toBe(hashId("agent:main:s1"));
    expect(root?.attributes["user.id"]).toBe(hashId("alice"));
    expect(JSON.stringify(root)).not.toContain("agent:main:s1");
    expect(JSON.stringify(root)).not.toContain("alice");
    expect(root?.attributes["mlflow.traceTag.openclaw.channel"]).toBe("webchat");
    expect(chat?.attributes["session.id"]).toBeUndefined();
    expect(toTraceSpans(makeTurn(), { hashId, captureContent: false })[0]?.attributes["user.id"]).toBe(
      undefined,
    );
    // the channel's sender (message_received) is the default user, hashed
    const sent = toTraceSpans(makeTurn({ senderId: "cli" }), { hashId, captureContent: false })[0];
    expect(sent?.attributes["user.id"]).toBe(hashId("cli"));
  });

  it("sends inputs and outputs only when content capture is on", () => {
    const off = toTraceSpans(makeTurn(), { hashId, captureContent: false });
    expect(off.some((span) => "mlflow.spanInputs" in span.attributes)).toBe(false);
    expect(JSON.stringify(off)).not.toContain("2+2");
    const [root, chat, tool] = toTraceSpans(makeTurn(), { hashId, captureContent: true });
    expect(root?.attributes).toMatchObject({
      "mlflow.spanInputs": "what is 2+2?",
      "mlflow.spanOutputs": "4",
    });
    expect(chat?.attributes["mlflow.spanInputs"]).toBe("what is 2+2?");
    expect(tool?.attributes["mlflow.spanInputs"]).toBe('{"expr":"2+2"}');
  });

  it("gives the same ids for the same turn and distinct ids to repeated call ids", () => {
    const turn = makeTurn();
    const twice = makeTurn({ toolCalls: [...turn.toolCalls, ...turn.toolCalls] });
    expect(toTraceSpans(turn, { hashId, captureContent: false })).toEqual(
      toTraceSpans(turn, { hashId, captureContent: false }),
    );
    const ids = toTraceSpans(twice, { hashId, captureContent: false }).map((span) => span.spanId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(toMlflowTraceId("run-2")).not.toBe(toMlflowTraceId("run-1"));
  });

  it("marks failed turns and calls as errors and keeps children inside the root", () => {
    const turn = makeTurn({
      outcome: "error",
      error: {
        category: "provider_error",
        status: 400,
        reason: "the provider rejected the request (HTTP 400)",
        source: "model.call.error",
      },
      modelCalls: [
        {
          ...makeTurn().modelCalls[0]!,
          outcome: "error",
          errorCategory: "http_400",
          errorStatus: 400,
          errorReason: "the provider rejected the request (HTTP 400)",
          endedAt: 9_000,
        },
      ],
    });
    const [root, chat] = toTraceSpans(turn, { hashId, captureContent: false });
    expect(root?.status).toEqual({ code: "error", message: "the provider rejected the request (HTTP 400)" });
    expect(chat?.status).toEqual({ code: "error", message: "the provider rejected the request (HTTP 400)" });
    expect(chat?.attributes["http.response.status_code"]).toBe(400);
    expect(chat?.endTimeMs).toBe(3_000);
    // the provider's reason, when the host gave one, as one redacted line
    const explained = makeTurn({
      ...turn,
      error: {
        category: "provider_error",
        reason: "the provider rejected the request (HTTP 400)",
        message: "400 invalid key sk-proj-abcdefghijklmnopqrstuvwx\nretry later",
        source: "llm_output",
      },
    });
    const [explainedRoot, explainedChat] = toTraceSpans(explained, { hashId, captureContent: false });
    expect(explainedRoot?.status).toEqual({
      code: "error",
      message: "400 invalid key [REDACTED:openai_key] retry later",
    });
    expect(explainedChat?.status).toEqual({
      code: "error",
      message:
        "the provider rejected the request (HTTP 400): 400 invalid key [REDACTED:openai_key] retry later",
    });
  });

  it("maps the real gateway's recorded tool-call turn into spans the OTLP encoder keeps whole", () => {
    const turn = assembleCapturedTurns("e2e-http-2turns").find((item) => item.toolCalls.length > 0);
    expect(turn).toBeDefined();
    const spans = toTraceSpans(turn as Turn, { hashId, captureContent: false });
    expect(spans.filter((span) => span.attributes["mlflow.spanType"] === "CHAT_MODEL")).toHaveLength(2);
    expect(spans.filter((span) => span.attributes["mlflow.spanType"] === "TOOL")).toHaveLength(1);
    expect(spans[0]?.attributes["gen_ai.usage.output_tokens"]).toBe(44);
    const encoder = createOtlpEncoder({ scopeName: "clawscope-mlflow" });
    const encoded = encoder.encodeSpans(spans);
    expect(encoded.dropped).toBe(0);
    const decoded = decodeOtlpRequest("traces", encoded.body, encoded.contentType);
    expect(decoded.spans).toHaveLength(spans.length);
  });
});

describe("trace sampling", () => {
  it("always keeps failed turns and samples healthy ones consistently by trace id", () => {
    const failed = makeTurn({ outcome: "error" });
    expect(shouldKeepTurn(failed, toMlflowTraceId(failed.id), { ratio: 0 })).toEqual({
      keep: true,
      reason: "error",
    });
    expect(shouldKeepTurn(makeTurn(), toMlflowTraceId("run-1"), { ratio: 0 }).keep).toBe(false);
    expect(shouldKeepTurn(makeTurn(), toMlflowTraceId("run-1"), { ratio: 1 }).keep).toBe(true);
    const ids = Array.from({ length: 2_000 }, (_, index) => toMlflowTraceId(`run-${index}`));
    const kept = ids.filter((id) => isSampledIn(id, 0.25)).length;
    expect(kept).toBeGreaterThan(400);
    expect(kept).toBeLessThan(600);
    expect(ids.filter((id) => isSampledIn(id, 0.25))).toEqual(ids.filter((id) => isSampledIn(id, 0.25)));
  });
});
