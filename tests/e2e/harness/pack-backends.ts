/**
 * The whole pack against its real backends at once: a real OpenTelemetry Collector, a real MLflow
 * server and the Langfuse contract receiver, the three extensions' plugin specs pointed at them, and
 * per-turn readers that say what each backend holds of a turn (read back through each backend's own
 * files or API, with the ids derived independently of the extensions).
 */
import { existsSync, rmSync } from "node:fs";
import path from "node:path";
import {
  createLangfuseReceiver,
  findFreePort,
  type LangfuseObservation,
  type LangfuseReceiver,
  type MlflowServer,
  toLangfuseObservations,
} from "@clawscope/testing";
import { REPO_ROOT } from "./gateway.js";
import type { GatewayPluginSpec } from "./gateway-config.js";
import { langfusePlugin } from "./langfuse-plugin.js";
import { findDeliveredTurn, sumDetail, toLangfuseTraceId } from "./langfuse-traces.js";
import { mlflowPlugin } from "./mlflow-plugin.js";
import {
  createMlflowReader,
  type MlflowReader,
  type MlflowSpanView,
  readTraceCost,
  readTraceTokenUsage,
  sumHistory,
  toMlflowTraceId,
} from "./mlflow-rest.js";
import { startE2eMlflowServer } from "./mlflow-server.js";
import {
  type CollectedSpan,
  type CollectorHandle,
  ensureCollectorBinary,
  startCollector,
} from "./otel-collector.js";
import { otelPlugin } from "./otel-plugin.js";
import {
  clawscopePoints,
  clawscopeSpans,
  groupTraces,
  toClawscopeTraceId,
  totalsBy,
} from "./otel-signals.js";

/** Token buckets and cost as every reader reports them (`costUsd` undefined: no cost given). */
export interface Figures {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  costUsd: number | undefined;
}

/** What a backend holds of one turn. */
export interface BackendTurn {
  /** Tokens and cost of the trace as the backend totals it. */
  figures: Figures;
  /** The root's span or observation: failed, and its time range. */
  failed: boolean;
  startMs: number;
  endMs: number;
  /** One per model call (attempts included), by start time: failed, time range. */
  calls: Array<{ failed: boolean; startMs: number; endMs: number; statusMessage: string }>;
  tools: number;
}

/** The three backends and how to read them. */
export interface PackBackends {
  collector: CollectorHandle;
  mlflow: MlflowServer;
  /** MLflow's folder: its SQLite store and artifacts. */
  mlflowDir: string;
  mlflowReader: MlflowReader;
  langfuse: LangfuseReceiver;
  /** The three extensions' specs (one MLflow experiment per `experiment`), `common` merged into each. */
  plugins(experiment: string, common: Record<string, unknown>): GatewayPluginSpec[];
  otelTurn(turnId: string): BackendTurn | undefined;
  mlflowTurn(experimentId: string, turnId: string): Promise<BackendTurn | undefined>;
  langfuseTurn(turnId: string): BackendTurn | undefined;
  /** Totals of the OTel metrics (tokens by type, priced cost), the latest point of every series. */
  otelMetricTotals(serviceName: string): Figures;
  /** Totals of an MLflow run's metric histories. */
  mlflowRunTotals(runId: string): Promise<Figures>;
  close(): Promise<void>;
}

