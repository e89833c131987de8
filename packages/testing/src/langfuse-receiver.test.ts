import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LANGFUSE_AUTH_MESSAGES, toLangfuseBasicAuth } from "./langfuse-auth.js";
import { createLangfuseReceiver } from "./langfuse-receiver.js";
import type { LangfuseReceiver } from "./langfuse-receiver-types.js";
import { loadLangfuseSdkExport } from "./langfuse-reference.js";
import { otlpRequestMessage } from "./otlp-decoder.js";

const TRACES = "/api/public/otel/v1/traces";
const SCORES = "/api/public/scores";
const INGESTION = "/api/public/ingestion";
const TRACE_ID = "5b8efff798038103d269b633813fc60c";

const sdkExport = loadLangfuseSdkExport();

function exportBody(spans: Record<string, unknown>[]): Record<string, unknown> {
  return {
    resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: "test" }, spans }] }],
  };
}

function goodSpan(spanId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    traceId: TRACE_ID,
    spanId,
    name: `span-${spanId}`,
    kind: 1,
    startTimeUnixNano: "1700000000000000000",
    endTimeUnixNano: "1700000001000000000",
    attributes: [{ key: "langfuse.observation.type", value: { stringValue: "span" } }],
    ...extra,
  };
}

function encodeTraces(object: Record<string, unknown>): Uint8Array {
  const message = otlpRequestMessage("traces") as unknown as {
    fromObject: (value: unknown) => unknown;
    encode: (message: unknown) => { finish: () => Uint8Array };
  };
  return message.encode(message.fromObject(object)).finish();
}

