import { describe, expect, it } from "vitest";
import { createMlflowClient } from "./client.js";
import { MlflowError } from "./mlflow-error.js";
import {
  createFetchStub,
  jsonResponse,
  mlflowErrorResponse,
  type RecordedRequest,
} from "./test-support/fetch-stub.js";

const URI = "http://mlflow.test:5000";

function clientWith(handler: (request: RecordedRequest) => Response | Promise<Response>, env = {}) {
  const stub = createFetchStub(handler);
  return {
    client: createMlflowClient({ trackingUri: URI, fetchImpl: stub.fetchImpl, env }),
    requests: stub.requests,
  };
}

const experimentJson = (id: string, name: string, stage = "active") => ({
  experiment: { experiment_id: id, name, lifecycle_stage: stage, tags: [{ key: "team", value: "ops" }] },
});

describe("createMlflowClient", () => {
  it("lifts credentials out of the tracking URI and sends them as Basic auth", async () => {
    const stub = createFetchStub(() => jsonResponse(experimentJson("1", "e")));
    const client = createMlflowClient({
      trackingUri: "http://user:p%40ss@mlflow.test:5000/prefix/",
      fetchImpl: stub.fetchImpl,
      env: {},
    });
    expect(client.trackingUri).toBe("http://mlflow.test:5000/prefix");
    expect(client.authKind).toBe("basic");
    await client.experiments.getByName("e");
    const request = stub.requests[0];
    expect(request?.url.toString()).toBe(
      "http://mlflow.test:5000/prefix/api/2.0/mlflow/experiments/get-by-name?experiment_name=e",
    );
    expect(request?.headers.authorization).toBe(`Basic ${Buffer.from("user:p@ss").toString("base64")}`);
  });

  it("reads the tracking URI and token from env", async () => {
    const stub = createFetchStub(() => jsonResponse(experimentJson("1", "e")));
    const client = createMlflowClient({
      fetchImpl: stub.fetchImpl,
      env: { MLFLOW_TRACKING_URI: URI, MLFLOW_TRACKING_TOKEN: "tok" },
    });
    await client.experiments.getByName("e");
    expect(stub.requests[0]?.headers.authorization).toBe("Bearer tok");
    expect(stub.requests[0]?.url.origin).toBe(URI);
  });

  it("refuses a missing or non-http tracking URI without echoing credentials", () => {
    expect(() => createMlflowClient({ env: {} })).toThrow(/MLFLOW_TRACKING_URI/);
    expect(() => createMlflowClient({ trackingUri: "databricks", env: {} })).toThrow(MlflowError);
    expect(() => createMlflowClient({ trackingUri: "ftp://u:secret@x/mlruns", env: {} })).toThrow(
      /^(?!.*secret).*scheme 'ftp:'/,
    );
  });

  it("checkHealth is true only for 200 OK and never throws", async () => {
    expect(await clientWith(() => new Response("OK")).client.checkHealth()).toBe(true);
    expect(await clientWith(() => new Response("nope", { status: 503 })).client.checkHealth()).toBe(false);
    const down = clientWith(() => {
      throw new TypeError("fetch failed");
    });
    expect(await down.client.checkHealth()).toBe(false);
    expect(down.requests[0]?.url.pathname).toBe("/health");
  });
});

