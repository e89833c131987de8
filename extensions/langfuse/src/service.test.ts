/**
 * Contract test: the plugin in the fake host, fed by the real diagnostic bus, exporting to an
 * in-process receiver that answers like Langfuse (Basic auth with the 401 bodies its server sends).
 * Assertions read what reached the wire: OTLP/JSON spans with the SDK's attributes, and score bodies.
 */
import { createPackPlugin, type SubscribeToBus } from "@clawscope/kit";
import {
  buildTurnEvents,
  createFakeHost,
  createHttpReceiver,
  decodeOtlpRequest,
  type FakeHost,
  type HttpReceiver,
  type OtlpSpan,
  type ReceivedRequest,
  type TurnSpec,
  waitFor,
} from "@clawscope/testing";
import {
  emitTrustedDiagnosticEvent,
  onInternalDiagnosticEvent,
  waitForDiagnosticEventsDrained,
} from "openclaw/plugin-sdk/diagnostic-runtime";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { toLangfuseTraceId, toStableUuid } from "./mapping/ids.js";
import { createLangfusePluginSpec } from "./plugin-spec.js";

const PUBLIC_KEY = "pk-lf-contract-0000-1234";
const SECRET_KEY = "sk-lf-contract-secret-9876";
const HOST_HINT = ". Confirm that you've configured the correct host.";

let receiver: HttpReceiver;
const hosts: FakeHost[] = [];

beforeAll(async () => {
  receiver = await createHttpReceiver();
});
afterAll(async () => {
  await receiver.close();
});
afterEach(async () => {
  for (const host of hosts.splice(0)) await host.cleanup();
  receiver.reset();
  receiver.clearRequests();
});

