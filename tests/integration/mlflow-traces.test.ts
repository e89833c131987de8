/**
 * clawscope-mlflow traces through the fake host and the real diagnostic bus, against a real MLflow
 * server (SQLite store): spans go to MLflow's OTLP endpoint and every assertion reads back through
 * MLflow's own REST API (`POST /api/3.0/mlflow/traces/search`, `GET /api/3.0/mlflow/traces/get`).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createPackPlugin, type SubscribeToBus } from "@clawscope/kit";
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
import { createMlflowClient, type MlflowClient } from "../../packages/mlflow-client/src/index.js";
import { type MlflowServer, startMlflowServer } from "./harness/mlflow-server.js";

let workDir: string;
let server: MlflowServer;
let client: MlflowClient;
const suffix = Date.now().toString(36);
const hosts: FakeHost[] = [];

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), "clawscope-mlflow-traces-"));
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

async function startGateway(config: Record<string, unknown>): Promise<FakeHost> {
  const entry = () =>
    createPackPlugin(createMlflowPluginSpec({ runRetry: { initialMs: 200, maxMs: 1_000 } }), {
      subscribe: onInternalDiagnosticEvent as SubscribeToBus,
    });
  const host = await createFakeHost(entry, {
    pluginConfig: { trackingUri: server.trackingUri, flushIntervalMs: 300, settleMs: 100, ...config },
    hostConfig: { agents: { list: [{ id: "main" }] }, channels: { telegram: {} } },
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

/** A TraceInfo of `POST /api/3.0/mlflow/traces/search` (the fields we read). */
interface TraceInfo {
  trace_id: string;
  state?: string;
  trace_metadata?: Record<string, string>;
  tags?: Record<string, string>;
}

async function mlflowJson(method: "GET" | "POST", route: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${server.trackingUri}${route}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

async function searchTraces(experimentId: string): Promise<TraceInfo[]> {
  const answer = (await mlflowJson("POST", "/api/3.0/mlflow/traces/search", {
    locations: [{ type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: experimentId } }],
    max_results: 100,
  })) as { traces?: TraceInfo[] };
  return answer.traces ?? [];
}

/** The spans of one trace as `{ name, attributes }`, attribute values decoded from OTLP's AnyValue. */
async function getSpans(
  traceId: string,
): Promise<Array<{ name: string; attributes: Record<string, unknown> }>> {
  const answer = (await mlflowJson(
    "GET",
    `/api/3.0/mlflow/traces/get?trace_id=${encodeURIComponent(traceId)}`,
  )) as { trace?: { spans?: Array<{ name: string; attributes?: Array<{ key: string; value: unknown }> }> } };
  return (answer.trace?.spans ?? []).map((span) => ({
    name: span.name,
    attributes: Object.fromEntries(
      (span.attributes ?? []).map((entry) => [entry.key, readAnyValue(entry.value)]),
    ),
  }));
}

function readAnyValue(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  const record = value as Record<string, unknown>;
  for (const key of [
    "string_value",
    "stringValue",
    "bool_value",
    "boolValue",
    "double_value",
    "doubleValue",
  ]) {
    if (key in record) return record[key];
  }
  for (const key of ["int_value", "intValue"]) if (key in record) return Number(record[key]);
  const kvlist = (record.kvlist_value ?? record.kvlistValue) as {
    values?: Array<{ key: string; value: unknown }>;
  };
  if (kvlist)
    return Object.fromEntries((kvlist.values ?? []).map((entry) => [entry.key, readAnyValue(entry.value)]));
  return record;
}

const turns = (prefix: string): TurnSpec[] => [
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
    tools: [{ toolName: "calculator", params: { expr: "2+2" }, result: "4", afterCall: 0 }],
  },
  {
    runId: `${prefix}-3`,
    sessionKey: "s2",
    channel: "discord",
    modelCalls: [{ usage: { input: 11, output: 13 } }],
  },
];

