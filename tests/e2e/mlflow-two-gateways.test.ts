/**
 * Issue 4, end to end: two real gateways start at the same time against one MLflow server, with the
 * same experiment and even the same gateway name (their state folders differ). MLflow ends up with
 * one experiment and two distinct runs, RUNNING while the gateways run and FINISHED after; each run's
 * metrics and traces are its own gateway's turns (the two mock providers report different token
 * counts, so a mix-up shows); neither extension logged an error or a warning.
 */
import { existsSync, rmSync } from "node:fs";
import path from "node:path";
import { findFreePort, type MlflowServer } from "@clawscope/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayHandle, REPO_ROOT, startGateway } from "./harness/gateway.js";
import { chatCompletion, waitFor } from "./harness/gateway-client.js";
import { createPhaseTimer } from "./harness/mlflow-phases.js";
import {
  listMlflowSpool,
  MLFLOW_SETUP_TIMEOUT_MS,
  mlflowLogLines,
  mlflowPlugin,
  mlflowProblems,
  readMlflowStatus,
  readRunStatus,
} from "./harness/mlflow-plugin.js";
import {
  createMlflowReader,
  duplicateSteps,
  type MlflowReader,
  type MlflowRunView,
  sumHistory,
  toMlflowTraceId,
} from "./harness/mlflow-rest.js";
import { startE2eMlflowServer } from "./harness/mlflow-server.js";
import { readRunTotals, toComparable, toHostTotals } from "./harness/mlflow-totals.js";
import type { MockUsage } from "./harness/mock-reply.js";
import { ECHO_TOOL_PLUGIN } from "./harness/plugin-fixtures.js";
import { type ProbeRecords, probePlugin, waitForProbeTurns } from "./harness/probe.js";

const STAMP = Date.now();
const EXPERIMENT = `e2e-mlflow-two-gateways-${STAMP}`;
/** Both gateways use this name: only their state folders tell them apart (`clawscope.gateway_instance`). */
const GATEWAY_NAME = "e2e-mlflow-shared";

/** One of the two gateways and what it did. */
interface Side {
  name: "a" | "b";
  usage: MockUsage;
  /** Prompts of its two turns (the second of gateway a calls the tool). */
  prompts: [string, string];
  gateway: GatewayHandle;
  runIds: string[];
  records: ProbeRecords;
  run: MlflowRunView;
}