/** Answers like Langfuse's Basic auth: unknown public key and wrong secret key differ. */
function answerLikeLangfuse(request: ReceivedRequest) {
  const header = request.headers.authorization ?? "";
  const [user, password] = Buffer.from(header.replace(/^Basic /, ""), "base64")
    .toString("utf8")
    .split(":");
  const json = (status: number, body: unknown) => ({
    status,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (user !== PUBLIC_KEY) return json(401, { message: `Invalid public key${HOST_HINT}` });
  if (password !== SECRET_KEY) return json(401, { message: `Invalid credentials${HOST_HINT}` });
  if (request.path === "/api/public/ingestion") {
    const batch = (request.json as { batch?: { id: string }[] })?.batch ?? [];
    return json(207, { successes: batch.map((event) => ({ id: event.id, status: 201 })), errors: [] });
  }
  return json(200, {});
}

async function startGateway(config: Record<string, unknown>): Promise<FakeHost> {
  receiver.setDefaultAnswer(answerLikeLangfuse);
  const entry = () =>
    createPackPlugin(createLangfusePluginSpec(), { subscribe: onInternalDiagnosticEvent as SubscribeToBus });
  const host = await createFakeHost(entry, {
    pluginConfig: {
      publicKey: PUBLIC_KEY,
      secretKey: SECRET_KEY,
      baseUrl: `${receiver.url}/`,
      environment: "contract",
      release: "9.9.9",
      flushIntervalMs: 100,
      settleMs: 50,
      ...config,
    },
    hostConfig: {
      agents: { list: [{ id: "main" }] },
      models: { providers: { mock: { models: [{ id: "mock-model", maxTokens: 4096 }] } } },
    },
  });
  hosts.push(host);
  await host.startServices();
  return host;
}

async function replayTurn(host: FakeHost, spec: TurnSpec, senderId?: string) {
  const built = buildTurnEvents(spec);
  if (senderId)
    await host.fireHook(
      "message_received",
      { senderId, content: "hi" },
      { sessionKey: spec.sessionKey ?? "agent:main:s1", channelId: "webchat" },
    );
  for (const input of built.inputs) {
    if (input.kind === "event") emitTrustedDiagnosticEvent(input.event as never);
    else await host.fireHook(input.name, input.event, input.context as Record<string, unknown>);
  }
  await waitForDiagnosticEventsDrained();
  return built;
}

const traceRequests = () =>
  receiver.requests.filter((request) => request.path === "/api/public/otel/v1/traces");
const scoreRequests = () => receiver.requests.filter((request) => request.path === "/api/public/ingestion");
/** The score bodies of every ingestion request, in order. */
const sentScores = () =>
  scoreRequests().flatMap((request) =>
    ((request.json as { batch?: { type: string; body: Record<string, unknown> }[] })?.batch ?? []).map(
      (event) => {
        expect(event.type).toBe("score-create");
        return event.body;
      },
    ),
  );
const acceptedSpans = (): OtlpSpan[] =>
  traceRequests()
    .filter((request) => request.status === 200)
    .flatMap((request) => decodeOtlpRequest("traces", request.body, request.headers["content-type"]).spans);
const spansOf = (runId: string) =>
  acceptedSpans().filter((span) => span.traceId === toLangfuseTraceId(runId));
const attribute = (span: OtlpSpan | undefined, key: string) => span?.attributes[key];
const typeOf = (span: OtlpSpan) => attribute(span, "langfuse.observation.type");

describe("clawscope-langfuse contract", () => {
  it("exports plain, tool and provider-error turns as the SDK would, with scores", async () => {
    const host = await startGateway({});
    const plain = await replayTurn(
      host,
      {
        runId: "lf-plain",
        modelCalls: [{ usage: { input: 100, output: 20, cacheRead: 30 }, costUsd: 0.0021 }],
      },
      "user-77",
    );
    await replayTurn(host, {
      runId: "lf-tools",
      sessionKey: "agent:main:s2",
      modelCalls: [{}, {}],
      tools: [{ toolName: "web_search" }, { toolName: "exec", error: "boom" }],
    });
    await replayTurn(host, {
      runId: "lf-error",
      modelCalls: [{ error: { category: "invalid_request", failureKind: "http_400" } }],
    });
    await waitFor(() => spansOf("lf-error").length >= 2 && spansOf("lf-tools").length >= 5, 15_000);
    await waitFor(() => sentScores().length >= 3, 15_000);

    // headers and encoding as the official SDK sends them
    const request = traceRequests()[0];
    expect(request?.headers).toMatchObject({
      authorization: `Basic ${Buffer.from(`${PUBLIC_KEY}:${SECRET_KEY}`).toString("base64")}`,
      "x-langfuse-sdk-name": "javascript",
      "x-langfuse-sdk-version": "5.11.1",
      "x-langfuse-public-key": PUBLIC_KEY,
      "content-type": "application/json",
    });
    const body = request?.json as { resourceSpans: Array<{ scopeSpans: Array<{ scope: unknown }> }> };
    expect(body.resourceSpans[0]?.scopeSpans[0]?.scope).toEqual({ name: "langfuse-sdk", version: "5.11.1" });

    // the plain turn: agent root + generation with usage, cost and time to first byte
    const plainSpans = spansOf("lf-plain");
    const root = plainSpans.find((span) => typeOf(span) === "agent");
    const generation = plainSpans.find((span) => typeOf(span) === "generation");
    expect(plainSpans).toHaveLength(2);
    expect(root?.name).toBe("main · webchat");
    expect(root?.parentSpanId).toBeUndefined();
    expect(generation?.parentSpanId).toBe(root?.spanId);
    expect(attribute(root, "langfuse.internal.is_app_root")).toBe(true);
    for (const span of plainSpans) {
      expect(attribute(span, "langfuse.trace.name")).toBe("main · webchat");
      expect(attribute(span, "langfuse.environment")).toBe("contract");
      expect(attribute(span, "langfuse.release")).toBe("9.9.9");
      expect(attribute(span, "langfuse.trace.tags")).toEqual([
        "agent:main",
        "channel:webchat",
        "environment:contract",
        "release:9.9.9",
      ]);
      // ids are hashed: the raw session key and sender never leave the gateway
      expect(attribute(span, "session.id")).toMatch(/^[0-9a-f]{32}$/);
      expect(attribute(span, "user.id")).toMatch(/^[0-9a-f]{32}$/);
    }
    expect(JSON.stringify(traceRequests().map((item) => item.json))).not.toMatch(/agent:main:s1|user-77/);
    expect(JSON.parse(String(attribute(generation, "langfuse.observation.usage_details")))).toEqual({
      input: plain.totals.input,
      output: plain.totals.output,
      input_cache_read: plain.totals.cacheRead,
      total: plain.totals.total,
    });
    expect(JSON.parse(String(attribute(generation, "langfuse.observation.cost_details")))).toEqual({
      total: plain.totals.costUsd,
    });
    expect(attribute(generation, "langfuse.observation.model.name")).toBe("mock-model");
    expect(attribute(generation, "langfuse.observation.model.parameters")).toBe('{"max_tokens":4096}');
    expect(attribute(generation, "langfuse.observation.completion_start_time")).toMatch(/^"\d{4}-/);

    // the tool turn: a retriever and a failed tool under the root
    const toolSpans = spansOf("lf-tools");
    expect(toolSpans.map(typeOf).sort()).toEqual(["agent", "generation", "generation", "retriever", "tool"]);
    const failedTool = toolSpans.find((span) => span.name === "exec");
    expect(attribute(failedTool, "langfuse.observation.level")).toBe("ERROR");
    expect(
      attribute(
        toolSpans.find((span) => span.name === "web_search"),
        "session.id",
      ),
    ).not.toBe(attribute(root, "session.id"));

    // the provider error: ERROR on the generation and on the root
    const errorSpans = spansOf("lf-error");
    const failedGeneration = errorSpans.find((span) => typeOf(span) === "generation");
    expect(attribute(failedGeneration, "langfuse.observation.level")).toBe("ERROR");
    expect(attribute(failedGeneration, "langfuse.observation.status_message")).toBe(
      "invalid_request: the provider rejected the request (HTTP 400)",
    );
    expect(
      attribute(
        errorSpans.find((span) => typeOf(span) === "agent"),
        "langfuse.observation.level",
      ),
    ).toBe("ERROR");

    // scores: batched score-create events, Basic auth, stable ids, the trace they name
    const scores = sentScores();
    for (const item of scoreRequests())
      expect(item.headers.authorization).toBe(request?.headers.authorization);
    const outcomeOf = (runId: string) =>
      scores.find((score) => score.name === "turn.outcome" && score.traceId === toLangfuseTraceId(runId));
    expect(outcomeOf("lf-plain")).toEqual({
      id: toStableUuid("score", "lf-plain", "turn.outcome"),
      traceId: toLangfuseTraceId("lf-plain"),
      name: "turn.outcome",
      value: "success",
      dataType: "CATEGORICAL",
      environment: "contract",
    });
    expect(outcomeOf("lf-error")).toMatchObject({ value: "error" });
    for (const score of scores) {
      expect(typeof score.name).toBe("string");
      expect(["BOOLEAN", "CATEGORICAL", "NUMERIC"]).toContain(score.dataType);
      expect(typeof score.value).toBe(score.dataType === "CATEGORICAL" ? "string" : "number");
    }
  });

  it("reports a wrong secret key in one line naming it, keeps the data, and delivers after the fix", async () => {
    const host = await startGateway({ secretKey: "sk-lf-wrong-secret-0000" });
    await replayTurn(host, { runId: "lf-auth-1" });
    // either pipeline may meet the refusal first; the other then waits without sending
    await waitFor(() => receiver.requests.some((request) => request.status === 401), 15_000);
    await waitFor(() => host.logs.messages("error").some((line) => line.includes("secretKey")), 5_000);
    const errors = host.logs.messages("error").filter((line) => /secretKey|publicKey/.test(line));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("secretKey does not match publicKey pk-lf-…1234");
    const everything = host.logs.lines.map((line) => line.message).join("\n");
    expect(everything).not.toContain("sk-lf-wrong-secret-0000");
    expect(everything).not.toContain(PUBLIC_KEY);
    expect(spansOf("lf-auth-1")).toEqual([]);

    await host.reloadConfig({
      publicKey: PUBLIC_KEY,
      secretKey: SECRET_KEY,
      baseUrl: receiver.url,
      flushIntervalMs: 100,
      settleMs: 50,
    });
    await waitFor(() => spansOf("lf-auth-1").length >= 2, 15_000);
    await waitFor(() => scoreRequests().some((request) => request.status === 207), 15_000);
  });

  it("keeps what Langfuse could not take across a restart and delivers each span once", async () => {
    const host = await startGateway({});
    await receiver.down();
    await replayTurn(host, { runId: "lf-down", tools: [{ toolName: "exec" }] });
    // the turn settles and its spans reach the pipeline before the gateway stops
    await new Promise((resolve) => setTimeout(resolve, 400));
    await host.stopServices();
    expect(spansOf("lf-down")).toEqual([]);
    await receiver.up();
    await host.startServices();
    await waitFor(() => spansOf("lf-down").length >= 3, 15_000);
    await waitFor(() => scoreRequests().length >= 1, 15_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const ids = spansOf("lf-down").map((span) => span.spanId);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(3);
  });

  it("names the public key when Langfuse does not know it", async () => {
    const host = await startGateway({ publicKey: "pk-lf-unknown-key-5555" });
    await replayTurn(host, { runId: "lf-auth-2" });
    await waitFor(() => host.logs.messages("error").some((line) => line.includes("publicKey")), 15_000);
    const errors = host.logs.messages("error").filter((line) => /secretKey|publicKey/.test(line));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("does not know publicKey pk-lf-…5555");
    expect(errors[0]).not.toContain(SECRET_KEY);
  });

  it("scores a stuck session once per hour, on the hashed session id", async () => {
    const host = await startGateway({});
    const stuck = {
      type: "session.stuck",
      sessionKey: "agent:main:s9",
      state: "processing",
      ageMs: 600_000,
      classification: "stale_session_state",
    };
    emitTrustedDiagnosticEvent(stuck as never);
    emitTrustedDiagnosticEvent({
      ...stuck,
      type: "session.stalled",
      classification: "stalled_agent_run",
    } as never);
    await waitForDiagnosticEventsDrained();
    await waitFor(() => scoreRequests().length >= 1, 15_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const scores = sentScores();
    expect(scores).toHaveLength(1);
    expect(scores[0]).toMatchObject({ name: "session.stuck", value: 1, dataType: "BOOLEAN" });
    expect(scores[0]?.sessionId).toMatch(/^[0-9a-f]{32}$/);
    expect(scores[0]).not.toHaveProperty("traceId");
    expect(host.logs.messages("error")).toEqual([]);
  });

  it("disables itself with one line naming a missing or swapped key", async () => {
    const missing = await startGateway({ publicKey: undefined, secretKey: undefined });
    const missingLines = missing.logs.messages("error");
    expect(missingLines.some((line) => /"publicKey" is required.*LANGFUSE_PUBLIC_KEY/.test(line))).toBe(true);
    const swapped = await startGateway({ publicKey: SECRET_KEY, secretKey: PUBLIC_KEY });
    const swappedLines = swapped.logs.messages("error");
    expect(swappedLines.some((line) => line.includes('"secretKey" holds a public key'))).toBe(true);
    expect(swappedLines.join("\n")).not.toContain(SECRET_KEY);
  });
});

describe("a baseUrl that carries a password", () => {
  it("disables the extension with one line, and no status, health file or log line shows the password", async () => {
    const host = await startGateway({
      baseUrl: `http://admin:hunter2-top-secret@127.0.0.1:${receiver.port}`,
    });
    const status = (await host.callGatewayMethod("clawscope-langfuse.status")).payload as {
      state: string;
      disabledReason?: string;
    };
    expect(status.state).toBe("disabled");
    expect(status.disabledReason).toContain("admin:***@127.0.0.1");
    const { readFile } = await import("node:fs/promises");
    const health = await readFile(`${host.stateDir}/plugins/clawscope-langfuse/health.json`, "utf8");
    expect(health).toContain("admin:***@");
    for (const text of [JSON.stringify(status), health, ...host.logs.messages()]) {
      expect(text).not.toContain("hunter2");
    }
  });
});
