import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type CapturedLogger,
  createCapturedLogger,
  createHttpReceiver,
  decodeOtlpRequest,
  type HttpReceiver,
  waitFor,
} from "../../../testing/src/index.js";
import { createExportPipeline, type ExportItem } from "../index.js";
import { createOtlpSender, type OtlpSenderOptions } from "./http-sender.js";
import type { SpanRecord, TurnExport } from "./records.js";

const SECRET = "Bearer s3cr3t-token-value";
const START = 1_763_798_400_000;

function spanOf(turn: number, index: number, extra: Partial<SpanRecord> = {}): SpanRecord {
  return {
    traceId: turn.toString(16).padStart(32, "a"),
    spanId: (turn * 100 + index + 1).toString(16).padStart(16, "b"),
    name: `span ${turn}.${index}`,
    kind: "internal",
    startTimeMs: START + index,
    endTimeMs: START + index + 5,
    attributes: { "gen_ai.operation.name": index === 0 ? "invoke_agent" : "chat" },
    status: { code: "unset" },
    ...extra,
  };
}

function turnItem(turn: number, spanCount = 2, withLog = true): ExportItem<TurnExport> {
  const spans = Array.from({ length: spanCount }, (_, index) => spanOf(turn, index));
  const logs = withLog
    ? [
        {
          timeMs: START + 10,
          severity: "INFO" as const,
          body: `turn ${turn} done`,
          attributes: { "openclaw.outcome": "ok" },
          traceId: spans[0]?.traceId,
          spanId: spans[0]?.spanId,
        },
      ]
    : [];
  return { id: `turn-${turn}`, enqueuedAt: START, payload: { id: `turn-${turn}`, spans, logs } };
}

const live = new AbortController().signal;