describe("experiments.getOrCreate", () => {
  it("returns the active experiment it finds without creating one", async () => {
    const { client, requests } = clientWith(() => jsonResponse(experimentJson("7", "exp")));
    const result = await client.experiments.getOrCreate("exp");
    expect(result).toEqual({
      experiment: { experimentId: "7", name: "exp", lifecycleStage: "active", tags: { team: "ops" } },
      created: false,
      restored: false,
    });
    expect(requests.map((request) => request.endpoint)).toEqual(["experiments/get-by-name"]);
  });

  it("creates a missing experiment with its tags", async () => {
    let created = false;
    const { client, requests } = clientWith((request) => {
      if (request.endpoint === "experiments/create") {
        created = true;
        return jsonResponse({ experiment_id: "9" });
      }
      return created
        ? jsonResponse(experimentJson("9", "exp"))
        : mlflowErrorResponse(404, "RESOURCE_DOES_NOT_EXIST", "no");
    });
    const result = await client.experiments.getOrCreate("exp", { tags: { "owner@x": "me" } });
    expect(result).toMatchObject({ created: true, experiment: { experimentId: "9" } });
    expect(requests[1]?.body).toEqual({ name: "exp", tags: [{ key: "owner_x", value: "me" }] });
  });

  it("resolves a create race to the experiment the other gateway created", async () => {
    let lookups = 0;
    const { client } = clientWith((request) => {
      if (request.endpoint === "experiments/create") {
        return mlflowErrorResponse(400, "RESOURCE_ALREADY_EXISTS", "Experiment(name=exp) already exists.");
      }
      lookups += 1;
      return lookups === 1
        ? mlflowErrorResponse(404, "RESOURCE_DOES_NOT_EXIST", "no")
        : jsonResponse(experimentJson("3", "exp"));
    });
    const result = await client.experiments.getOrCreate("exp");
    expect(result).toMatchObject({ created: false, restored: false, experiment: { experimentId: "3" } });
  });

  it("refuses a deleted experiment with a clear, non-retryable error", async () => {
    const { client, requests } = clientWith(() => jsonResponse(experimentJson("4", "exp", "deleted")));
    const error = (await client.experiments
      .getOrCreate("exp")
      .catch((caught: unknown) => caught)) as MlflowError;
    expect(error).toBeInstanceOf(MlflowError);
    expect(error).toMatchObject({ errorCode: "EXPERIMENT_DELETED", retryable: false });
    expect(error.message).toContain("restore it");
    expect(requests.map((request) => request.endpoint)).toEqual(["experiments/get-by-name"]);
  });

  it("restores a deleted experiment when asked to", async () => {
    let restored = false;
    const { client, requests } = clientWith((request) => {
      if (request.endpoint === "experiments/restore") {
        restored = true;
        return jsonResponse({});
      }
      return jsonResponse(experimentJson("4", "exp", restored ? "active" : "deleted"));
    });
    const result = await client.experiments.getOrCreate("exp", { restoreDeleted: true });
    expect(result).toMatchObject({
      restored: true,
      created: false,
      experiment: { lifecycleStage: "active" },
    });
    expect(requests.find((request) => request.endpoint === "experiments/restore")?.body).toEqual({
      experiment_id: "4",
    });
  });

  it("passes other errors through", async () => {
    const { client } = clientWith(() => new Response("down", { status: 503 }));
    await expect(client.experiments.getOrCreate("exp")).rejects.toMatchObject({
      status: 503,
      retryable: true,
    });
  });
});

