/**
 * Smoke test of the e2e harness against the real OpenClaw gateway: plain, tool-call and provider-400
 * turns over HTTP, one turn over WS `chat.send`, the gateway's own usage figures, and a clean stop.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayHandle, startGateway } from "./harness/gateway.js";
import {
  callGatewayMethod,
  callGatewayMethodViaCli,
  chatCompletion,
  chatSend,
  waitFor,
} from "./harness/gateway-client.js";
import { waitForSessionUsage } from "./harness/gateway-usage.js";
import { GatewayRequestError } from "./harness/gateway-ws.js";
import { toConversation, toPromptText } from "./harness/mock-reply.js";
import { ECHO_TOOL_PLUGIN } from "./harness/plugin-fixtures.js";

interface ChatCompletionBody {
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  error?: { message?: string };
}

describe("e2e harness on the real gateway", () => {
  let gateway: GatewayHandle;

  beforeAll(async () => {
    gateway = await startGateway({ plugins: [ECHO_TOOL_PLUGIN] });
  });

  afterAll(async () => {
    await gateway?.close();
  });

  it("answers a plain HTTP turn through the mock provider", async () => {
    gateway.provider.clearRequests();
    const result = await chatCompletion(gateway, { sessionKey: "harness-plain", content: "hello harness" });

    expect(result.status).toBe(200);
    expect(result.content).toMatch(/^mock reply #\d+$/);
    expect((result.body as ChatCompletionBody).usage).toEqual({
      prompt_tokens: 111,
      completion_tokens: 22,
      total_tokens: 133,
    });
    const requests = gateway.provider.modelRequests();
    expect(requests).toHaveLength(1);
    const body = requests[0]?.body as {
      model: string;
      stream: boolean;
      stream_options: unknown;
      tools: unknown[];
    };
    expect(requests[0]?.path).toBe("/v1/chat/completions");
    expect(requests[0]?.hasAuthorization).toBe(true);
    expect(body.model).toBe("mock-model");
    expect(body.stream).toBe(true);
    expect(body.stream_options).toEqual({ include_usage: true });
    expect(toPromptText(body)).toContain("hello harness");
    // tools.toolSearch: false offers plugin tools directly
    const toolNames = body.tools.map((tool) => (tool as { function?: { name?: string } }).function?.name);
    expect(toolNames).toContain("echo_tool");
  });

  it("runs a tool-call turn: mock tool call, echo_tool executes, second model call", async () => {
    gateway.provider.clearRequests();
    const result = await chatCompletion(gateway, {
      sessionKey: "harness-tool",
      content: "please USE_TOOL now",
    });

    expect(result.status).toBe(200);
    expect(result.content).toBe("tool said: echo:hello-from-mock");
    // the gateway sums both model calls
    expect((result.body as ChatCompletionBody).usage).toEqual({
      prompt_tokens: 222,
      completion_tokens: 44,
      total_tokens: 266,
    });
    const requests = gateway.provider.modelRequests();
    expect(requests.map((request) => request.reply?.kind)).toEqual(["tool", "text"]);
    const toolResults = toConversation(requests[1]?.body).filter((entry) => entry.role === "tool");
    expect(toolResults.map((entry) => entry.text)).toEqual(["echo:hello-from-mock"]);
  });

  it("surfaces an injected provider 400 at once, without retries", async () => {
    gateway.provider.clearRequests();
    const result = await chatCompletion(gateway, { sessionKey: "harness-400", content: "FAIL_400 please" });

    expect(result.status).toBe(400);
    expect((result.body as ChatCompletionBody).error?.message).toContain("mock provider: injected HTTP 400");
    const requests = gateway.provider.modelRequests();
    expect(requests).toHaveLength(1);
    expect(requests[0]?.reply).toMatchObject({ kind: "error", status: 400 });
  });

  it("runs a WS chat.send turn with per-reply usage, and sessions.usage reports it", async () => {
    gateway.provider.clearRequests();
    gateway.provider.enqueueUsage({ promptTokens: 1000, completionTokens: 50 });
    const ack = await chatSend(gateway, {
      sessionKey: "agent:main:harness-ws",
      message: "hello over websocket",
      idempotencyKey: "harness-ws-1",
    });
    expect(ack).toMatchObject({ runId: "harness-ws-1", status: "started" });

    await waitFor(
      () =>
        gateway.provider
          .modelRequests()
          .some((request) => toPromptText(request.body).includes("over websocket")),
      60_000,
      100,
      "the chat.send turn to reach the mock provider",
    );
    const usage = await waitForSessionUsage(
      gateway,
      "agent:main:harness-ws",
      (entry) => entry.input > 0,
      60_000,
    );
    expect(usage.input).toBe(1000);
    expect(usage.output).toBe(50);
    expect(usage.totalTokens).toBe(1050);
    // 1000 × $3/M + 50 × $15/M
    expect(usage.totalCost).toBeCloseTo(0.00375, 9);
    expect(usage.messageCounts?.assistant).toBe(1);
  });

  it("reaches gateway methods over WS and the CLI, and reports errors with their code", async () => {
    const listed = (await callGatewayMethod(gateway, "sessions.list", {})) as {
      sessions: Array<{ key: string }>;
    };
    expect(listed.sessions.map((session) => session.key)).toContain("agent:main:harness-tool");
    const viaCli = await callGatewayMethodViaCli(gateway, "sessions.list", {});
    expect(viaCli.exitCode).toBe(0);
    expect(
      (viaCli.json as { sessions: Array<{ key: string }> }).sessions.map((session) => session.key),
    ).toContain("agent:main:harness-ws");

    await expect(callGatewayMethod(gateway, "no.such.method")).rejects.toMatchObject({
      name: "GatewayRequestError",
      code: "INVALID_REQUEST",
    });
    await expect(callGatewayMethod(gateway, "no.such.method")).rejects.toBeInstanceOf(GatewayRequestError);
  });

  it("stops on SIGTERM with exit code 0", async () => {
    const pid = gateway.pid;
    expect(pid).toBeTypeOf("number");
    const code = await gateway.stop();
    expect(code).toBe(0);
    expect(gateway.lastExit).toEqual({ code: 0, signal: null });
    expect(gateway.pid).toBeUndefined();
  });
});