/** Starts the Collector, MLflow (installed and cached on first use) and the Langfuse receiver. */
export async function startPackBackends(name: string): Promise<PackBackends> {
  const root = path.join(REPO_ROOT, ".e2e-tmp", `${name}-backends-${Date.now()}`);
  await ensureCollectorBinary();
  const collector = await startCollector({ dir: path.join(root, "collector") });
  const port = await findFreePort();
  const mlflowDir = path.join(root, "mlflow");
  const mlflow = await startE2eMlflowServer({ dir: mlflowDir, port });
  const mlflowReader = createMlflowReader(mlflow.trackingUri);
  const langfuse = await createLangfuseReceiver();

  const otelTurn = (turnId: string): BackendTurn | undefined => {
    const trace = groupTraces(clawscopeSpans(collector.readTraces())).get(toClawscopeTraceId(turnId));
    const root = trace?.roots[0];
    if (!trace || !root) return undefined;
    const chats = trace.spans.filter((span) => span.attributes["gen_ai.operation.name"] === "chat");
    const cost = root.attributes["openclaw.cost.usd"];
    return {
      figures: {
        input: Number(root.attributes["openclaw.tokens.input"] ?? 0),
        output: Number(root.attributes["openclaw.tokens.output"] ?? 0),
        cacheRead: Number(root.attributes["openclaw.tokens.cache_read"] ?? 0),
        cacheWrite: Number(root.attributes["openclaw.tokens.cache_write"] ?? 0),
        costUsd: typeof cost === "number" ? cost : undefined,
      },
      failed: root.status.code === 2,
      ...spanTimes(root),
      calls: chats
        .map((span) => ({
          failed: span.status.code === 2,
          ...spanTimes(span),
          statusMessage: span.status.message ?? "",
        }))
        .sort((left, right) => left.startMs - right.startMs),
      tools: trace.spans.filter((span) => span.attributes["gen_ai.operation.name"] === "execute_tool").length,
    };
  };

  const mlflowTurn = async (experimentId: string, turnId: string): Promise<BackendTurn | undefined> => {
    const traceId = toMlflowTraceId(turnId);
    const info = (await mlflowReader.searchTraces(experimentId)).find((trace) => trace.trace_id === traceId);
    if (!info) return undefined;
    const spans = await mlflowReader.getSpans(traceId);
    const root = spans.find((span) => span.parentSpanId === "");
    if (!root) return undefined;
    const usage = readTraceTokenUsage(info);
    const cost = readTraceCost(info);
    const chats = spans.filter((span) => span.attributes["mlflow.spanType"] === "CHAT_MODEL");
    return {
      figures: {
        // MLflow's input tokens count the cache parts too (the GenAI conventions' way)
        input:
          (usage.input_tokens ?? 0) -
          (usage.cache_read_input_tokens ?? 0) -
          (usage.cache_creation_input_tokens ?? 0),
        output: usage.output_tokens ?? 0,
        cacheRead: usage.cache_read_input_tokens ?? 0,
        cacheWrite: usage.cache_creation_input_tokens ?? 0,
        costUsd: cost.total_cost,
      },
      failed: info.state === "ERROR",
      ...mlflowTimes(root),
      calls: chats
        .map((span) => ({
          failed: span.statusCode === "STATUS_CODE_ERROR",
          ...mlflowTimes(span),
          statusMessage: span.statusMessage,
        }))
        .sort((left, right) => left.startMs - right.startMs),
      tools: spans.filter((span) => span.attributes["mlflow.spanType"] === "TOOL").length,
    };
  };

  const langfuseTurn = (turnId: string): BackendTurn | undefined => {
    const delivered = findDeliveredTurn(toLangfuseObservations(langfuse.spans), toLangfuseTraceId(turnId));
    const root = delivered?.roots[0];
    if (!delivered || !root) return undefined;
    const generations = delivered.generations;
    const priced = generations.some((generation) => generation.costDetails.total !== undefined);
    return {
      figures: {
        input: sumDetail(generations, "usageDetails", "input"),
        output: sumDetail(generations, "usageDetails", "output"),
        cacheRead: sumDetail(generations, "usageDetails", "input_cache_read"),
        cacheWrite: sumDetail(generations, "usageDetails", "input_cache_creation"),
        costUsd: priced ? sumDetail(generations, "costDetails", "total") : undefined,
      },
      failed: root.level === "ERROR",
      ...observationTimes(root),
      calls: generations
        .map((generation) => ({
          failed: generation.level === "ERROR",
          ...observationTimes(generation),
          statusMessage: generation.statusMessage ?? "",
        }))
        .sort((left, right) => left.startMs - right.startMs),
      tools: delivered.tools.length,
    };
  };

  return {
    collector,
    mlflow,
    mlflowDir,
    mlflowReader,
    langfuse,
    plugins(experiment, common) {
      return [
        otelPlugin({
          endpoint: collector.endpoint,
          metricIntervalMs: 1000,
          serviceName: experiment,
          ...common,
        }),
        mlflowPlugin({ trackingUri: mlflow.trackingUri, experimentName: experiment, ...common }),
        langfusePlugin(langfuse, common),
      ];
    },
    otelTurn,
    mlflowTurn,
    langfuseTurn,
    otelMetricTotals(serviceName) {
      const points = (metric: string) =>
        clawscopePoints(collector.readMetrics(), metric).filter(
          (point) => point.metric.resource["service.name"] === serviceName,
        );
      const tokens = totalsBy(points("openclaw.tokens"), "openclaw.token.type");
      const cost = points("openclaw.cost.usd").reduce((sum, { point }) => sum + (point.value ?? 0), 0);
      return {
        input: tokens.input ?? 0,
        output: tokens.output ?? 0,
        cacheRead: tokens.cache_read ?? 0,
        cacheWrite: tokens.cache_write ?? 0,
        costUsd: cost,
      };
    },
    async mlflowRunTotals(runId) {
      const histories = await mlflowReader.allHistories(runId);
      const sum = (key: string) => sumHistory(histories.get(key));
      return {
        input: sum("tokens.input"),
        output: sum("tokens.output"),
        cacheRead: sum("tokens.cache_read"),
        cacheWrite: sum("tokens.cache_write"),
        costUsd: sum("cost_usd"),
      };
    },
    async close() {
      await langfuse.close();
      await mlflow.stop();
      await collector.stop();
      if (process.env.CLAWSCOPE_E2E_KEEP !== "1" && existsSync(root))
        rmSync(root, { recursive: true, force: true });
    },
  };
}

function spanTimes(span: CollectedSpan): { startMs: number; endMs: number } {
  return { startMs: span.startTimeUnixNano / 1e6, endMs: span.endTimeUnixNano / 1e6 };
}

function mlflowTimes(span: MlflowSpanView): { startMs: number; endMs: number } {
  return { startMs: span.startMs, endMs: span.endMs };
}

function observationTimes(observation: LangfuseObservation): { startMs: number; endMs: number } {
  return { startMs: Date.parse(observation.startTime), endMs: Date.parse(observation.endTime) };
}
