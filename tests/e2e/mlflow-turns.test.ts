/**
 * Issue 4, end to end on the real gateway and a real MLflow tracking server (fresh SQLite store):
 * five turns — plain, a tool call, a provider 400 and a WS `chat.send` — become one RUNNING run with
 * the gateway's tags and params, metric histories that sum to the gateway's own `model.usage`
 * totals, and one trace per turn with AGENT, CHAT_MODEL and TOOL spans carrying the host's token
 * counts; the run is FINISHED once the gateway stops. Everything is read back through MLflow's REST API.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import type { Turn } from "@clawscope/kit";
import { findFreePort, type MlflowServer } from "@clawscope/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayHandle, REPO_ROOT, startGateway } from "./harness/gateway.js";
import { chatCompletion, chatSend, waitFor } from "./harness/gateway-client.js";
import { createPhaseTimer } from "./harness/mlflow-phases.js";
import {
  listMlflowSpool,
  MLFLOW_SETUP_TIMEOUT_MS,
  mlflowPlugin,
  mlflowProblems,
  readMlflowStatus,
  readRunStatus,
} from "./harness/mlflow-plugin.js";
import {
  createMlflowReader,
  duplicateSteps,
  type MlflowMetricPoint,
  type MlflowReader,
  type MlflowRunView,
  type MlflowSpanView,
  type MlflowTraceInfo,
  readTraceCost,
  readTraceTokenUsage,
  sumHistory,
  toHashedSessionId,
  toMlflowTraceId,
} from "./harness/mlflow-rest.js";
import { startE2eMlflowServer } from "./harness/mlflow-server.js";
import type { MockUsage } from "./harness/mock-reply.js";
import { ECHO_TOOL_PLUGIN } from "./harness/plugin-fixtures.js";
import {
  type ProbeRecords,
  probePlugin,
  type RecordedModelUsage,
  waitForProbeRecords,
} from "./harness/probe.js";

const STAMP = Date.now();
const EXPERIMENT = `e2e-mlflow-turns-${STAMP}`;
const GATEWAY_NAME = "e2e-mlflow-turns";
const SESSION = "mlflow-turns";
const SESSION_KEY = `agent:main:${SESSION}`;
const WS_SESSION_KEY = "agent:main:mlflow-turns-ws";
const WS_RUN_ID = `mlflow-ws-${STAMP}`;
const HASH_KEY = "mlflow-e2e-hash-key-0123456789";
const FLUSH_INTERVAL_MS = 500;
/** Every reply reports cache reads and writes (part of the prompt tokens, as OpenAI counts), so the cache keys carry figures. */
const MOCK_USAGE: MockUsage = {
  promptTokens: 111,
  completionTokens: 22,
  cachedTokens: 40,
  cacheWriteTokens: 9,
};

type TurnName = "first" | "plain" | "tool" | "failed" | "ws";
const TURN_NAMES: readonly TurnName[] = ["first", "plain", "tool", "failed", "ws"];

/** One turn as MLflow shows it. */
interface TurnTrace {
  turn: Turn;
  info: MlflowTraceInfo;
  spans: MlflowSpanView[];
  /** The host's own `model.usage` of the turn (none for a failed provider call). */
  host: RecordedModelUsage | undefined;
}

