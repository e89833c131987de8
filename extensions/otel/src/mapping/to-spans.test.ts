import type { SpanRecord } from "@clawscope/kit/otlp";
import { describe, expect, it } from "vitest";
import { isValidSpanId, isValidTraceId, toTraceId } from "./ids.js";
import { capturedErrorTurn, capturedToolTurn, hashId, makeTurn } from "./test-fixtures.js";
import { toTurnSpans } from "./to-spans.js";

const options = { hashId, captureContent: false };
const byOperation = (spans: SpanRecord[], operation: string) =>
  spans.filter((span) => span.attributes["gen_ai.operation.name"] === operation);

describe("toTurnSpans on the captured tool-call turn", () => {
  const turn = capturedToolTurn({ captureContent: true });
  const spans = toTurnSpans(turn, options);
  const [root] = spans;

  it("builds one trace: an invoke_agent root with two chat children and one execute_tool child", () => {
    expect(spans).toHaveLength(4);
    expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([toTraceId(turn.id)]));
    expect(root?.name).toBe("invoke_agent main");
    expect(root?.parentSpanId).toBeUndefined();
    expect(byOperation(spans, "chat").map((span) => span.name)).toEqual([
      "chat mock-model",
      "chat mock-model",
    ]);
    expect(byOperation(spans, "execute_tool").map((span) => span.name)).toEqual(["execute_tool echo_tool"]);
    for (const child of spans.slice(1)) expect(child.parentSpanId).toBe(root?.spanId);
    expect(spans.every((span) => isValidTraceId(span.traceId) && isValidSpanId(span.spanId))).toBe(true);
    expect(byOperation(spans, "chat").every((span) => span.kind === "client")).toBe(true);
  });

  it("carries the gateway's own token and cost figures on the root", () => {
    expect(root?.attributes).toMatchObject({
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.agent.id": "main",
      "gen_ai.agent.name": "main",
      "gen_ai.provider.name": "mock",
      "gen_ai.request.model": "mock-model",
      "gen_ai.usage.input_tokens": 222,
      "gen_ai.usage.output_tokens": 44,
      "gen_ai.usage.cache_read.input_tokens": 0,
      "gen_ai.usage.cache_creation.input_tokens": 0,
      "openclaw.tokens.total": 266,
      "openclaw.cost.usd": 0.001326,
      "openclaw.cost.source": "provider",
      "openclaw.channel": "webchat",
      "openclaw.trigger": "user",
      "openclaw.turn.outcome": "success",
      "openclaw.turn.host_outcome": "completed",
      "openclaw.usage.source": "model.usage",
      "openclaw.trace_id": turn.traceId,
    });
    expect(root?.status).toEqual({ code: "unset" });
    expect(root?.startTimeMs).toBe(turn.startedAt);
    expect(root?.endTimeMs).toBe(turn.endedAt);
    const chats = byOperation(spans, "chat");
    expect(chats.map((span) => span.attributes["gen_ai.usage.output_tokens"])).toEqual([22, 22]);
    expect(chats.map((span) => span.attributes["openclaw.cost.usd"])).toEqual([0.000663, 0.000663]);
  });

  it("links the host's run span instead of joining its trace", () => {
    expect(root?.traceId).not.toBe(turn.traceId);
    expect(root?.links).toEqual([
      { traceId: turn.traceId, spanId: turn.spanId, attributes: { "openclaw.link.type": "host_run" } },
    ]);
  });

  it("puts the hashed session on every span, never a raw session id", () => {
    const expected = hashId(turn.sessionKey);
    expect(expected).toMatch(/^[0-9a-f]{32}$/);
    for (const span of spans) expect(span.attributes["gen_ai.conversation.id"]).toBe(expected);
    const text = JSON.stringify(spans);
    expect(text).not.toContain(turn.sessionKey as string);
    expect(text).not.toContain(turn.sessionId as string);
    expect(spans[0]?.attributes).not.toHaveProperty("user.id");
    const [sent] = toTurnSpans({ ...makeTurn(), senderId: "cli" }, options);
    expect(sent?.attributes["user.id"]).toBe(hashId("cli"));
    expect(JSON.stringify(sent)).not.toContain('"cli"');
  });

  it("leaves content out by default, even when the turn holds some", () => {
    expect(turn.modelCalls.some((call) => call.content !== undefined)).toBe(true);
    const text = JSON.stringify(spans);
    for (const key of ["gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.tool.call.arguments"]) {
      expect(text).not.toContain(key);
    }
    expect(text).not.toContain("hello-from-mock");
  });

  it("puts content in the GenAI shape when capture is on", () => {
    const captured = toTurnSpans(turn, { hashId, captureContent: true });
    const [firstChat, secondChat] = byOperation(captured, "chat");
    expect(JSON.parse(String(firstChat?.attributes["gen_ai.input.messages"]))).toEqual([
      {
        role: "user",
        parts: [{ type: "text", content: expect.stringContaining("turn one USE_TOOL please") }],
      },
    ]);
    expect(JSON.parse(String(secondChat?.attributes["gen_ai.output.messages"]))).toEqual([
      {
        role: "assistant",
        parts: [{ type: "text", content: "tool said: echo:hello-from-mock" }],
        finish_reason: "stop",
      },
    ]);
    const [tool] = byOperation(captured, "execute_tool");
    expect(tool?.attributes["gen_ai.tool.call.arguments"]).toBe('{"input":"hello-from-mock"}');
    expect(String(tool?.attributes["gen_ai.tool.call.result"])).toContain("echo:hello-from-mock");
  });

  it("is stable: the same turn maps to the same spans", () => {
    expect(toTurnSpans(structuredClone(turn), options)).toEqual(spans);
  });
});