describe("createLangfuseReceiver", () => {
  let receiver: LangfuseReceiver;
  beforeEach(async () => {
    receiver = await createLangfuseReceiver({ publicKey: "pk-lf-right", secretKey: "sk-lf-right" });
  });
  afterEach(async () => {
    await receiver.close();
  });

  const post = (path: string, body: string | Uint8Array, headers: Record<string, string> = {}) =>
    fetch(`${receiver.url}${path}`, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        authorization: receiver.authorizationHeader,
        ...headers,
      },
    });
  const postJson = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    post(path, JSON.stringify(body), headers);

  describe("auth", () => {
    it("tells an unknown public key from a wrong secret key, in Langfuse's words", async () => {
      const unknownKey = await postJson(TRACES, exportBody([goodSpan("00000000000000a1")]), {
        authorization: toLangfuseBasicAuth({ publicKey: "pk-lf-other", secretKey: "sk-lf-right" }),
      });
      expect(unknownKey.status).toBe(401);
      expect(await unknownKey.json()).toEqual({
        message: "Invalid public key. Confirm that you've configured the correct host.",
      });
      const wrongSecret = await postJson(
        SCORES,
        { traceId: "t", name: "n", value: 1 },
        {
          authorization: toLangfuseBasicAuth({ publicKey: "pk-lf-right", secretKey: "sk-lf-wrong" }),
        },
      );
      expect(wrongSecret.status).toBe(401);
      expect(await wrongSecret.json()).toEqual({
        message: "Invalid credentials. Confirm that you've configured the correct host.",
      });
      const none = await fetch(`${receiver.url}${TRACES}`, { method: "POST", body: "{}" });
      expect(await none.json()).toEqual({ message: LANGFUSE_AUTH_MESSAGES.missingHeader });
      expect(receiver.spans).toHaveLength(0);
      expect(receiver.scores).toHaveLength(0);
    });

    it("records requests without the Authorization value, naming the public key used", async () => {
      await postJson(TRACES, exportBody([goodSpan("00000000000000a1")]), { "x-trace": "1" });
      const [record] = receiver.requests;
      expect(record).toMatchObject({
        method: "POST",
        path: TRACES,
        endpoint: "traces",
        status: 200,
        outcome: "accepted",
        spanCount: 1,
        authorization: { scheme: "Basic", publicKey: "pk-lf-right" },
      });
      expect(record?.headers["x-trace"]).toBe("1");
      expect(JSON.stringify(receiver.requests)).not.toContain(receiver.authorizationHeader.slice(6));
      expect(JSON.stringify(receiver.requests)).not.toContain("sk-lf-right");
    });

    it("accepts new keys after setCredentials and refuses the old ones", async () => {
      const oldHeader = receiver.authorizationHeader;
      receiver.setCredentials({ publicKey: "pk-lf-new", secretKey: "sk-lf-new" });
      expect((await postJson(TRACES, exportBody([]), { authorization: oldHeader })).status).toBe(401);
      expect((await postJson(TRACES, exportBody([]))).status).toBe(200);
    });
  });

  describe("traces", () => {
    it("accepts the official SDK's export and maps it to Langfuse's trace", async () => {
      for (const request of sdkExport) {
        const response = await postJson(request.url, request.body);
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({});
      }
      expect(receiver.spans).toHaveLength(3);
      const [view] = receiver.observations();
      expect(view?.trace).toMatchObject({
        userId: "u1",
        sessionId: "s1",
        tags: ["gw-a"],
        environment: "test",
      });
      expect(view?.observations.map((observation) => observation.type).sort()).toEqual([
        "agent",
        "generation",
        "tool",
      ]);
    });

    it("rejects the whole export with 400 when one span has an invalid id", async () => {
      const response = await postJson(
        TRACES,
        exportBody([
          goodSpan("00000000000000a1"),
          goodSpan("00000000000000a2", { traceId: "00000000000000000000000000000000" }),
          goodSpan("00000000000000a3"),
        ]),
      );
      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: string };
      expect(body.error).toMatch(/1 of 3 span\(s\) cannot be processed \(traceId:all_zero\)/);
      expect(receiver.spans).toHaveLength(0);
      expect(receiver.rejectedExports[0]?.reasons).toEqual(["traceId:all_zero"]);
      expect(receiver.requests[0]).toMatchObject({ status: 400, outcome: "rejected" });
    });

    it("rejects the whole export with 400 when attributes are an object instead of an array", async () => {
      const response = await postJson(
        TRACES,
        exportBody([goodSpan("00000000000000a1"), goodSpan("00000000000000a2", { attributes: { a: 1 } })]),
      );
      expect(response.status).toBe(400);
      expect(receiver.spans).toHaveLength(0);
      expect(receiver.rejectedExports[0]?.reasons).toEqual(["attributes:not_an_array"]);
      const spansObject = await postJson(TRACES, {
        resourceSpans: [{ scopeSpans: [{ spans: { 0: goodSpan("00000000000000a1") } }] }],
      });
      expect(spansObject.status).toBe(400);
      expect(receiver.rejectedExports[1]?.reasons).toEqual(["spans:not_an_array"]);
    });

    it("accepts gzip-compressed JSON", async () => {
      const body = gzipSync(Buffer.from(JSON.stringify(exportBody([goodSpan("00000000000000a1")]))));
      const response = await post(TRACES, body, { "content-encoding": "gzip" });
      expect(response.status).toBe(200);
      expect(receiver.spans[0]).toMatchObject({ traceId: TRACE_ID, spanId: "00000000000000a1" });
      const broken = await post(TRACES, "not gzip", { "content-encoding": "gzip" });
      expect(broken.status).toBe(400);
      expect(await broken.json()).toEqual({ error: "Failed to decompress request body" });
    });

    it("accepts protobuf (plain and gzip) and checks its ids by byte length", async () => {
      const hex = (value: string) => Buffer.from(value, "hex");
      const protobuf = encodeTraces(
        exportBody([
          goodSpan("00000000000000a1", { traceId: hex(TRACE_ID), spanId: hex("00000000000000a1") }),
        ]),
      );
      const headers = { "content-type": "application/x-protobuf" };
      expect((await post(TRACES, protobuf, headers)).status).toBe(200);
      expect(
        (await post(TRACES, gzipSync(protobuf), { ...headers, "content-encoding": "gzip" })).status,
      ).toBe(200);
      expect(receiver.spans.map((span) => [span.traceId, span.spanId, span.name])).toEqual([
        [TRACE_ID, "00000000000000a1", "span-00000000000000a1"],
        [TRACE_ID, "00000000000000a1", "span-00000000000000a1"],
      ]);
      const shortId = encodeTraces(
        exportBody([goodSpan("x", { traceId: hex(TRACE_ID), spanId: hex("a1a1") })]),
      );
      expect((await post(TRACES, shortId, headers)).status).toBe(400);
      expect(receiver.rejectedExports.at(-1)?.reasons).toEqual(["spanId:wrong_length"]);
      expect((await post(TRACES, new Uint8Array([255, 255, 255]), headers)).status).toBe(400);
    });

    it("answers 400 to an unknown content type, unparsable JSON or a future ingestion version; 200 to an empty export", async () => {
      expect((await post(TRACES, "{}", { "content-type": "text/plain" })).status).toBe(400);
      expect((await post(TRACES, "{not json")).status).toBe(400);
      expect((await postJson(TRACES, { resourceSpans: [] })).status).toBe(200);
      const oneSpan = exportBody([goodSpan("00000000000000a1")]);
      expect((await postJson(TRACES, oneSpan, { "x-langfuse-ingestion-version": "5" })).status).toBe(400);
      expect((await postJson(TRACES, oneSpan, { "x-langfuse-ingestion-version": "4" })).status).toBe(200);
      expect(receiver.rejectedExports.map((rejection) => rejection.message)).toEqual([
        "Invalid content type",
        "Failed to parse OTel JSON Trace",
        'Unsupported x-langfuse-ingestion-version: "5". Maximum supported: "4".',
      ]);
      expect(receiver.spans).toHaveLength(1);
    });

    it("accepts and drops metrics, 404s unknown paths, 405s other methods", async () => {
      const metrics = await postJson("/api/public/otel/v1/metrics", { resourceMetrics: [] });
      expect(metrics.status).toBe(200);
      expect((await fetch(`${receiver.url}/api/public/projects`, { method: "POST" })).status).toBe(404);
      const get = await fetch(`${receiver.url}${TRACES}`, {
        headers: { authorization: receiver.authorizationHeader },
      });
      expect(get.status).toBe(405);
      expect(receiver.spans).toHaveLength(0);
      expect(receiver.requests.map((record) => record.outcome)).toEqual([
        "accepted",
        "not_found",
        "method_not_allowed",
      ]);
    });

    it("keeps at most maxSpans spans and counts the rest", async () => {
      const small = await createLangfuseReceiver({ maxSpans: 2 });
      try {
        const response = await fetch(`${small.url}${TRACES}`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: small.authorizationHeader },
          body: JSON.stringify(exportBody(["a1", "a2", "a3"].map((id) => goodSpan(`00000000000000${id}`)))),
        });
        expect(response.status).toBe(200);
        expect(small.spans.map((span) => span.spanId)).toEqual(["00000000000000a2", "00000000000000a3"]);
        expect(small.dropped.spans).toBe(1);
      } finally {
        await small.close();
      }
    });
  });

  describe("scores", () => {
    const score = {
      id: "score-1",
      traceId: TRACE_ID,
      name: "turn_outcome",
      value: "success",
      dataType: "CATEGORICAL",
    };

    it("accepts a valid score with { id } and upserts by id, counting duplicates", async () => {
      const first = await postJson(SCORES, score);
      expect(first.status).toBe(200);
      expect(await first.json()).toEqual({ id: "score-1" });
      await postJson(SCORES, { ...score, value: "error" });
      expect(receiver.scores).toHaveLength(1);
      expect(receiver.score("score-1")).toMatchObject({ writes: 2, body: { value: "error" } });
      expect(receiver.duplicateScoreWrites).toBe(1);
      const generated = await postJson(SCORES, {
        sessionId: "s1",
        name: "stuck",
        value: 1,
        dataType: "BOOLEAN",
      });
      const { id } = (await generated.json()) as { id: string };
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(receiver.score(id)?.body.name).toBe("stuck");
    });

    it("answers 400 with the validation errors for a wrong dataType or a missing name", async () => {
      const wrongType = await postJson(SCORES, { ...score, dataType: "STRING" });
      expect(wrongType.status).toBe(400);
      const body = (await wrongType.json()) as {
        message: string;
        error: { path: string; keyword: string }[];
      };
      expect(body.message).toBe("Invalid request data");
      expect(body.error).toContainEqual(expect.objectContaining({ path: "/dataType", keyword: "enum" }));
      const { name: _name, ...withoutName } = score;
      expect((await postJson(SCORES, withoutName)).status).toBe(400);
      expect((await post(SCORES, "{oops")).status).toBe(400);
      expect(receiver.scores).toHaveLength(0);
      expect(receiver.rejectedScores).toHaveLength(3);
      expect(receiver.rejectedScores[1]?.issues).toContainEqual(
        expect.objectContaining({ keyword: "required" }),
      );
    });
  });

  describe("faults", () => {
    it("answers 500 the next N times, then recovers", async () => {
      receiver.failNext(2);
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 3; attempt += 1) {
        statuses.push((await postJson(TRACES, exportBody([goodSpan("00000000000000a1")]))).status);
      }
      expect(statuses).toEqual([500, 500, 200]);
      expect(receiver.spans).toHaveLength(1);
      expect(receiver.requests.map((record) => record.outcome)).toEqual(["fault", "fault", "accepted"]);
    });

    it("answers 429 with Retry-After, scoped to one endpoint when asked", async () => {
      receiver.throttleNext(1, 7, { endpoint: "scores" });
      expect((await postJson(TRACES, exportBody([]))).status).toBe(200);
      const throttled = await postJson(SCORES, { traceId: "t", name: "n", value: 1 });
      expect(throttled.status).toBe(429);
      expect(throttled.headers.get("retry-after")).toBe("7");
      expect((await postJson(SCORES, { traceId: "t", name: "n", value: 1 })).status).toBe(200);
    });

    it("goes down and comes back up on the same port", async () => {
      const port = receiver.port;
      await receiver.down();
      expect(receiver.isUp).toBe(false);
      await expect(postJson(TRACES, exportBody([]))).rejects.toThrow();
      await receiver.up();
      expect(receiver.port).toBe(port);
      expect((await postJson(TRACES, exportBody([goodSpan("00000000000000a1")]))).status).toBe(200);
      await expect(receiver.waitForSpans(1)).resolves.toHaveLength(1);
    });
  });
});

