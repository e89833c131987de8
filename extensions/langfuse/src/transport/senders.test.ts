import { createExportPipeline, type ExportItem, toHttpSendResult } from "@clawscope/kit";
import type { TurnExport } from "@clawscope/kit/otlp";
import {
  createHttpReceiver,
  createLangfuseReceiver,
  decodeOtlpRequest,
  type HttpReceiver,
  type LangfuseReceiver,
  waitFor,
} from "@clawscope/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ScoreBody } from "../mapping/to-scores.js";
import { createAuthGate, describeAuthFailure } from "./auth-failure.js";
import { createScoreSender } from "./score-sender.js";
import { createTraceSender } from "./trace-sender.js";

const KEYS = { publicKey: "pk-lf-sender-test-9999", secretKey: "sk-lf-sender-secret" };
let receiver: HttpReceiver;

beforeAll(async () => {
  receiver = await createHttpReceiver();
});
afterAll(async () => {
  await receiver.close();
});
beforeEach(() => {
  receiver.reset();
  receiver.clearRequests();
});

const signal = () => new AbortController().signal;
const item = <T>(id: string, payload: T): ExportItem<T> => ({ id, payload, enqueuedAt: 0 });
const score = (id: string, name = "turn.outcome"): ScoreBody => ({
  id,
  name,
  value: "success",
  dataType: "CATEGORICAL",
  traceId: "a".repeat(32),
});
const span = (spanId: string): TurnExport => ({
  id: spanId,
  spans: [
    {
      traceId: "b".repeat(32),
      spanId,
      name: "chat",
      kind: "internal",
      startTimeMs: 1_795_000_000_000,
      endTimeMs: 1_795_000_000_500,
      attributes: { "langfuse.observation.type": "generation" },
      status: { code: "unset" },
    },
  ],
  logs: [],
});

function senders() {
  const authGate = createAuthGate({ ...KEYS, baseUrl: receiver.url });
  const common = { ...KEYS, baseUrl: receiver.url, authGate, timeoutMs: 2000, userAgent: "test" };
  return {
    authGate,
    traces: createTraceSender({ ...common, resourceAttributes: { "service.name": "openclaw-gateway" } }),
    scores: createScoreSender(common),
  };
}

describe("score sender", () => {
  let langfuse: LangfuseReceiver;
  beforeAll(async () => {
    langfuse = await createLangfuseReceiver(KEYS);
  });
  afterAll(async () => {
    await langfuse.close();
  });
  beforeEach(() => langfuse.clear());
  const contractSender = () => {
    const authGate = createAuthGate({ ...KEYS, baseUrl: langfuse.url });
    return createScoreSender({
      ...KEYS,
      baseUrl: langfuse.url,
      authGate,
      timeoutMs: 2000,
      userAgent: "test",
    });
  };

  it("sends a batch as score-create events in one ingestion request, each stored as sent", async () => {
    const scores = contractSender();
    const bodies = Array.from({ length: 120 }, (_, index) =>
      score(`id-${index}`, index % 2 ? "tool.loop" : "turn.outcome"),
    );
    const result = await scores.send(
      bodies.map((body, index) => item(String(index), body)),
      signal(),
    );
    expect(result).toEqual({ kind: "ok" });
    expect(langfuse.requests.map((request) => [request.path, request.status, request.eventCount])).toEqual([
      ["/api/public/ingestion", 207, 120],
    ]);
    expect(langfuse.rejectedScores).toEqual([]);
    expect(langfuse.scores.map((stored) => stored.body)).toEqual(bodies);
    expect(langfuse.requests[0]?.headers).toMatchObject({
      "content-type": "application/json",
      "x-langfuse-sdk-name": "javascript",
      "x-langfuse-public-key": KEYS.publicKey,
    });
    expect(langfuse.requests[0]?.authorization).toEqual({ scheme: "Basic", publicKey: KEYS.publicKey });
    expect(scores.stats()).toMatchObject({ requests: 1, accepted: 120, invalidDropped: 0 });
  });

  it("a re-sent batch updates the same scores (new event ids, same score ids), never doubles them", async () => {
    const scores = contractSender();
    const batch = [item("1", score("same-1")), item("2", score("same-2"))];
    await scores.send(batch, signal());
    await scores.send(batch, signal());
    expect(langfuse.rejectedScores).toEqual([]);
    expect(langfuse.scores).toHaveLength(2);
    expect(langfuse.duplicateScoreWrites).toBe(2);
  });

  it("hands an event Langfuse refuses back to the pipeline alone (dead letter); the rest are delivered", async () => {
    const scores = contractSender();
    const bad: ScoreBody = { ...score("bad"), dataType: "BOOLEAN", value: 5 };
    const result = await scores.send([item("1", bad), item("2", score("good"))], signal());
    expect(result).toMatchObject({ kind: "ok", rejected: [{ id: "1" }] });
    expect(result.kind === "ok" && result.rejected?.[0]?.reason).toMatch(/^scores: event refused with 400/);
    expect(langfuse.scores.map((stored) => stored.id)).toEqual(["good"]);
    expect(scores.stats()).toMatchObject({ accepted: 1, invalidDropped: 1 });
  });

  it("sends the batch again when an event fails on the server, the answer cannot be read, or the request fails", async () => {
    const { scores } = senders();
    receiver.respondWith(
      { status: 207, body: JSON.stringify({ successes: [], errors: [{ id: "x", status: 500 }] }) },
      1,
    );
    expect(await scores.send([item("1", score("a"))], signal())).toMatchObject({ kind: "retry" });
    receiver.respondWith({ status: 207, body: "<html>proxy</html>" }, 1);
    expect(await scores.send([item("1", score("a"))], signal())).toMatchObject({
      kind: "retry",
      reason: expect.stringContaining("unreadable ingestion answer"),
    });
    receiver.respondWith({ status: 503, headers: { "retry-after": "7" } }, 1);
    expect(await scores.send([item("3", score("later"))], signal())).toMatchObject({
      kind: "retry",
      retryAfterMs: 7000,
    });
    receiver.respondWith({ status: 413 }, 1);
    expect(await scores.send([item("4", score("big"))], signal())).toMatchObject({ kind: "too-large" });
  });

  it("turns a 401 into one clear auth result; the other sender then waits without a request", async () => {
    const { scores, traces, authGate } = senders();
    receiver.respondWith({
      status: 401,
      body: `{"message":"Invalid credentials. Confirm that you've configured the correct host."}`,
    });
    const result = await scores.send([item("1", score("s"))], signal());
    expect(result.kind).toBe("auth");
    expect(result.kind === "auth" && result.reason).toContain(
      "secretKey does not match publicKey pk-lf-…9999",
    );
    const before = receiver.requests.length;
    const waiting = await traces.send([item("x", span("1".repeat(16)))], signal());
    expect(waiting).toMatchObject({ kind: "retry" });
    expect(receiver.requests.length).toBe(before);
    expect(authGate.lastMessage()).toContain("secretKey");
  });
});

