import { describe, expect, it } from "vitest";
import { createMlflowClient } from "./client.js";
import { MlflowError, toSendResult } from "./mlflow-error.js";
import { createFetchStub, jsonResponse, mlflowErrorResponse } from "./test-support/fetch-stub.js";

/** The error `experiments.create` throws when the stub answers with `response`. */
async function errorFor(
  response: () => Response | Promise<Response>,
  timeoutMs = 5_000,
): Promise<MlflowError> {
  const stub = createFetchStub(response);
  const client = createMlflowClient({
    trackingUri: "http://mlflow.test",
    fetchImpl: stub.fetchImpl,
    timeoutMs,
    env: {},
  });
  const error = await client.experiments.create("exp").catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(MlflowError);
  return error as MlflowError;
}

describe("MlflowError from HTTP answers", () => {
  it("keeps MLflow's error_code and message for a 400, not retryable, mapped to reject", async () => {
    const error = await errorFor(() => mlflowErrorResponse(400, "INVALID_PARAMETER_VALUE", "bad name"));
    expect(error).toMatchObject({
      kind: "http",
      status: 400,
      errorCode: "INVALID_PARAMETER_VALUE",
      message: "bad name",
      retryable: false,
      endpoint: "experiments/create",
    });
    expect(toSendResult(error)).toEqual({
      kind: "reject",
      reason: "MLflow experiments/create: HTTP 400 INVALID_PARAMETER_VALUE: bad name",
      failure: { status: 400, bodyExcerpt: "bad name" },
    });
  });

  it("maps a plain-text 401 (the basic-auth app's answer) to a non-retryable auth result", async () => {
    const error = await errorFor(
      () => new Response("You are not authenticated. Please see https://mlflow.org/docs", { status: 401 }),
    );
    expect(error).toMatchObject({ status: 401, errorCode: "HTTP_401", retryable: false, isAuthError: true });
    expect(error.message).toContain("You are not authenticated");
    expect(toSendResult(error).kind).toBe("auth");
    expect(toSendResult(await errorFor(() => mlflowErrorResponse(403, "PERMISSION_DENIED", "no"))).kind).toBe(
      "auth",
    );
  });

  it("marks 429 retryable with Retry-After, and 5xx retryable", async () => {
    const limited = await errorFor(
      () =>
        new Response(JSON.stringify({ error_code: "REQUEST_LIMIT_EXCEEDED", message: "slow down" }), {
          status: 429,
          headers: { "retry-after": "7" },
        }),
    );
    expect(limited).toMatchObject({
      retryable: true,
      retryAfterMs: 7000,
      errorCode: "REQUEST_LIMIT_EXCEEDED",
    });
    expect(toSendResult(limited)).toMatchObject({ kind: "retry", retryAfterMs: 7000 });
    const unavailable = await errorFor(() => new Response("<html>Bad Gateway</html>", { status: 502 }));
    expect(unavailable).toMatchObject({ retryable: true, status: 502 });
    expect(toSendResult(unavailable).kind).toBe("retry");
  });

  it("does not retry 404, and maps 413 to too-large", async () => {
    const missing = await errorFor(() => mlflowErrorResponse(404, "RESOURCE_DOES_NOT_EXIST", "gone"));
    expect(missing).toMatchObject({ retryable: false, isNotFound: true });
    expect(toSendResult(await errorFor(() => new Response("too big", { status: 413 }))).kind).toBe(
      "too-large",
    );
  });

  it("reports a 200 that is not JSON with the status and the first 200 characters", async () => {
    const page = `<!doctype html><title>MLflow</title>${"x".repeat(500)}`;
    const error = await errorFor(() => new Response(page, { status: 200 }));
    expect(error).toMatchObject({
      kind: "invalid-response",
      status: 200,
      errorCode: "INVALID_RESPONSE",
      retryable: false,
    });
    expect(error.message).toContain("<!doctype html><title>MLflow</title>");
    expect(error.message.length).toBeLessThan(300);
    expect(toSendResult(error).kind).toBe("reject");
  });
});

describe("MlflowError without an answer", () => {
  it("is a retryable network error naming the cause", async () => {
    const error = await errorFor(() => {
      throw new TypeError("fetch failed", {
        cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }),
      });
    });
    expect(error).toMatchObject({ kind: "network", status: 0, errorCode: "NETWORK_ERROR", retryable: true });
    expect(error.message).toContain("ECONNREFUSED 127.0.0.1:1");
    expect(toSendResult(error).kind).toBe("retry");
  });

  it("is a retryable timeout when the server does not answer in time", async () => {
    const neverAnswers = (): Promise<Response> => new Promise<Response>(() => {});
    const stub = createFetchStub(neverAnswers);
    const client = createMlflowClient({
      trackingUri: "http://mlflow.test",
      fetchImpl: async (input, init) => {
        const pending = stub.fetchImpl(input, init);
        // honour the signal the way undici does
        return await new Promise<Response>((resolve, reject) => {
          init.signal?.addEventListener("abort", () => reject(init.signal?.reason), { once: true });
          pending.then(resolve, reject);
        });
      },
      timeoutMs: 50,
      env: {},
    });
    const error = (await client.experiments.create("exp").catch((caught: unknown) => caught)) as MlflowError;
    expect(error).toMatchObject({ kind: "timeout", errorCode: "TIMEOUT", retryable: true });
  });
});

describe("toSendResult", () => {
  it("treats errors that are not MlflowErrors as retry, as the pipeline does with a throw", () => {
    expect(toSendResult(new Error("boom"))).toEqual({ kind: "retry", reason: "unexpected error: boom" });
    expect(toSendResult("weird").kind).toBe("retry");
  });

  it("rejects invalid arguments and deleted experiments without retry", () => {
    const deleted = new MlflowError({
      kind: "experiment-deleted",
      status: 0,
      errorCode: "EXPERIMENT_DELETED",
      message: "x",
    });
    expect(deleted.retryable).toBe(false);
    expect(toSendResult(deleted).kind).toBe("reject");
  });
});

describe("responses", () => {
  it("accepts an empty 200 body as {}", async () => {
    const stub = createFetchStub(() => new Response("", { status: 200 }));
    const client = createMlflowClient({
      trackingUri: "http://mlflow.test",
      fetchImpl: stub.fetchImpl,
      env: {},
    });
    await expect(client.experiments.restore("1")).resolves.toBeUndefined();
    expect(stub.requests[0]?.endpoint).toBe("experiments/restore");
    const json = createFetchStub(() => jsonResponse({}));
    await expect(
      createMlflowClient({
        trackingUri: "http://mlflow.test",
        fetchImpl: json.fetchImpl,
        env: {},
      }).experiments.delete("1"),
    ).resolves.toBeUndefined();
  });
});