describe("createOtlpSender against an HTTP receiver", () => {
  let receiver: HttpReceiver;
  let captured: CapturedLogger;
  const senderFor = (options: Partial<OtlpSenderOptions> = {}) =>
    createOtlpSender({
      url: receiver.url,
      headers: { authorization: SECRET, "x-tenant": "team-a" },
      resourceAttributes: { "service.name": "openclaw-gateway" },
      scopeVersion: "0.1.0",
      name: "clawscope-otel",
      logger: captured.logger,
      ...options,
    });

  beforeEach(async () => {
    receiver = await createHttpReceiver();
    captured = createCapturedLogger();
  });
  afterEach(async () => {
    await receiver.close();
    // header values are secrets: no log line may carry one, whatever happened in the test
    for (const message of captured.messages()) expect(message).not.toContain("s3cr3t");
  });

  it("posts all spans of a batch in one protobuf request with the headers", async () => {
    const sender = senderFor();
    const result = await sender.sendTraces([turnItem(1), turnItem(2, 3)], live);
    expect(result).toEqual({ kind: "ok" });
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(request?.method).toBe("POST");
    expect(request?.path).toBe("/v1/traces");
    expect(request?.headers["content-type"]).toBe("application/x-protobuf");
    expect(request?.headers.authorization).toBe(SECRET);
    expect(request?.headers["x-tenant"]).toBe("team-a");
    expect(request?.headers["user-agent"]).toBe("clawscope-otel");
    const { spans } = decodeOtlpRequest(
      "traces",
      request?.body ?? Buffer.alloc(0),
      request?.headers["content-type"],
    );
    expect(spans.map((span) => span.name)).toEqual([
      "span 1.0",
      "span 1.1",
      "span 2.0",
      "span 2.1",
      "span 2.2",
    ]);
    expect(spans[0]?.resource["service.name"]).toBe("openclaw-gateway");
    expect(sender.stats().traces).toMatchObject({ requests: 1, accepted: 1, exportedRecords: 5 });
  });

  it("sends OTLP/JSON with its content type when asked", async () => {
    const sender = senderFor({ protocol: "http/json" });
    expect(await sender.sendTraces([turnItem(1)], live)).toEqual({ kind: "ok" });
    const [request] = receiver.requests;
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(request?.json).toHaveProperty("resourceSpans");
    const { spans } = decodeOtlpRequest("traces", request?.body ?? Buffer.alloc(0), "application/json");
    expect(spans.map((span) => span.spanId)).toEqual([spanOf(1, 0).spanId, spanOf(1, 1).spanId]);
  });

  it("gzips bodies above 1 KiB and leaves small ones alone; compression none never gzips", async () => {
    const sender = senderFor();
    await sender.sendTraces([turnItem(1, 1)], live);
    await sender.sendTraces([turnItem(2, 40)], live);
    await senderFor({ compression: "none" }).sendTraces([turnItem(3, 40)], live);
    const [small, large, plain] = receiver.requests;
    expect(small?.headers["content-encoding"]).toBeUndefined();
    expect(large?.headers["content-encoding"]).toBe("gzip");
    expect(large && large.rawBody.length < large.body.length).toBe(true);
    expect(decodeOtlpRequest("traces", large?.body ?? Buffer.alloc(0)).spans).toHaveLength(40);
    expect(plain?.headers["content-encoding"]).toBeUndefined();
    expect(decodeOtlpRequest("traces", plain?.body ?? Buffer.alloc(0)).spans).toHaveLength(40);
  });

  it("posts log records to /v1/logs, and sends nothing for turns without logs", async () => {
    const sender = senderFor();
    expect(await sender.sendLogs([turnItem(1, 2, false)], live)).toEqual({ kind: "ok" });
    expect(receiver.requests).toHaveLength(0);
    expect(await sender.sendLogs([turnItem(1), turnItem(2)], live)).toEqual({ kind: "ok" });
    const [request] = receiver.requests;
    expect(request?.path).toBe("/v1/logs");
    const { logs } = decodeOtlpRequest(
      "logs",
      request?.body ?? Buffer.alloc(0),
      request?.headers["content-type"],
    );
    expect(logs.map((log) => log.body)).toEqual(["turn 1 done", "turn 2 done"]);
    expect(logs[0]?.traceId).toBe(spanOf(1, 0).traceId);
  });

  it("classifies the backend's answers for the pipeline", async () => {
    const sender = senderFor();
    const send = () => sender.sendTraces([turnItem(1)], live);
    receiver.respondWith({ status: 400, body: "span has no name\nsecond line" }, 1);
    expect(await send()).toEqual({
      kind: "reject",
      reason: "OTLP traces: HTTP 400 (span has no name second line)",
      failure: { status: 400, bodyExcerpt: "span has no name second line" },
    });
    receiver.respondWith({ status: 413 }, 1);
    expect(await send()).toMatchObject({ kind: "too-large" });
    receiver.respondWith({ status: 429, headers: { "retry-after": "7" } }, 1);
    expect(await send()).toEqual({
      kind: "retry",
      reason: "OTLP traces: HTTP 429",
      retryAfterMs: 7000,
      failure: { status: 429, retryAfterMs: 7000 },
    });
    receiver.respondWith({ status: 500 }, 1);
    expect(await send()).toEqual({
      kind: "retry",
      reason: "OTLP traces: HTTP 500",
      failure: { status: 500 },
    });
    receiver.respondWith({ status: 503 }, 1);
    expect(await send()).toEqual({
      kind: "retry",
      reason: "OTLP traces: HTTP 503",
      failure: { status: 503 },
    });
    receiver.respondWith({ status: 401 }, 1);
    expect(await send()).toMatchObject({ kind: "auth" });
    await receiver.down();
    const down = await send();
    expect(down).toMatchObject({
      kind: "retry",
      failure: { cause: expect.stringContaining("ECONNREFUSED") },
    });
    expect(down.kind === "retry" && down.reason).toMatch(
      /^OTLP traces: fetch failed: connect ECONNREFUSED 127\.0\.0\.1:\d+$/,
    );
    expect(sender.stats().traces).toMatchObject({ requests: 7, accepted: 0, exportedRecords: 0 });
  });

  it("puts a backend's raw bytes into a log line only escaped: no NUL or terminal escape reaches the log", async () => {
    const pipeline = createExportPipeline<TurnExport>({
      name: "otlp-traces",
      send: senderFor().sendTraces,
      flushIntervalMs: 20,
      retry: { initialDelayMs: 5, maxDelayMs: 20 },
      logger: captured.logger,
    });
    receiver.respondWith({ status: 400, body: "bad\u0000span\u001b[2J\u001b[31mred\r\nforged: line" }, 1);
    pipeline.start();
    pipeline.enqueue("t1", turnItem(1).payload);
    await pipeline.flush();
    await pipeline.stop({ timeoutMs: 200 });
    const lines = captured.messages().filter((line) => line.includes("refused"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("bad\\u0000span\\u001b[2J\\u001b[31mred forged: line");
    for (const line of captured.messages()) {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what is looked for
      expect(line).not.toMatch(/[\u0000-\u001f]/);
    }
    expect(pipeline.stats().lastError?.message).not.toContain(String.fromCharCode(0));
  });

  it("gives up on a request that does not answer within timeoutMs, as a retry", async () => {
    receiver.setDelay(Number.POSITIVE_INFINITY);
    const result = await senderFor({ timeoutMs: 150 }).sendTraces([turnItem(1)], live);
    expect(result).toEqual({
      kind: "retry",
      reason: "OTLP traces: timed out after 150 ms",
      failure: { cause: "timed out after 150 ms" },
    });
  });

  it("counts and logs OTLP partial success (JSON answer) but reports ok", async () => {
    const sender = senderFor({ protocol: "http/json" });
    receiver.respondWith(
      {
        status: 200,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ partialSuccess: { rejectedSpans: "2", errorMessage: "2 spans had no name" } }),
      },
      1,
    );
    expect(await sender.sendTraces([turnItem(1, 3)], live)).toEqual({ kind: "ok" });
    expect(sender.stats().traces).toMatchObject({
      accepted: 1,
      exportedRecords: 3,
      partiallyRejected: 2,
      lastPartialError: "2 spans had no name",
    });
    expect(captured.messages("warn")).toEqual([
      "clawscope-otel: OTLP traces: the backend accepted the request but rejected 2 of 3 spans: 2 spans had no name",
    ]);
  });

  it("reads partial success from a protobuf answer", async () => {
    const sender = senderFor();
    // ExportLogsServiceResponse { partial_success { rejected_log_records: 1, error_message: "bad" } }
    const body = Buffer.from([0x0a, 0x07, 0x08, 0x01, 0x12, 0x03, ...Buffer.from("bad")]);
    receiver.respondWith({ status: 200, headers: { "content-type": "application/x-protobuf" }, body }, 1);
    expect(await sender.sendLogs([turnItem(1)], live)).toEqual({ kind: "ok" });
    expect(sender.stats().logs).toMatchObject({ partiallyRejected: 1, lastPartialError: "bad" });
  });

  it("uses a per-signal endpoint as given and moves URL credentials into a Basic header", async () => {
    const sender = createOtlpSender({
      url: "http://127.0.0.1:1",
      endpoints: { traces: `http://collector:pa%40ss@127.0.0.1:${receiver.port}/custom/traces` },
    });
    expect(sender.endpoints.traces).toBe(`http://127.0.0.1:${receiver.port}/custom/traces`);
    expect(sender.endpoints.logs).toBe("http://127.0.0.1:1/v1/logs");
    expect(await sender.sendTraces([turnItem(1)], live)).toEqual({ kind: "ok" });
    const [request] = receiver.requests;
    expect(request?.path).toBe("/custom/traces");
    expect(request?.headers.authorization).toBe(`Basic ${Buffer.from("collector:pa@ss").toString("base64")}`);
  });

  it("checks only the signals it serves: no error line for another sender's signal", async () => {
    const sender = createOtlpSender({
      signals: ["traces"],
      endpoints: { traces: `${receiver.url}/v1/traces` },
      logger: captured.logger,
    });
    expect(captured.messages()).toEqual([]);
    expect(sender.endpoints).toEqual({ traces: `${receiver.url}/v1/traces`, metrics: "", logs: "" });
    expect(await sender.sendTraces([turnItem(1)], live)).toEqual({ kind: "ok" });
    expect(await sender.sendLogs([turnItem(1)], live)).toEqual({
      kind: "reject",
      reason: "OTLP logs endpoint is not usable: not served by this sender",
      failure: { cause: "not served by this sender" },
    });
    const unserved = createOtlpSender({ signals: ["logs"], url: "not a url", logger: captured.logger });
    expect(unserved.endpoints.logs).toBe("");
    expect(captured.messages()).toEqual([
      expect.stringContaining("OTLP logs endpoint is not usable: not a valid URL"),
    ]);
  });

  it("rejects (never throws) when the endpoint is unusable, and names the bad header without its value", async () => {
    const sender = createOtlpSender({
      url: "not a url",
      headers: { "bad header": SECRET },
      logger: captured.logger,
    });
    expect(await sender.sendTraces([turnItem(1)], live)).toEqual({
      kind: "reject",
      reason: "OTLP traces endpoint is not usable: not a valid URL",
      failure: { cause: "not a valid URL" },
    });
    expect(captured.messages().join("\n")).toContain('OTLP header "bad header" is not a valid HTTP header');
  });

  it("leaves out invalid spans and tolerates garbage payloads from a spool", async () => {
    const sender = senderFor();
    const garbage = [
      { id: "x", enqueuedAt: 0, payload: null },
      { id: "y", enqueuedAt: 0, payload: { spans: "nope" } },
    ] as unknown as ExportItem<TurnExport>[];
    const invalid = turnItem(2);
    invalid.payload.spans.push({ ...spanOf(2, 5), spanId: "not-an-id" });
    expect(await sender.sendTraces([...garbage, invalid], live)).toEqual({ kind: "ok" });
    expect(decodeOtlpRequest("traces", receiver.requests[0]?.body ?? Buffer.alloc(0)).spans).toHaveLength(2);
    expect(sender.stats().traces.invalidDropped).toBe(1);
  });

  it("delivers through the kit pipeline once the backend recovers from an outage", async () => {
    const sender = senderFor();
    const pipeline = createExportPipeline<TurnExport>({
      name: "otlp-traces",
      send: sender.sendTraces,
      flushIntervalMs: 20,
      retry: { initialDelayMs: 20, maxDelayMs: 50 },
    });
    pipeline.start();
    await receiver.down();
    for (const turn of [1, 2, 3]) pipeline.enqueue(`turn-${turn}`, turnItem(turn).payload);
    await waitFor(() => pipeline.stats().retried > 0, 5000, { message: "a failed attempt" });
    await receiver.up();
    await waitFor(() => pipeline.stats().exported === 3, 5000, { message: "all three turns exported" });
    await pipeline.stop({ timeoutMs: 1000 });
    const traceIds = receiver.requests
      .filter((request) => request.status === 200)
      .flatMap((request) => decodeOtlpRequest("traces", request.body).spans.map((span) => span.traceId));
    expect(new Set(traceIds)).toEqual(new Set([1, 2, 3].map((turn) => spanOf(turn, 0).traceId)));
  });
});