describe("createLangfuseReceiver: POST /api/public/ingestion (score-create, as Langfuse v4 keeps it)", () => {
  let receiver: LangfuseReceiver;
  beforeEach(async () => {
    receiver = await createLangfuseReceiver({ publicKey: "pk-lf-right", secretKey: "sk-lf-right" });
  });
  afterEach(async () => {
    await receiver.close();
  });
  const post = (body: unknown, authorization = receiver.authorizationHeader) =>
    fetch(`${receiver.url}${INGESTION}`, {
      method: "POST",
      body: typeof body === "string" ? body : JSON.stringify(body),
      headers: { "content-type": "application/json", authorization },
    });
  const scoreEvent = (id: string, body: Record<string, unknown> = {}) => ({
    id: `event-${id}`,
    type: "score-create",
    timestamp: "2026-12-03T10:00:00.000Z",
    body: { id, traceId: TRACE_ID, name: "turn.outcome", value: "success", dataType: "CATEGORICAL", ...body },
  });

  it("answers 207 with a result per event and stores each score, upserted by its id", async () => {
    const response = await post({ batch: [scoreEvent("a"), scoreEvent("b")] });
    expect(response.status).toBe(207);
    expect(await response.json()).toEqual({
      successes: [
        { id: "event-a", status: 201 },
        { id: "event-b", status: 201 },
      ],
      errors: [],
    });
    await post({ batch: [{ ...scoreEvent("a", { value: "error" }), id: "event-a2" }] });
    expect(receiver.scores.map((score) => [score.id, score.body.value, score.writes])).toEqual([
      ["a", "error", 2],
      ["b", "success", 1],
    ]);
  });

  it("refuses a bad event on its own (400 in errors), keeping the good ones", async () => {
    const response = await post({
      batch: [
        scoreEvent("ok"),
        scoreEvent("bool", { dataType: "BOOLEAN", value: 3 }),
        { ...scoreEvent("no-name"), body: { id: "no-name", traceId: TRACE_ID, value: 1 } },
        { ...scoreEvent("dup"), id: "event-ok" },
        { id: "event-trace", type: "trace-create", timestamp: "2026-12-03T10:00:00.000Z", body: { id: "t" } },
        { type: "score-create", body: { id: "no-envelope", name: "x", value: 1, traceId: TRACE_ID } },
      ],
    });
    expect(response.status).toBe(207);
    const answer = (await response.json()) as {
      successes: { id: string }[];
      errors: { id: string; status: number }[];
    };
    expect(answer.successes.map((success) => success.id)).toEqual(["event-ok"]);
    expect(answer.errors.map((error) => [error.id, error.status])).toEqual([
      ["event-bool", 400],
      ["event-no-name", 400],
      ["event-ok", 400],
      ["event-trace", 400],
      ["", 400],
    ]);
    expect(receiver.scores.map((score) => score.id)).toEqual(["ok"]);
    expect(receiver.rejectedScores).toHaveLength(5);
  });

  it("refuses a request without a batch (400), without valid keys (401), over 3.5 MB (413)", async () => {
    expect((await post({ events: [] })).status).toBe(400);
    expect((await post("not json")).status).toBe(400);
    expect(
      (await post({ batch: [] }, toLangfuseBasicAuth({ publicKey: "pk-lf-right", secretKey: "wrong" })))
        .status,
    ).toBe(401);
    const big = Array.from({ length: 900 }, (_, index) =>
      scoreEvent(String(index), { comment: "c".repeat(4000) }),
    );
    expect((await post({ batch: big })).status).toBe(413);
    expect(receiver.scores).toEqual([]);
  });
});