describe("clawscope-mlflow traces against a real MLflow server", () => {
  it("sends one trace per turn with AGENT, CHAT_MODEL and TOOL spans, token usage and the hashed session", async () => {
    const experimentName = `clawscope-traces-${suffix}`;
    const host = await startGateway({ experimentName, gatewayName: "gw-t" });
    const built = [];
    for (const spec of turns("t")) built.push(await replayTurn(host, spec));
    await waitFor(async () => (await client.experiments.getByName(experimentName)) !== undefined, 30_000, {
      message: "experiment created",
    });
    const experiment = await client.experiments.getByName(experimentName);
    if (!experiment) throw new Error("no experiment");
    await waitFor(async () => (await searchTraces(experiment.experimentId)).length === 3, 30_000, {
      intervalMs: 250,
      message: "three traces in MLflow",
    });
    const infos = await searchTraces(experiment.experimentId);
    expect(infos).toHaveLength(3);

    const bySession = new Map<string, number>();
    let totalInput = 0;
    let totalOutput = 0;
    let totalCost = 0;
    const spanTypes: string[] = [];
    for (const info of infos) {
      expect(info.state).toBe("OK");
      const metadata = info.trace_metadata ?? {};
      const session = metadata["mlflow.trace.session"];
      expect(session).toMatch(/^[0-9a-f]{32}$/);
      bySession.set(session ?? "", (bySession.get(session ?? "") ?? 0) + 1);
      const usage = JSON.parse(metadata["mlflow.trace.tokenUsage"] ?? "{}") as Record<string, number>;
      totalInput += usage.input_tokens ?? 0;
      totalOutput += usage.output_tokens ?? 0;
      // mlflow.llm.cost (sent as a map) becomes the trace's cost in the Traces tab
      const cost = JSON.parse(metadata["mlflow.trace.cost"] ?? "{}") as Record<string, number>;
      totalCost += cost.total_cost ?? 0;
      expect(info.tags?.["openclaw.channel"]).toMatch(/^(telegram|discord)$/);
      const spans = await getSpans(info.trace_id);
      const types = spans.map((span) => String(span.attributes["mlflow.spanType"]));
      expect(types.filter((type) => type === "AGENT")).toHaveLength(1);
      spanTypes.push(...types);
      const chat = spans.find((span) => span.attributes["mlflow.spanType"] === "CHAT_MODEL");
      expect(chat?.attributes["mlflow.chat.tokenUsage"]).toMatchObject({ input_tokens: expect.any(Number) });
      // content capture is off by default: no inputs or outputs left the gateway
      expect(spans.some((span) => span.attributes["mlflow.spanInputs"] !== undefined)).toBe(false);
    }
    // two turns share session s1; raw session keys never reach MLflow
    expect([...bySession.values()].sort()).toEqual([1, 2]);
    expect(JSON.stringify(infos)).not.toContain("agent:main:s1");
    const expectedInput = built.reduce(
      (total, turn) => total + turn.totals.input + turn.totals.cacheRead + turn.totals.cacheWrite,
      0,
    );
    expect(totalInput).toBe(expectedInput);
    expect(totalOutput).toBe(built.reduce((total, turn) => total + turn.totals.output, 0));
    const expectedCost = built.reduce((total, turn) => total + turn.totals.costUsd, 0);
    expect(expectedCost).toBeGreaterThan(0);
    expect(totalCost).toBeCloseTo(expectedCost, 12);
    expect(spanTypes.filter((type) => type === "AGENT")).toHaveLength(3);
    expect(spanTypes.filter((type) => type === "CHAT_MODEL")).toHaveLength(4);
    expect(spanTypes.filter((type) => type === "TOOL")).toHaveLength(1);
    await host.stopServices();
  });

  it("at sampling ratio 0 still traces the failed turn, with its content when capture is on", async () => {
    const experimentName = `clawscope-traces-${suffix}-sampled`;
    const host = await startGateway({
      experimentName,
      gatewayName: "gw-s",
      captureContent: true,
      sampling: { ratio: 0 },
    });
    await replayTurn(host, {
      runId: "s-ok",
      sessionKey: "s1",
      modelCalls: [{ usage: { input: 5, output: 6 } }],
    });
    await replayTurn(host, {
      runId: "s-failed",
      sessionKey: "s1",
      modelCalls: [{ error: { category: "provider_error", message: "HTTP 400 bad request" } }],
    });
    await waitFor(async () => (await client.experiments.getByName(experimentName)) !== undefined, 30_000, {
      message: "experiment created",
    });
    const experiment = await client.experiments.getByName(experimentName);
    if (!experiment) throw new Error("no experiment");
    await waitFor(async () => (await searchTraces(experiment.experimentId)).length >= 1, 30_000, {
      intervalMs: 250,
      message: "the failed turn's trace in MLflow",
    });
    await host.stopServices();
    // stopping flushed every pipeline: had the healthy turn been traced, it would be here now
    const infos = await searchTraces(experiment.experimentId);
    expect(infos).toHaveLength(1);
    const [info] = infos;
    expect(info?.state).toBe("ERROR");
    const spans = await getSpans(info?.trace_id ?? "");
    const chat = spans.find((span) => span.attributes["mlflow.spanType"] === "CHAT_MODEL");
    expect(chat).toBeDefined();
    const root = spans.find((span) => span.attributes["mlflow.spanType"] === "AGENT");
    expect(root?.attributes["mlflow.spanInputs"]).toEqual(expect.any(String));
  });
});
