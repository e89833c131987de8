/**
 * clawscope-mlflow through the fake host and the real diagnostic bus, against a real MLflow server
 * (SQLite store). Every assertion reads back through MLflow's REST API: the experiment, the run's
 * status, tags and params, and metric histories that sum to the gateway's own totals.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createPackPlugin, resolveGatewayIdentity, type SubscribeToBus } from "@clawscope/kit";
import {
  buildTurnEvents,
  createFakeHost,
  type FakeHost,
  type TurnSpec,
  waitFor,
  waitForHostInputHandled,
} from "@clawscope/testing";
import {
  emitTrustedDiagnosticEvent,
  onInternalDiagnosticEvent,
} from "openclaw/plugin-sdk/diagnostic-runtime";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
// relative until `pnpm install` links the workspace packages into this package
import { createMlflowPluginSpec } from "../../extensions/mlflow/src/plugin-spec.js";
import {
  createMlflowClient,
  type MlflowClient,
  type MlflowRun,
} from "../../packages/mlflow-client/src/index.js";
import { type MlflowServer, startMlflowServer } from "./harness/mlflow-server.js";

let workDir: string;
let server: MlflowServer;
let client: MlflowClient;
const suffix = Date.now().toString(36);
const hosts: FakeHost[] = [];

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), "clawscope-mlflow-ext-"));
  server = await startMlflowServer({ dir: path.join(workDir, "server") });
  client = createMlflowClient({ trackingUri: server.trackingUri, env: {} });
});

afterAll(async () => {
  await server?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

afterEach(async () => {
  for (const host of hosts.splice(0)) await host.cleanup();
});

/** Starts the plugin in a fake host; fast run-creation retries so the outage test stays short. */
async function startGateway(config: Record<string, unknown>, stateDir?: string): Promise<FakeHost> {
  const entry = () =>
    createPackPlugin(createMlflowPluginSpec({ runRetry: { initialMs: 200, maxMs: 1_000 } }), {
      subscribe: onInternalDiagnosticEvent as SubscribeToBus,
    });
  const host = await createFakeHost(entry, {
    pluginConfig: { trackingUri: server.trackingUri, flushIntervalMs: 300, settleMs: 100, ...config },
    hostConfig: { agents: { list: [{ id: "main" }] }, channels: { telegram: {} } },
    ...(stateDir ? { stateDir } : {}),
  });
  hosts.push(host);
  await host.startServices();
  return host;
}

async function replayTurn(host: FakeHost, spec: TurnSpec) {
  const built = buildTurnEvents(spec);
  for (const input of built.inputs) {
    if (input.kind === "event") emitTrustedDiagnosticEvent(input.event as never);
    else await host.fireHook(input.name, input.event, input.context as Record<string, unknown>);
  }
  await waitForHostInputHandled();
  return built;
}

async function findRuns(experimentName: string, gatewayName: string): Promise<MlflowRun[]> {
  const experiment = await client.experiments.getByName(experimentName);
  if (!experiment) return [];
  return client.runs.searchAll({
    experimentIds: [experiment.experimentId],
    filter: `tags.\`clawscope.gateway\` = '${gatewayName}'`,
  });
}

async function historySum(runId: string, key: string): Promise<number> {
  const history = await client.metrics.getHistory(runId, key);
  return history.reduce((total, point) => total + point.value, 0);
}

const threeTurns = (prefix: string): TurnSpec[] => [
  {
    runId: `${prefix}-1`,
    sessionKey: "s1",
    channel: "telegram",
    modelCalls: [{ usage: { input: 100, output: 20 } }],
  },
  {
    runId: `${prefix}-2`,
    sessionKey: "s1",
    channel: "telegram",
    modelCalls: [{ usage: { input: 300, output: 40, cacheRead: 50 } }, { usage: { input: 7, output: 3 } }],
  },
  {
    runId: `${prefix}-3`,
    sessionKey: "s2",
    channel: "discord",
    modelCalls: [{ usage: { input: 11, output: 13 } }],
  },
];