describe("trace sender through the kit's pipeline", () => {
  it("delivers every span once after 500s and a 429 with Retry-After", async () => {
    const { traces } = senders();
    const script = [{ status: 500 }, { status: 500 }, { status: 429, headers: { "retry-after": "1" } }];
    receiver.setDefaultAnswer(() => script.shift() ?? { status: 200, body: "{}" });
    const pipeline = createExportPipeline<TurnExport>({
      name: "test-traces",
      send: traces.send,
      flushIntervalMs: 20,
      // Retry-After is honoured up to the ceiling: here above the 1 s the backend asks for
      retry: { initialDelayMs: 10, maxDelayMs: 1500 },
    });
    pipeline.start();
    for (const id of ["1", "2", "3"]) pipeline.enqueue(id, span(id.repeat(16)));
    await waitFor(() => receiver.requests.some((request) => request.status === 200), 10_000);
    await pipeline.stop({ timeoutMs: 1000 });
    const statuses = receiver.requests.map((request) => request.status);
    expect(statuses).toEqual([500, 500, 429, 200]);
    const after429 = receiver.requests[3]?.receivedAt ?? 0;
    expect(after429 - (receiver.requests[2]?.receivedAt ?? 0)).toBeGreaterThanOrEqual(900);
    const delivered = decodeOtlpRequest(
      "traces",
      receiver.requests[3]?.body ?? Buffer.alloc(0),
      "application/json",
    );
    expect(delivered.spans.map((item) => item.spanId).sort()).toEqual([
      "1".repeat(16),
      "2".repeat(16),
      "3".repeat(16),
    ]);
    expect(delivered.spans[0]?.scope).toMatchObject({ name: "langfuse-sdk", version: "5.11.1" });
    expect(receiver.requests[3]?.path).toBe("/api/public/otel/v1/traces");
  });
});

describe("auth failure messages", () => {
  const base = { ...KEYS, baseUrl: "https://cloud.langfuse.com" };
  it("names the public key when Langfuse says it does not know it, else the secret key", () => {
    const unknown = describeAuthFailure({ ...base, status: 401, body: '{"message":"Invalid public key"}' });
    expect(unknown).toContain("does not know publicKey pk-lf-…9999");
    const wrongSecret = describeAuthFailure({ ...base, status: 401, body: "Invalid credentials" });
    expect(wrongSecret).toContain("rejected secretKey");
    expect(describeAuthFailure({ ...base, status: 403, body: "" })).toContain(
      "refused publicKey pk-lf-…9999",
    );
    // an answer echoing the keys never brings them into the line
    const echoed = describeAuthFailure({
      ...base,
      status: 401,
      body: `bad pair ${KEYS.publicKey}:${KEYS.secretKey}`,
    });
    expect(echoed).not.toContain(KEYS.secretKey);
    expect(echoed).not.toContain(KEYS.publicKey);
    // the sender hands the gate the status and the answer as fields, never as text to parse back
    expect(toHttpSendResult("OTLP traces", 403, {}, "no access")).toEqual({
      kind: "auth",
      reason: "OTLP traces: HTTP 403 (no access)",
      failure: { status: 403, bodyExcerpt: "no access" },
    });
  });

  it("reports again once the window has passed, and not before", () => {
    let now = 0;
    const gate = createAuthGate({ ...base, windowMs: 1000, now: () => now });
    expect(gate.refused(401, "").kind).toBe("auth");
    now = 500;
    expect(gate.refused(401, "").kind).toBe("retry");
    expect(gate.waiting()).toMatchObject({ kind: "retry", retryAfterMs: 1000 });
    now = 1500;
    expect(gate.waiting()).toBeUndefined();
    expect(gate.refused(401, "").kind).toBe("auth");
    gate.accepted();
    expect(gate.waiting()).toBeUndefined();
  });
});