describe("runs", () => {
  const runJson = (status = "RUNNING") => ({
    run: {
      info: {
        run_id: "r1",
        run_name: "gw",
        experiment_id: "7",
        status,
        start_time: 5,
        lifecycle_stage: "active",
      },
      data: {
        metrics: [{ key: "m", value: "NaN", timestamp: "10", step: "2" }],
        params: [{ key: "p", value: "v" }],
        tags: [{ key: "t", value: "w" }],
      },
    },
  });

  it("create sends the experiment, name, start time and sanitized tags, and reads the run", async () => {
    const { client, requests } = clientWith(() => jsonResponse(runJson()));
    const run = await client.runs.create({
      experimentId: "7",
      runName: "gw",
      startTime: 5.7,
      tags: { "mlflow.user": "gw", "a{b}": 1 },
    });
    expect(requests[0]?.body).toEqual({
      experiment_id: "7",
      run_name: "gw",
      start_time: 5,
      tags: [
        { key: "mlflow.user", value: "gw" },
        { key: "a_b_", value: "1" },
      ],
    });
    expect(run.info).toEqual({
      runId: "r1",
      runName: "gw",
      experimentId: "7",
      status: "RUNNING",
      startTime: 5,
      lifecycleStage: "active",
    });
    expect(run.data.metrics[0]).toMatchObject({ key: "m", timestamp: 10, step: 2 });
    expect(run.data.metrics[0]?.value).toBeNaN();
    expect(run.data.params).toEqual({ p: "v" });
  });

  it("update sends status and end time", async () => {
    const { client, requests } = clientWith(() => jsonResponse({ run_info: runJson("FINISHED").run.info }));
    const info = await client.runs.update({ runId: "r1", status: "FINISHED", endTime: 99 });
    expect(requests[0]?.body).toEqual({ run_id: "r1", status: "FINISHED", end_time: 99 });
    expect(info.status).toBe("FINISHED");
  });

  it("searchAll follows page tokens up to the limit and stops on a repeated token", async () => {
    const { client, requests } = clientWith((request) => {
      const token = (request.body as { page_token?: string }).page_token;
      const page = token === undefined ? 0 : Number(token);
      return jsonResponse({
        runs: [runJson().run, runJson().run],
        next_page_token: String(page === 2 ? 2 : page + 1),
      });
    });
    const runs = await client.runs.searchAll({
      experimentIds: ["7"],
      filter: "attributes.status = 'RUNNING'",
      maxResults: 2,
    });
    // pages 0, 1, 2; page 2 hands back token "2" again: stop instead of looping
    expect(runs).toHaveLength(6);
    expect(requests).toHaveLength(3);
    expect(requests[0]?.body).toEqual({
      experiment_ids: ["7"],
      filter: "attributes.status = 'RUNNING'",
      run_view_type: "ACTIVE_ONLY",
      max_results: 2,
    });
    const limited = await client.runs.searchAll({ experimentIds: ["7"], maxResults: 2, limit: 3 });
    expect(limited).toHaveLength(3);
  });

  it("logBatch splits into requests within every limit and reports what it did", async () => {
    const { client, requests } = clientWith(() => jsonResponse({}));
    const report = await client.runs.logBatch("r1", {
      metrics: [
        ...Array.from({ length: 2500 }, (_, index) => ({
          key: `m/${index % 10}`,
          value: index,
          timestamp: 1,
          step: index,
        })),
        { key: "bad", value: Number.NaN },
      ],
      params: Object.fromEntries(Array.from({ length: 250 }, (_, index) => [`p${index}`, "v".repeat(7000)])),
      tags: Object.fromEntries(Array.from({ length: 250 }, (_, index) => [`t${index}`, "w".repeat(9000)])),
    });
    expect(report).toMatchObject({
      requests: requests.length,
      sent: { metrics: 2500, params: 250, tags: 250 },
      dropped: { nonFiniteMetrics: 1 },
      truncatedValues: 500,
    });
    for (const request of requests) {
      const body = request.body as { metrics: unknown[]; params: unknown[]; tags: unknown[] };
      expect(request.endpoint).toBe("runs/log-batch");
      expect(body.metrics.length).toBeLessThanOrEqual(1000);
      expect(body.params.length).toBeLessThanOrEqual(100);
      expect(body.tags.length).toBeLessThanOrEqual(100);
      expect(body.metrics.length + body.params.length + body.tags.length).toBeLessThanOrEqual(1000);
      expect(Buffer.byteLength(request.bodyText)).toBeLessThanOrEqual(1_000_000);
    }
  });

  it("logBatch stops at the first failure and says how many requests had gone through", async () => {
    let calls = 0;
    const { client } = clientWith(() => {
      calls += 1;
      return calls === 2 ? new Response("busy", { status: 503 }) : jsonResponse({});
    });
    const metrics = Array.from({ length: 2500 }, (_, index) => ({
      key: "m",
      value: index,
      timestamp: 1,
      step: index,
    }));
    const error = (await client.runs
      .logBatch("r1", { metrics })
      .catch((caught: unknown) => caught)) as MlflowError;
    expect(error).toMatchObject({ status: 503, retryable: true, completedRequests: 1 });
    expect(calls).toBe(2);
  });

  it("logBatch sends nothing when nothing is left after cleaning", async () => {
    const { client, requests } = clientWith(() => jsonResponse({}));
    const report = await client.runs.logBatch("r1", {
      metrics: [{ key: "m", value: Number.POSITIVE_INFINITY }],
    });
    expect(report.requests).toBe(0);
    expect(requests).toHaveLength(0);
  });
});

describe("metrics.getHistory", () => {
  it("reads every page", async () => {
    const { client, requests } = clientWith((request) => {
      const token = request.url.searchParams.get("page_token");
      const metrics = [{ key: "m", value: token ? 2 : 1, timestamp: 1, step: token ? 2 : 1 }];
      return jsonResponse(token ? { metrics } : { metrics, next_page_token: "next" });
    });
    const history = await client.metrics.getHistory("r1", "tokens/input", { pageSize: 1 });
    expect(history.map((point) => point.value)).toEqual([1, 2]);
    expect(requests[0]?.url.searchParams.get("metric_key")).toBe("tokens/input");
    expect(requests[0]?.url.searchParams.get("max_results")).toBe("1");
    expect(requests[1]?.url.searchParams.get("page_token")).toBe("next");
  });
});