/** The parent of a live process (Linux `/proc`), or undefined. */
function readParentPid(pid: number): number | undefined {
  try {
    // `pid (comm) state ppid ...`: comm may hold spaces, so read after its closing parenthesis
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

describe("mlflow: five gateway turns as one run's metrics and one trace per turn in a real MLflow", () => {
  const serverDir = path.join(REPO_ROOT, ".e2e-tmp", `mlflow-turns-server-${STAMP}`);
  let server: MlflowServer;
  let mlflow: MlflowReader;
  let gateway: GatewayHandle;
  let records: ProbeRecords;
  let experimentId: string;
  let runWhileRunning: MlflowRunView;
  let histories: Map<string, MlflowMetricPoint[]>;
  const runIds = {} as Record<TurnName, string>;
  const traces = {} as Record<TurnName, TurnTrace>;

  beforeAll(async () => {
    // the plugin specs first: a stale bundle fails here, before MLflow's slow first start
    const port = await findFreePort();
    const trackingUri = `http://127.0.0.1:${port}`;
    const plugins = [
      mlflowPlugin({
        trackingUri,
        experimentName: EXPERIMENT,
        gatewayName: GATEWAY_NAME,
        flushIntervalMs: FLUSH_INTERVAL_MS,
        settleMs: 300,
        hashKey: HASH_KEY,
      }),
      probePlugin({ settleMs: 300 }),
      ECHO_TOOL_PLUGIN,
    ];
    const phases = createPhaseTimer();
    // cached: the install returns at once; a fresh store runs MLflow's migrations (10–30 s)
    server = await startE2eMlflowServer({ dir: serverDir, port });
    phases.end("mlflow start");
    mlflow = createMlflowReader(server.trackingUri);
    gateway = await startGateway({ plugins, providerOptions: { usage: MOCK_USAGE } });
    phases.end("gateway start");
    const statuses: number[] = [];
    const drive = async (content: string): Promise<string> => {
      const result = await chatCompletion(gateway, { sessionKey: SESSION, content });
      statuses.push(result.status);
      return result.id ?? "";
    };
    runIds.first = await drive("hello mlflow");
    runIds.plain = await drive("hello again");
    runIds.tool = await drive("please USE_TOOL now");
    await drive("FAIL_400 please");
    expect(statuses).toEqual([200, 200, 200, 400]);
    await chatSend(gateway, {
      sessionKey: WS_SESSION_KEY,
      message: "hello over ws",
      idempotencyKey: WS_RUN_ID,
    });
    runIds.ws = WS_RUN_ID;
    phases.end("turns");

    records = await waitForProbeRecords(
      gateway,
      (current) => current.turns.length >= 5 && current.turns.some((turn) => turn.runId === WS_RUN_ID),
      "the probe to assemble the five turns",
    );
    // the 400 answer carries no completion id: its turn is the one left over in the HTTP session
    const known = new Set([runIds.first, runIds.plain, runIds.tool]);
    const failed = records.turns.filter((turn) => turn.sessionKey === SESSION_KEY && !known.has(turn.runId));
    expect(failed).toHaveLength(1);
    runIds.failed = (failed[0] as Turn).runId;

    experimentId = await waitFor(() => mlflow.experimentId(EXPERIMENT), 60_000, 250, "the experiment");
    const runs = await waitFor(
      async () => {
        const found = await mlflow.searchRuns(experimentId);
        return found.length > 0 ? found : undefined;
      },
      60_000,
      250,
      "the gateway's run",
    );
    expect(runs).toHaveLength(1);
    const runId = (runs[0] as MlflowRunView).runId;
    // every turn counted: the interval of the last one has been flushed and logged
    await waitFor(
      async () => sumHistory(await mlflow.metricHistory(runId, "turns")) >= 5,
      30_000,
      250,
      "5 turns in the run's `turns` history",
    );
    await waitFor(
      async () => (await mlflow.searchTraces(experimentId)).length >= 5,
      30_000,
      250,
      "5 traces in the experiment",
    );
    phases.end("delivery");
    runWhileRunning = await mlflow.getRun(runId);
    histories = await mlflow.allHistories(runId);
    const infos = await mlflow.searchTraces(experimentId);
    for (const name of TURN_NAMES) {
      const turn = turnByRunId(runIds[name]);
      const info = infos.find((candidate) => candidate.trace_id === toMlflowTraceId(turn.id));
      expect(info, `the trace of the ${name} turn (${turn.id})`).toBeDefined();
      const host = records.modelUsage.filter((event) => event.trace?.traceId === turn.traceId);
      expect(host.length, `model.usage events of the ${name} turn`).toBeLessThanOrEqual(1);
      traces[name] = {
        turn,
        info: info as MlflowTraceInfo,
        spans: await mlflow.getSpans((info as MlflowTraceInfo).trace_id),
        host: host[0],
      };
    }
    phases.end("read-back");
    console.info(`mlflow-turns: ${phases.summary()}`);
  }, MLFLOW_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await gateway?.close();
    await server?.stop();
    if (process.env.CLAWSCOPE_E2E_KEEP !== "1" && existsSync(serverDir))
      rmSync(serverDir, { recursive: true });
  });

  function turnByRunId(runId: string): Turn {
    const matches = records.turns.filter((turn) => turn.runId === runId);
    expect(matches, `turns assembled for run ${runId}`).toHaveLength(1);
    return matches[0] as Turn;
  }

  const hostSum = (pick: (event: RecordedModelUsage) => number | undefined) =>
    records.modelUsage.reduce((sum, event) => sum + (pick(event) ?? 0), 0);
  const history = (key: string) => histories.get(key) ?? [];

  it("creates the experiment and one RUNNING run with the gateway's tags and redacted params", async () => {
    expect(await mlflow.experimentNames(EXPERIMENT)).toEqual([EXPERIMENT]);
    const run = runWhileRunning;
    expect(run).toMatchObject({ status: "RUNNING", experimentId, lifecycleStage: "active" });
    expect(run.endTime ?? 0).toBe(0);
    expect(run.runName).toMatch(new RegExp(`^${GATEWAY_NAME} \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$`));
    expect(run.tags).toMatchObject({
      "clawscope.gateway": GATEWAY_NAME,
      "clawscope.gateway_instance": expect.stringMatching(new RegExp(`^${GATEWAY_NAME}@[0-9a-f]{12}$`)),
      "clawscope.pack_version": "0.1.0",
      "openclaw.version": "2026.9.6",
      "host.name": hostname(),
      "process.pid": expect.stringMatching(/^\d+$/),
      "mlflow.source.name": "openclaw-gateway",
      "mlflow.source.type": "LOCAL",
    });
    expect(run.params).toMatchObject({
      trackingUri: server.trackingUri,
      experimentName: EXPERIMENT,
      gatewayName: GATEWAY_NAME,
      flushIntervalMs: String(FLUSH_INTERVAL_MS),
      settleMs: "300",
      traces: "true",
      "sampling.ratio": "1",
      captureContent: "false",
    });
    // the plugin runs in the gateway process the launcher (`gateway.pid`) started
    const pid = Number(run.tags["process.pid"]);
    expect([pid, readParentPid(pid)]).toContain(gateway.pid);
    // the hash key is a secret: present as a param, never its value
    expect(JSON.stringify(run.params)).not.toContain(HASH_KEY);
    const status = await readMlflowStatus(gateway);
    expect(readRunStatus(status)).toMatchObject({ runId: run.runId, experimentId, ready: true, failures: 0 });
  });

  it("logs metric histories that sum to the gateway's own token and cost totals", () => {
    expect(records.turns).toHaveLength(5);
    expect(records.modelUsage).toHaveLength(4);
    const totals = {
      input: sumHistory(history("tokens.input")),
      output: sumHistory(history("tokens.output")),
      cacheRead: sumHistory(history("tokens.cache_read")),
      cacheWrite: sumHistory(history("tokens.cache_write")),
    };
    expect(totals).toEqual({
      input: hostSum((event) => event.usage.input),
      output: hostSum((event) => event.usage.output),
      cacheRead: hostSum((event) => event.usage.cacheRead),
      cacheWrite: hostSum((event) => event.usage.cacheWrite),
    });
    // five successful model calls (three single-call turns, a two-call tool turn), each 111 prompt
    // tokens of which 40 cache reads and 9 cache writes, and 22 completion tokens
    expect(totals).toEqual({ input: 5 * 62, output: 5 * 22, cacheRead: 5 * 40, cacheWrite: 5 * 9 });
    // float sums of the same figures in another grouping: equal far below a single turn's cost
    const cost = sumHistory(history("cost_usd"));
    expect(Math.abs(cost - hostSum((event) => event.costUsd))).toBeLessThan(1e-12);
    expect(cost).toBeGreaterThan(0);
  });

  it("counts turns, outcomes, model and tool calls, and requests per model and channel", () => {
    const sums = Object.fromEntries([...histories].map(([key, points]) => [key, sumHistory(points)]));
    const modelCalls = records.turns.reduce((total, turn) => total + turn.modelCalls.length, 0);
    const channels = new Map<string, number>();
    for (const turn of records.turns)
      channels.set(turn.channel ?? "unknown", (channels.get(turn.channel ?? "unknown") ?? 0) + 1);
    const expected: Record<string, number> = {
      "tokens.input": hostSum((event) => event.usage.input),
      "tokens.output": hostSum((event) => event.usage.output),
      "tokens.cache_read": hostSum((event) => event.usage.cacheRead),
      "tokens.cache_write": hostSum((event) => event.usage.cacheWrite),
      turns: 5,
      "outcomes.success": 4,
      "outcomes.error": 1,
      model_calls: modelCalls,
      "requests.model.mock-model": modelCalls,
      tool_calls: 1,
      ...Object.fromEntries([...channels].map(([channel, count]) => [`requests.channel.${channel}`, count])),
    };
    expect(modelCalls).toBe(6);
    expect(sums).toMatchObject(expected);
    // nothing else was counted: no unknown cost, no tool error, no aborted or incomplete turn, no drop
    const counters = Object.keys(sums).filter((key) => !/\.p\d\d$/.test(key) && key !== "cost_usd");
    expect(counters.sort()).toEqual(
      [...Object.keys(expected), ...(history("queue.dequeues").length > 0 ? ["queue.dequeues"] : [])].sort(),
    );
  });

  it("logs one point per key and interval, latency percentiles taken from the turns' own durations", () => {
    const durations = new Set(records.turns.map((turn) => turn.durationMs));
    const startedAt = runWhileRunning.startTime;
    for (const [key, points] of histories) {
      expect(duplicateSteps(points), `steps logged twice for ${key}`).toEqual([]);
      for (const point of points) {
        expect(point.timestamp, key).toBeGreaterThanOrEqual(startedAt);
        expect(point.timestamp, key).toBeLessThanOrEqual(Date.now());
      }
    }
    const p50 = history("turn_latency_ms.p50");
    // one point per interval that closed turns, each a duration the probe saw (nearest rank)
    expect(p50.map((point) => point.step)).toEqual(history("turns").map((point) => point.step));
    for (const key of ["turn_latency_ms.p50", "turn_latency_ms.p95", "turn_latency_ms.p99"]) {
      for (const point of history(key))
        expect(durations.has(point.value), `${key} ${point.value}`).toBe(true);
    }
    expect(history("model_call.latency_ms.p50").length).toBeGreaterThan(0);
  });

  it("sends one trace per turn, linked to the run, with AGENT, CHAT_MODEL and TOOL spans", async () => {
    const infos = await mlflow.searchTraces(experimentId);
    expect(infos.map((info) => info.trace_id).sort()).toEqual(
      TURN_NAMES.map((name) => toMlflowTraceId(traces[name].turn.id)).sort(),
    );
    const expectedSpans: Record<TurnName, string[]> = {
      first: ["AGENT", "CHAT_MODEL"],
      plain: ["AGENT", "CHAT_MODEL"],
      tool: ["AGENT", "CHAT_MODEL", "CHAT_MODEL", "TOOL"],
      failed: ["AGENT", "CHAT_MODEL"],
      ws: ["AGENT", "CHAT_MODEL"],
    };
    for (const name of TURN_NAMES) {
      const { info, spans, turn } = traces[name];
      expect(spans.map((span) => String(span.attributes["mlflow.spanType"])).sort(), name).toEqual(
        expectedSpans[name],
      );
      const root = spans.find((span) => span.attributes["mlflow.spanType"] === "AGENT") as MlflowSpanView;
      expect(root.name).toBe("invoke_agent main");
      expect(root.parentSpanId).toBe("");
      for (const child of spans.filter((span) => span !== root))
        expect(child.parentSpanId, name).toBe(root.spanId);
      for (const chat of spans.filter((span) => span.attributes["mlflow.spanType"] === "CHAT_MODEL"))
        expect(chat.name).toBe("chat mock-model");
      expect(info.trace_metadata?.["mlflow.trace.session"], name).toBe(
        toHashedSessionId(HASH_KEY, turn.sessionKey ?? ""),
      );
      expect(info.tags).toMatchObject({ "openclaw.outcome": turn.outcome, "openclaw.model": "mock-model" });
      expect(info.state, name).toBe(name === "failed" ? "ERROR" : "OK");
      // content capture is off: no prompt or reply left the gateway
      expect(
        spans.some((span) => span.attributes["mlflow.spanInputs"] !== undefined),
        name,
      ).toBe(false);
    }
    // the provider's 400 fails the turn's root and its model call; every other span is OK
    const failedRoot = traces.failed.spans.find((span) => span.attributes["mlflow.spanType"] === "AGENT");
    expect(failedRoot).toMatchObject({
      statusCode: "STATUS_CODE_ERROR",
      statusMessage: expect.stringContaining("400"),
    });
    const failedChat = traces.failed.spans.find(
      (span) => span.attributes["mlflow.spanType"] === "CHAT_MODEL",
    );
    expect(failedChat).toMatchObject({
      statusCode: "STATUS_CODE_ERROR",
      statusMessage: expect.stringContaining("400"),
    });
    for (const name of TURN_NAMES.filter((candidate) => candidate !== "failed"))
      for (const span of traces[name].spans)
        expect(span.statusCode, `${name}: ${span.name}`).toBe("STATUS_CODE_OK");
    const tool = traces.tool.spans.find((span) => span.attributes["mlflow.spanType"] === "TOOL");
    expect(tool?.name).toBe("execute_tool echo_tool");
    expect(JSON.stringify(infos)).not.toContain(SESSION_KEY);
    // `x-mlflow-run-id` linked every trace to the gateway's run
    const linked = await mlflow.searchTraces(experimentId, runWhileRunning.runId);
    expect(linked.map((info) => info.trace_id).sort()).toEqual(infos.map((info) => info.trace_id).sort());
  });

  it("gives each trace the host's token usage and cost for its turn", () => {
    for (const name of TURN_NAMES) {
      const { info, host, turn } = traces[name];
      const usage = readTraceTokenUsage(info);
      if (name === "failed") {
        expect(host, "a failed provider call reports no usage").toBeUndefined();
        expect(turn.outcome).toBe("error");
        expect({ input: usage.input_tokens ?? 0, output: usage.output_tokens ?? 0 }).toEqual({
          input: 0,
          output: 0,
        });
        continue;
      }
      expect(host, `model.usage of the ${name} turn`).toBeDefined();
      const figures = host?.usage ?? {};
      const input = (figures.input ?? 0) + (figures.cacheRead ?? 0) + (figures.cacheWrite ?? 0);
      expect(usage, name).toEqual({
        input_tokens: input,
        output_tokens: figures.output,
        total_tokens: input + (figures.output ?? 0),
        cache_read_input_tokens: figures.cacheRead,
        cache_creation_input_tokens: figures.cacheWrite,
      });
      // the turn's cost as the Traces tab shows it (`mlflow.trace.cost`, from the spans' `mlflow.llm.cost`)
      expect(
        Math.abs((readTraceCost(info).total_cost ?? Number.NaN) - (host?.costUsd ?? Number.NaN)),
      ).toBeLessThan(1e-12);
      const root = traces[name].spans.find((span) => span.attributes["mlflow.spanType"] === "AGENT");
      expect(
        Math.abs(Number(root?.attributes["openclaw.cost.usd"]) - (host?.costUsd ?? Number.NaN)),
      ).toBeLessThan(1e-12);
    }
    expect(readTraceTokenUsage(traces.tool.info).input_tokens).toBe(222);
  });

  it("marks the run FINISHED when the gateway stops, with nothing more logged and the spool empty", async () => {
    expect(await gateway.stop()).toBe(0);
    const run = await mlflow.getRun(runWhileRunning.runId);
    expect(run.status).toBe("FINISHED");
    expect(run.endTime ?? 0).toBeGreaterThanOrEqual(run.startTime);
    const after = await mlflow.allHistories(run.runId);
    for (const key of ["turns", "tokens.input", "tokens.output", "cost_usd", "outcomes.error"])
      expect(sumHistory(after.get(key)), key).toBe(sumHistory(histories.get(key)));
    expect(await mlflow.searchRuns(experimentId)).toHaveLength(1);
    expect(await mlflow.searchTraces(experimentId)).toHaveLength(5);
    expect(listMlflowSpool(gateway)).toEqual({ live: [], deadLettered: [] });
    // with MLflow up all along, the extension had nothing to warn about
    expect(mlflowProblems(gateway)).toEqual([]);
  });
});