describe("clawscope-mlflow against a real MLflow server", () => {
  it("runs RUNNING with tags and params, metric histories sum to the turns, FINISHED on stop", async () => {
    const experimentName = `clawscope-ext-${suffix}-a`;
    const host = await startGateway({ experimentName, gatewayName: "gw-a", token: "secret-token-1234" });
    await waitFor(async () => (await findRuns(experimentName, "gw-a")).length === 1, 30_000, {
      message: "run created",
    });
    const [run] = await findRuns(experimentName, "gw-a");
    if (!run) throw new Error("no run");
    expect(run.info.status).toBe("RUNNING");
    expect(run.data.tags).toMatchObject({
      "clawscope.gateway": "gw-a",
      "clawscope.pack_version": "0.1.0",
      "openclaw.agents": "main",
      "openclaw.channels": "telegram",
    });
    expect(run.data.params).toMatchObject({ experimentName, token: "[redacted]", flushIntervalMs: "300" });

    const built = [];
    for (const spec of threeTurns("a")) built.push(await replayTurn(host, spec));
    const expected = {
      input: built.reduce((total, turn) => total + turn.totals.input, 0),
      output: built.reduce((total, turn) => total + turn.totals.output, 0),
      cacheRead: built.reduce((total, turn) => total + turn.totals.cacheRead, 0),
      cost: built.reduce((total, turn) => total + turn.totals.costUsd, 0),
    };
    expect(expected.input).toBe(418);
    await waitFor(async () => (await historySum(run.info.runId, "turns")) === 3, 30_000, {
      intervalMs: 200,
      message: "three turns in the metric history",
    });
    expect(await historySum(run.info.runId, "tokens.input")).toBe(expected.input);
    expect(await historySum(run.info.runId, "tokens.output")).toBe(expected.output);
    expect(await historySum(run.info.runId, "tokens.cache_read")).toBe(expected.cacheRead);
    // float sums in another grouping can differ in the last bits; 12 decimals is below a micro-cent
    expect(await historySum(run.info.runId, "cost_usd")).toBeCloseTo(expected.cost, 12);
    expect(await historySum(run.info.runId, "requests.channel.telegram")).toBe(2);
    expect(await historySum(run.info.runId, "model_calls")).toBe(4);
    const steps = (await client.metrics.getHistory(run.info.runId, "turns")).map((point) => point.step);
    expect(steps.every((step) => Number.isInteger(step) && step >= 0)).toBe(true);

    await host.stopServices();
    const finished = await client.runs.get(run.info.runId);
    expect(finished.info.status).toBe("FINISHED");
    expect(finished.info.endTime).toBeGreaterThan(0);
  });

  it("closes a run a crashed process of this gateway left RUNNING as FAILED, not another gateway's", async () => {
    const experimentName = `clawscope-ext-${suffix}-b`;
    const { experiment } = await client.experiments.getOrCreate(experimentName);
    const stateDir = mkdtempSync(path.join(workDir, "gw-b-"));
    const crashedAt = Date.now() - 60_000;
    const crashed = await client.runs.create({
      experimentId: experiment.experimentId,
      startTime: crashedAt - 60_000,
      tags: {
        "clawscope.gateway": "gw-b",
        "clawscope.gateway_instance": resolveGatewayIdentity("gw-b", stateDir, {}).id,
      },
    });
    await client.runs.logBatch(crashed.info.runId, {
      metrics: [{ key: "turns", value: 1, timestamp: crashedAt, step: 0 }],
    });
    // same gateway name, other state dir: another live gateway whose run must stay RUNNING
    const other = await client.runs.create({
      experimentId: experiment.experimentId,
      tags: {
        "clawscope.gateway": "gw-b",
        "clawscope.gateway_instance": resolveGatewayIdentity("gw-b", "/elsewhere", {}).id,
      },
    });

    await startGateway({ experimentName, gatewayName: "gw-b" }, stateDir);
    await waitFor(async () => (await client.runs.get(crashed.info.runId)).info.status === "FAILED", 30_000, {
      intervalMs: 200,
      message: "stale run closed",
    });
    const closed = await client.runs.get(crashed.info.runId);
    expect(closed.info.endTime).toBe(crashedAt);
    expect((await client.runs.get(other.info.runId)).info.status).toBe("RUNNING");
    await waitFor(
      async () =>
        (await findRuns(experimentName, "gw-b")).some(
          (run) => run.info.status === "RUNNING" && run.info.runId !== other.info.runId,
        ),
      30_000,
      { intervalMs: 200, message: "new run created" },
    );
  });

  it("does not block the gateway while MLflow is down at start; creates the run and delivers metrics once it is up", async () => {
    const experimentName = `clawscope-ext-${suffix}-c`;
    await server.stop();
    let host: FakeHost;
    try {
      host = await startGateway({ experimentName, gatewayName: "gw-c" });
      const built = [];
      for (const spec of threeTurns("c")) built.push(await replayTurn(host, spec));
      // let a few flush intervals and failed attempts pass while the server is down
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(host.logs.messages().some((line) => /not ready yet/.test(line))).toBe(true);
    } finally {
      await server.restart();
    }
    await waitFor(async () => (await findRuns(experimentName, "gw-c")).length === 1, 60_000, {
      intervalMs: 250,
      message: "run created after the outage",
    });
    const [run] = await findRuns(experimentName, "gw-c");
    if (!run) throw new Error("no run");
    await waitFor(async () => (await historySum(run.info.runId, "turns")) === 3, 60_000, {
      intervalMs: 250,
      message: "spooled metrics delivered",
    });
    expect(await historySum(run.info.runId, "tokens.input")).toBe(418);
    await host.stopServices();
    expect((await client.runs.get(run.info.runId)).info.status).toBe("FINISHED");
  });
});
