/**
 * @clawscope/mlflow-client against a real MLflow tracking server (SQLite store), every assertion
 * read back through MLflow's own REST API.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { findFreePort } from "@clawscope/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// relative until `pnpm install` links @clawscope/mlflow-client into this package
import {
  createMlflowClient,
  type FetchLike,
  type MlflowClient,
  MlflowError,
  sanitizeMlflowKey,
  toSendResult,
} from "../../packages/mlflow-client/src/index.js";
import { type MlflowServer, startMlflowServer } from "./harness/mlflow-server.js";

let workDir: string;
let server: MlflowServer;
let client: MlflowClient;
/** Unique per test run, so names never collide with an earlier run's leftovers. */
const suffix = Date.now().toString(36);

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), "clawscope-mlflow-"));
  server = await startMlflowServer({ dir: path.join(workDir, "main") });
  client = createMlflowClient({ trackingUri: server.trackingUri, env: {} });
});

afterAll(async () => {
  await server?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

async function caught(promise: Promise<unknown>): Promise<MlflowError> {
  const error = await promise.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(MlflowError);
  return error as MlflowError;
}

describe("experiments", () => {
  it("finds nothing for an unknown name, creates once, then finds the same experiment", async () => {
    const name = `clawscope-exp-${suffix}`;
    expect(await client.experiments.getByName(name)).toBeUndefined();
    const first = await client.experiments.getOrCreate(name, { tags: { "clawscope.pack": "test" } });
    expect(first).toMatchObject({
      created: true,
      restored: false,
      experiment: { name, lifecycleStage: "active" },
    });
    const second = await client.experiments.getOrCreate(name);
    expect(second.created).toBe(false);
    expect(second.experiment.experimentId).toBe(first.experiment.experimentId);
    expect(second.experiment.tags["clawscope.pack"]).toBe("test");
  });

  it("lets concurrent getOrCreate calls agree on one experiment without an error", async () => {
    const name = `clawscope-race-${suffix}`;
    const clients = Array.from({ length: 4 }, () =>
      createMlflowClient({ trackingUri: server.trackingUri, env: {} }),
    );
    const results = await Promise.all(clients.map((each) => each.experiments.getOrCreate(name)));
    const ids = new Set(results.map((result) => result.experiment.experimentId));
    expect(ids.size).toBe(1);
    expect(results.filter((result) => result.created).length).toBeLessThanOrEqual(1);
  });

  it("resolves the create race through the server's RESOURCE_ALREADY_EXISTS", async () => {
    const name = `clawscope-lost-race-${suffix}`;
    const winnerId = await client.experiments.create(name);
    // a lookup that raced ahead of the other gateway's create: the first get-by-name says 404
    let staleLookups = 1;
    const endpoints: string[] = [];
    const racingFetch: FetchLike = async (input, init) => {
      endpoints.push(new URL(input).pathname.replace("/api/2.0/mlflow/", ""));
      if (input.includes("experiments/get-by-name") && staleLookups > 0) {
        staleLookups -= 1;
        return new Response(JSON.stringify({ error_code: "RESOURCE_DOES_NOT_EXIST", message: "stale" }), {
          status: 404,
        });
      }
      return await fetch(input, init);
    };
    const loser = createMlflowClient({ trackingUri: server.trackingUri, fetchImpl: racingFetch, env: {} });
    const result = await loser.experiments.getOrCreate(name);
    expect(result).toMatchObject({ created: false, experiment: { experimentId: winnerId } });
    expect(endpoints).toEqual(["experiments/get-by-name", "experiments/create", "experiments/get-by-name"]);
  });

  it("refuses a deleted experiment with advice, and restores it only when asked", async () => {
    const name = `clawscope-deleted-${suffix}`;
    const { experiment } = await client.experiments.getOrCreate(name);
    await client.experiments.delete(experiment.experimentId);
    expect((await client.experiments.getByName(name))?.lifecycleStage).toBe("deleted");

    // the server keeps the name: a plain create fails as a race would
    const direct = await caught(client.experiments.create(name));
    expect(direct).toMatchObject({ status: 400, errorCode: "RESOURCE_ALREADY_EXISTS", retryable: false });

    const refused = await caught(client.experiments.getOrCreate(name));
    expect(refused).toMatchObject({ errorCode: "EXPERIMENT_DELETED", retryable: false });
    expect(refused.message).toContain(`'${name}' (id ${experiment.experimentId}) is deleted`);
    expect(toSendResult(refused).kind).toBe("reject");

    const restored = await client.experiments.getOrCreate(name, { restoreDeleted: true });
    expect(restored).toMatchObject({ restored: true, experiment: { experimentId: experiment.experimentId } });
    expect((await client.experiments.getByName(name))?.lifecycleStage).toBe("active");
  });
});

describe("runs", () => {
  let experimentId: string;

  beforeAll(async () => {
    experimentId = (await client.experiments.getOrCreate(`clawscope-runs-${suffix}`)).experiment.experimentId;
  });

  it("creates, reads, searches and finishes a run", async () => {
    const startTime = Date.now() - 1000;
    const run = await client.runs.create({
      experimentId,
      runName: "gateway-a",
      startTime,
      tags: { "mlflow.user": "clawscope", "mlflow.source.name": "openclaw-gateway", "gateway.id": "a" },
    });
    expect(run.info).toMatchObject({ experimentId, runName: "gateway-a", status: "RUNNING", startTime });

    const read = await client.runs.get(run.info.runId);
    expect(read.data.tags).toMatchObject({
      "mlflow.user": "clawscope",
      "gateway.id": "a",
      "mlflow.runName": "gateway-a",
    });

    const running = await client.runs.search({
      experimentIds: [experimentId],
      filter: "tags.`gateway.id` = 'a' AND attributes.status = 'RUNNING'",
    });
    expect(running.runs.map((each) => each.info.runId)).toEqual([run.info.runId]);

    const endTime = Date.now();
    const info = await client.runs.update({ runId: run.info.runId, status: "FINISHED", endTime });
    expect(info).toMatchObject({ status: "FINISHED", endTime });
    expect((await client.runs.get(run.info.runId)).info.status).toBe("FINISHED");
    const stillRunning = await client.runs.search({
      experimentIds: [experimentId],
      filter: "tags.`gateway.id` = 'a' AND attributes.status = 'RUNNING'",
    });
    expect(stillRunning.runs).toEqual([]);
  });

  it("pages through search results", async () => {
    const created = [];
    for (let index = 0; index < 5; index += 1) {
      created.push(
        await client.runs.create({ experimentId, runName: `page-${index}`, tags: { "test.page": "yes" } }),
      );
    }
    const firstPage = await client.runs.search({
      experimentIds: [experimentId],
      filter: "tags.`test.page` = 'yes'",
      maxResults: 2,
    });
    expect(firstPage.runs).toHaveLength(2);
    expect(firstPage.nextPageToken).toBeTruthy();
    const all = await client.runs.searchAll({
      experimentIds: [experimentId],
      filter: "tags.`test.page` = 'yes'",
      maxResults: 2,
      orderBy: ["attributes.start_time ASC"],
    });
    expect(new Set(all.map((each) => each.info.runId))).toEqual(
      new Set(created.map((each) => each.info.runId)),
    );
  });

  it("logs 2500 metrics, 250 params and 250 tags with over-long keys and values without a 400", async () => {
    const run = await client.runs.create({ experimentId, runName: "big-batch" });
    const runId = run.info.runId;
    const timestamp = Date.now();
    const metricKeys = [
      "tokens/input",
      "tokens/output",
      "cost.usd",
      `${"k".repeat(300)}-long`,
      "model@vertex/latency",
    ];
    const metrics = Array.from({ length: 2500 }, (_, index) => ({
      key: metricKeys[index % metricKeys.length] as string,
      value: (index % 97) + 0.25,
      timestamp: timestamp + index,
      step: Math.floor(index / metricKeys.length),
    }));
    const params: Record<string, string> = {};
    for (let index = 0; index < 250; index += 1) {
      params[index < 5 ? `${"p".repeat(260)}/${index}` : `param.${index}`] =
        index % 2 === 0 ? "v".repeat(7000) : `value-${index}`;
    }
    params["a//weird/./key/"] = "path-form";
    const tags: Record<string, string> = {};
    for (let index = 0; index < 250; index += 1)
      tags[`tag{${index}}`] = index % 2 === 0 ? "t".repeat(9000) : `tag-${index}`;
    const input = { metrics: [...metrics, { key: "tokens/input", value: Number.NaN }], params, tags };

    const report = await client.runs.logBatch(runId, input);
    expect(report.sent).toEqual({ metrics: 2500, params: 251, tags: 250 });
    expect(report.dropped.nonFiniteMetrics).toBe(1);
    // 251 params need 3 requests of at most 100; 3001 entities spill one metric into a fourth
    expect(report.requests).toBe(4);

    // metric histories hold every point, summed exactly
    for (const key of metricKeys) {
      const expected = metrics.filter((metric) => metric.key === key);
      const history = await client.metrics.getHistory(runId, sanitizeMlflowKey(key).key, { pageSize: 200 });
      expect(history).toHaveLength(expected.length);
      expect(sum(history.map((point) => point.value))).toBe(sum(expected.map((metric) => metric.value)));
    }

    const read = await client.runs.get(runId);
    expect(Object.keys(read.data.params)).toHaveLength(251);
    expect(read.data.params["param.7"]).toBe("value-7");
    expect(read.data.params["param.6"]).toMatch(/^v+…\[truncated, 7000 chars\]$/);
    expect(read.data.params["param.6"]?.length).toBeLessThanOrEqual(6000);
    expect(read.data.params["a/weird/key"]).toBe("path-form");
    const longParamKey = sanitizeMlflowKey(`${"p".repeat(260)}/3`).key;
    expect(longParamKey).toHaveLength(250);
    expect(read.data.params[longParamKey]).toBe("value-3");
    expect(read.data.tags.tag_1_).toBe("tag-1");
    expect(read.data.tags.tag_2_).toMatch(/^t+…\[truncated, 9000 chars\]$/);
    expect(Object.keys(read.data.tags).filter((key) => key.startsWith("tag_"))).toHaveLength(250);

    // the same batch again (a retry after a partial failure) changes nothing on the SQL store
    await client.runs.logBatch(runId, input);
    const again = await client.metrics.getHistory(runId, "tokens/input");
    expect(again).toHaveLength(500);
  });

  it("rejects a changed param as non-retryable", async () => {
    const run = await client.runs.create({ experimentId, runName: "param-change" });
    await client.runs.logBatch(run.info.runId, { params: { model: "a" } });
    const error = await caught(client.runs.logBatch(run.info.runId, { params: { model: "b" } }));
    expect(error).toMatchObject({ status: 400, errorCode: "INVALID_PARAMETER_VALUE", retryable: false });
    expect(toSendResult(error).kind).toBe("reject");
  });
});

describe("basic auth", () => {
  let authServer: MlflowServer;

  beforeAll(async () => {
    authServer = await startMlflowServer({ dir: path.join(workDir, "auth"), basicAuth: true });
  });

  afterAll(async () => {
    await authServer?.stop();
  });

  it("maps a 401 to a non-retryable auth error, and accepts the right credentials from env", async () => {
    const anonymous = createMlflowClient({ trackingUri: authServer.trackingUri, env: {} });
    const missing = await caught(anonymous.experiments.getOrCreate(`auth-${suffix}`));
    expect(missing).toMatchObject({ status: 401, retryable: false, isAuthError: true });
    expect(toSendResult(missing).kind).toBe("auth");

    const credentials = authServer.basicAuth!;
    const wrong = createMlflowClient({
      trackingUri: authServer.trackingUri,
      env: { MLFLOW_TRACKING_USERNAME: credentials.username, MLFLOW_TRACKING_PASSWORD: "wrong-password" },
    });
    const denied = await caught(wrong.experiments.getByName("Default"));
    expect(denied).toMatchObject({ status: 401, retryable: false });
    expect(denied.message).not.toContain("wrong-password");

    const admin = createMlflowClient({
      trackingUri: authServer.trackingUri,
      env: { MLFLOW_TRACKING_USERNAME: credentials.username, MLFLOW_TRACKING_PASSWORD: credentials.password },
    });
    expect(admin.authKind).toBe("basic");
    const { experiment, created } = await admin.experiments.getOrCreate(`auth-${suffix}`);
    expect(created).toBe(true);
    const run = await admin.runs.create({ experimentId: experiment.experimentId, runName: "authed" });
    await admin.runs.logBatch(run.info.runId, { metrics: [{ key: "m", value: 1 }] });
    expect(await admin.metrics.getHistory(run.info.runId, "m")).toHaveLength(1);
  });
});

describe("server down", () => {
  it("gives a retryable network error when nothing listens", async () => {
    const port = await findFreePort();
    const nowhere = createMlflowClient({
      trackingUri: `http://127.0.0.1:${port}`,
      env: {},
      timeoutMs: 5_000,
    });
    const error = await caught(nowhere.experiments.getByName("Default"));
    expect(error).toMatchObject({ kind: "network", status: 0, errorCode: "NETWORK_ERROR", retryable: true });
    expect(error.message).toContain("ECONNREFUSED");
    expect(toSendResult(error).kind).toBe("retry");
    expect(await nowhere.checkHealth()).toBe(false);
  });

  it("fails retryably while the server is stopped and works again after a restart, data kept", async () => {
    const { experiment } = await client.experiments.getOrCreate(`clawscope-restart-${suffix}`);
    await server.stop();
    const error = await caught(client.experiments.getByName(experiment.name));
    expect(error.retryable).toBe(true);
    expect(toSendResult(error).kind).toBe("retry");
    await server.restart();
    expect(await client.checkHealth()).toBe(true);
    expect((await client.experiments.getByName(experiment.name))?.experimentId).toBe(experiment.experimentId);
  });
});

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