describe("mlflow: two gateways at once against one MLflow server", () => {
  const serverDir = path.join(REPO_ROOT, ".e2e-tmp", `mlflow-two-gateways-server-${STAMP}`);
  let server: MlflowServer;
  let mlflow: MlflowReader;
  let experimentId: string;
  const sides: Side[] = [
    {
      name: "a",
      usage: { promptTokens: 111, completionTokens: 22 },
      prompts: ["hello from a", "a asks: USE_TOOL"],
    } as Side,
    {
      name: "b",
      usage: { promptTokens: 57, completionTokens: 9, cachedTokens: 20, cacheWriteTokens: 3 },
      prompts: ["hello from b", "b again"],
    } as Side,
  ];

  beforeAll(async () => {
    // the plugin specs first: a stale bundle fails here, before MLflow's slow first start
    const port = await findFreePort();
    const config = {
      trackingUri: `http://127.0.0.1:${port}`,
      experimentName: EXPERIMENT,
      gatewayName: GATEWAY_NAME,
      flushIntervalMs: 500,
      settleMs: 300,
    };
    const plugins = [mlflowPlugin(config), probePlugin({ settleMs: 300 }), ECHO_TOOL_PLUGIN];
    const phases = createPhaseTimer();
    server = await startE2eMlflowServer({ dir: serverDir, port });
    phases.end("mlflow start");
    mlflow = createMlflowReader(server.trackingUri);
    // both at once: both extensions look up (and may race to create) the experiment at start
    const gateways = await Promise.all(
      sides.map((side) => startGateway({ plugins, providerOptions: { usage: side.usage } })),
    );
    for (const [index, side] of sides.entries()) side.gateway = gateways[index] as GatewayHandle;
    phases.end("two gateway starts");
    await Promise.all(
      sides.map(async (side) => {
        side.runIds = [];
        for (const prompt of side.prompts) {
          const result = await chatCompletion(side.gateway, {
            sessionKey: `two-${side.name}`,
            content: prompt,
          });
          expect(result.status, `${side.name}: ${prompt}`).toBe(200);
          side.runIds.push(result.id as string);
        }
        side.records = await waitForProbeTurns(side.gateway, side.runIds);
      }),
    );
    phases.end("turns");
    experimentId = await waitFor(() => mlflow.experimentId(EXPERIMENT), 60_000, 250, "the experiment");
    for (const side of sides) {
      const status = await waitFor(
        async () => readRunStatus(await readMlflowStatus(side.gateway))?.runId,
        60_000,
        250,
        `gateway ${side.name}'s run id`,
      );
      side.run = await mlflow.getRun(status);
      await waitFor(
        async () => sumHistory(await mlflow.metricHistory(side.run.runId, "turns")) >= 2,
        30_000,
        250,
        `2 turns in run ${side.run.runId} of gateway ${side.name}`,
      );
      await waitFor(
        async () => (await mlflow.searchTraces(experimentId, side.run.runId)).length >= 2,
        30_000,
        250,
        `2 traces linked to gateway ${side.name}'s run`,
      );
    }
    phases.end("delivery");
    console.info(`mlflow-two-gateways: ${phases.summary()}`);
  }, MLFLOW_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all(sides.map((side) => side.gateway?.close()));
    await server?.stop();
    if (process.env.CLAWSCOPE_E2E_KEEP !== "1" && existsSync(serverDir))
      rmSync(serverDir, { recursive: true });
  });

  it("shares one experiment and gives each gateway a distinct RUNNING run", async () => {
    expect(await mlflow.experimentNames("e2e-mlflow-two-gateways-")).toEqual([EXPERIMENT]);
    const [a, b] = sides as [Side, Side];
    expect(a.run.runId).not.toBe(b.run.runId);
    const runs = await mlflow.searchRuns(experimentId);
    expect(runs.map((run) => run.runId).sort()).toEqual([a.run.runId, b.run.runId].sort());
    for (const run of runs) {
      expect(run.status).toBe("RUNNING");
      expect(run.tags["clawscope.gateway"]).toBe(GATEWAY_NAME);
    }
    // one name, two identities: neither gateway would close the other's live run as crashed
    expect(a.run.tags["clawscope.gateway_instance"]).toMatch(new RegExp(`^${GATEWAY_NAME}@[0-9a-f]{12}$`));
    expect(a.run.tags["clawscope.gateway_instance"]).not.toBe(b.run.tags["clawscope.gateway_instance"]);
    expect(a.run.tags["process.pid"]).not.toBe(b.run.tags["process.pid"]);
    // exactly one of them created the experiment; the other found it (or lost the create race and read it)
    const creators = sides.filter((side) =>
      mlflowLogLines(side.gateway).some((line) =>
        line.message.includes(`created MLflow experiment "${EXPERIMENT}" (${experimentId})`),
      ),
    );
    expect(creators).toHaveLength(1);
    for (const side of sides) {
      expect(readRunStatus(await readMlflowStatus(side.gateway)), side.name).toMatchObject({
        experimentId,
        ready: true,
        failures: 0,
        staleRunsClosed: 0,
      });
    }
  });

  it("sums each run's metrics to its own gateway's totals", async () => {
    for (const side of sides) {
      const { totals, histories } = await readRunTotals(mlflow, side.run.runId);
      const host = toHostTotals(side.records);
      expect(toComparable(totals), `run of gateway ${side.name}`).toEqual(toComparable(host));
      for (const [key, points] of histories)
        expect(duplicateSteps(points), `${side.name} ${key}`).toEqual([]);
      expect(sumHistory(histories.get("tool_calls")), side.name).toBe(side.name === "a" ? 1 : 0);
    }
    // the providers' figures: a made 3 model calls of 111/22, b 2 of 57/9 (20 of the 57 cache reads, 3 writes)
    const [a, b] = sides as [Side, Side];
    expect((await readRunTotals(mlflow, a.run.runId)).totals).toMatchObject({
      input: 333,
      output: 66,
      cacheRead: 0,
      cacheWrite: 0,
      turns: 2,
    });
    expect((await readRunTotals(mlflow, b.run.runId)).totals).toMatchObject({
      input: 68,
      output: 18,
      cacheRead: 40,
      cacheWrite: 6,
      turns: 2,
    });
  });

  it("links each gateway's traces to its own run", async () => {
    const all = await mlflow.searchTraces(experimentId);
    expect(all).toHaveLength(4);
    for (const side of sides) {
      const linked = await mlflow.searchTraces(experimentId, side.run.runId);
      const expected = side.records.turns.map((turn) => toMlflowTraceId(turn.id));
      expect(linked.map((info) => info.trace_id).sort(), side.name).toEqual(expected.sort());
    }
  });

  it("finishes both runs when the gateways stop, without an error or a warning from either extension", async () => {
    expect(await Promise.all(sides.map((side) => side.gateway.stop()))).toEqual([0, 0]);
    for (const side of sides) {
      const run = await mlflow.getRun(side.run.runId);
      expect(run.status, side.name).toBe("FINISHED");
      expect(run.endTime ?? 0).toBeGreaterThanOrEqual(run.startTime);
      expect(listMlflowSpool(side.gateway), side.name).toEqual({ live: [], deadLettered: [] });
      expect(mlflowProblems(side.gateway), `gateway ${side.name}`).toEqual([]);
    }
    expect(await mlflow.searchRuns(experimentId)).toHaveLength(2);
  });
});
