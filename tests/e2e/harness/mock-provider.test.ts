/**
 * The mock provider on its own (no gateway): reply rules and wire formats, read back over real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockProvider, startMockProvider } from "./mock-provider.js";
import { DEFAULT_REPLY_RULES, decideMockReply } from "./mock-reply.js";

const INTERNAL = "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>\nstuff\n<<<END_OPENCLAW_INTERNAL_CONTEXT>>>";

function chatBody(messages: unknown[], stream = true) {
  return { model: "mock-model", stream, stream_options: { include_usage: true }, messages };
}

function parseSse(text: string): unknown[] {
  return text
    .split("\n\n")
    .map((block) => block.split("\n").find((line) => line.startsWith("data: ")))
    .filter((line): line is string => line !== undefined)
    .map((line) => line.slice("data: ".length))
    .map((data) => (data === "[DONE]" ? data : JSON.parse(data)));
}

describe("decideMockReply", () => {
  it("asks for the tool while no tool result follows the prompt, then answers with the result", () => {
    const prompt = { role: "user", content: [{ type: "text", text: "[Sun 2026-11-22] please USE_TOOL" }] };
    const first = decideMockReply(
      chatBody([prompt, { role: "user", content: INTERNAL }]),
      DEFAULT_REPLY_RULES,
      1,
    );
    expect(first).toMatchObject({
      kind: "tool",
      toolName: "echo_tool",
      argumentsJson: '{"input":"hello-from-mock"}',
    });

    const second = decideMockReply(
      chatBody([
        prompt,
        { role: "assistant", content: null },
        { role: "tool", content: "echo:hello-from-mock" },
      ]),
      DEFAULT_REPLY_RULES,
      2,
    );
    expect(second).toEqual({ kind: "text", text: "tool said: echo:hello-from-mock" });
  });

  it("does not re-trigger markers from earlier turns in the history", () => {
    const history = [
      { role: "user", content: "FAIL_400 and USE_TOOL" },
      { role: "assistant", content: "failed" },
      { role: "user", content: "a new question" },
      { role: "user", content: INTERNAL },
    ];
    expect(decideMockReply(chatBody(history), DEFAULT_REPLY_RULES, 7)).toEqual({
      kind: "text",
      text: "mock reply #7",
    });
  });

  it("injects the 4xx named by the marker", () => {
    const reply = decideMockReply(
      chatBody([{ role: "user", content: "FAIL_429 now" }]),
      DEFAULT_REPLY_RULES,
      1,
    );
    expect(reply).toMatchObject({ kind: "error", status: 429 });
  });
});

describe("startMockProvider", () => {
  let provider: MockProvider;

  beforeAll(async () => {
    provider = await startMockProvider();
  });

  afterAll(async () => {
    await provider.close();
  });

  const post = (path: string, body: unknown) =>
    fetch(`${provider.baseUrl}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer mock-local" },
      body: JSON.stringify(body),
    });

  it("streams a text reply with a final usage chunk and [DONE], and records the request", async () => {
    provider.clearRequests();
    const response = await post("/chat/completions", chatBody([{ role: "user", content: "hi" }]));
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const frames = parseSse(await response.text());
    expect(frames.at(-1)).toBe("[DONE]");
    const usageChunk = frames.at(-2) as { choices: unknown[]; usage: unknown };
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toEqual({ prompt_tokens: 111, completion_tokens: 22, total_tokens: 133 });
    const text = frames
      .slice(0, -2)
      .map(
        (frame) =>
          (frame as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content ?? "",
      )
      .join("");
    expect(text).toMatch(/^mock reply #\d+$/);
    const finish = frames.at(-3) as { choices: Array<{ finish_reason: string }> };
    expect(finish.choices[0]?.finish_reason).toBe("stop");
    expect(provider.modelRequests()).toHaveLength(1);
    expect(provider.requests[0]).toMatchObject({
      method: "POST",
      path: "/v1/chat/completions",
      hasAuthorization: true,
    });
  });

  it("streams a tool call, uses queued usage once, then the default", async () => {
    provider.enqueueUsage({ promptTokens: 5, completionTokens: 6 });
    const frames = parseSse(
      await (await post("/chat/completions", chatBody([{ role: "user", content: "USE_TOOL" }]))).text(),
    );
    const toolDelta = frames[0] as {
      choices: Array<{ delta: { tool_calls: Array<{ function: { name: string } }> } }>;
    };
    expect(toolDelta.choices[0]?.delta.tool_calls[0]?.function.name).toBe("echo_tool");
    expect((frames.at(-3) as { choices: Array<{ finish_reason: string }> }).choices[0]?.finish_reason).toBe(
      "tool_calls",
    );
    expect((frames.at(-2) as { usage: unknown }).usage).toEqual({
      prompt_tokens: 5,
      completion_tokens: 6,
      total_tokens: 11,
    });
    const next = parseSse(
      await (await post("/chat/completions", chatBody([{ role: "user", content: "x" }]))).text(),
    );
    expect((next.at(-2) as { usage: { prompt_tokens: number } }).usage.prompt_tokens).toBe(111);
  });

  it("reports cache reads and writes in prompt_tokens_details only when a usage sets them", async () => {
    provider.enqueueUsage({ promptTokens: 111, completionTokens: 22, cachedTokens: 40, cacheWriteTokens: 9 });
    const frames = parseSse(
      await (await post("/chat/completions", chatBody([{ role: "user", content: "x" }]))).text(),
    );
    expect((frames.at(-2) as { usage: unknown }).usage).toEqual({
      prompt_tokens: 111,
      completion_tokens: 22,
      total_tokens: 133,
      prompt_tokens_details: { cached_tokens: 40, cache_write_tokens: 9 },
    });
  });

  it("answers without streaming when stream is false", async () => {
    const response = await post("/chat/completions", chatBody([{ role: "user", content: "hi" }], false));
    const body = (await response.json()) as {
      object: string;
      choices: Array<{ message: { content: string } }>;
    };
    expect(body.object).toBe("chat.completion");
    expect(body.choices[0]?.message.content).toMatch(/^mock reply #\d+$/);
  });

  it("answers an injected 400 with an OpenAI error body", async () => {
    const response = await post("/chat/completions", chatBody([{ role: "user", content: "FAIL_400" }]));
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { message: string; type: string } };
    expect(body.error).toMatchObject({
      type: "invalid_request_error",
      message: "mock provider: injected HTTP 400",
    });
  });

  it("streams Responses-API events ending in response.completed with usage", async () => {
    const response = await post("/responses", {
      model: "mock-model",
      stream: true,
      input: [{ role: "user", content: [{ type: "input_text", text: "hello" }] }],
    });
    const events = parseSse(await response.text()) as Array<{ type: string; response?: { usage?: unknown } }>;
    expect(events[0]?.type).toBe("response.created");
    expect(events.at(-1)?.type).toBe("response.completed");
    expect(events.at(-1)?.response?.usage).toEqual({
      input_tokens: 111,
      output_tokens: 22,
      total_tokens: 133,
    });
  });
});