describe("toTurnSpans on failures and incomplete turns", () => {
  it("marks the captured provider-400 turn and its model call as errors", () => {
    const spans = toTurnSpans(capturedErrorTurn(), options);
    const [root, chat] = spans;
    // content capture is off: the fixed reason and the status, never the provider's own text
    expect(root?.status).toEqual({ code: "error", message: "the provider rejected the request (HTTP 400)" });
    expect(root?.attributes).toMatchObject({
      "error.type": "Error",
      "openclaw.turn.outcome": "error",
      "http.response.status_code": 400,
    });
    expect(chat?.status).toEqual({ code: "error", message: "the provider rejected the request (HTTP 400)" });
    expect(chat?.attributes).toMatchObject({ "error.type": "Error", "openclaw.errorCategory": "Error" });
  });

  it("marks an incomplete turn and ends its pending calls with the turn", () => {
    const turn = makeTurn({
      outcome: "unknown",
      incomplete: { reason: "timeout", missing: ["run.completed", "model.call.completed run-1:model:1"] },
      modelCalls: [
        { ...makeTurn().modelCalls[0]!, outcome: "pending", endedAt: undefined, durationMs: undefined },
      ],
      toolCalls: [{ toolCallId: "call_1", toolName: "search", outcome: "pending", startedAt: 1_500 }],
    });
    const [root, chat, tool] = toTurnSpans(turn, options);
    expect(root?.attributes).toMatchObject({
      "openclaw.incomplete": true,
      "openclaw.incomplete.reason": "timeout",
      "openclaw.incomplete.missing": ["run.completed", "model.call.completed run-1:model:1"],
    });
    expect(root?.status.code).toBe("unset");
    expect(chat?.attributes["openclaw.incomplete"]).toBe(true);
    expect(chat?.endTimeMs).toBe(turn.endedAt);
    expect(tool).toMatchObject({ startTimeMs: 1_500, endTimeMs: turn.endedAt });
    expect(tool?.attributes["openclaw.incomplete"]).toBe(true);
  });

  it("counts cached tokens into gen_ai input tokens and keeps the gateway's buckets apart", () => {
    const [root, chat] = toTurnSpans(makeTurn(), options);
    for (const span of [root, chat]) {
      expect(span?.attributes).toMatchObject({
        "gen_ai.usage.input_tokens": 140,
        "gen_ai.usage.cache_read.input_tokens": 30,
        "gen_ai.usage.cache_creation.input_tokens": 10,
        "openclaw.tokens.input": 100,
      });
    }
    expect(chat?.attributes["gen_ai.response.time_to_first_chunk"]).toBe(0.25);
  });

  it("never invents a cost: unknown cost has a source and no amount", () => {
    const [root] = toTurnSpans(makeTurn({ cost: { usd: null, source: "unknown" } }), options);
    expect(root?.attributes["openclaw.cost.source"]).toBe("unknown");
    expect(root?.attributes).not.toHaveProperty("openclaw.cost.usd");
  });

  it("marks failed tools as errors, blocked ones by outcome only, and omits ids it cannot trust", () => {
    const turn = makeTurn({
      traceId: "trace-run-1",
      sessionKey: undefined,
      sessionId: undefined,
      toolCalls: [
        { toolCallId: "c1", toolName: "exec", outcome: "error", errorCategory: "ENOENT", toolSource: "core" },
        { toolCallId: "c2", toolName: "exec", outcome: "blocked" },
      ],
    });
    const [root, , failed, blocked] = toTurnSpans(turn, options);
    expect(failed?.status).toEqual({ code: "error", message: "ENOENT" });
    expect(failed?.attributes).toMatchObject({ "error.type": "ENOENT", "openclaw.tool.source": "core" });
    expect(blocked?.status).toEqual({ code: "unset" });
    expect(blocked?.attributes["openclaw.tool.outcome"]).toBe("blocked");
    expect(root?.links).toBeUndefined();
    expect(root?.attributes).not.toHaveProperty("openclaw.trace_id");
    expect(root?.attributes).not.toHaveProperty("gen_ai.conversation.id");
  });

  it("uses the agent name option for the root", () => {
    const [root] = toTurnSpans(makeTurn(), { ...options, agentName: "Support bot" });
    expect(root?.name).toBe("invoke_agent Support bot");
    expect(root?.attributes["gen_ai.agent.id"]).toBe("main");
  });
});
