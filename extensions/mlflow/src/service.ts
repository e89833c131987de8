/**
 * The MLflow extension at run time: one run per gateway process (created in the background, so the
 * gateway never waits on MLflow), every turn and the queue/stuck events folded into per-interval
 * metrics, and the intervals sent through the kit's pipeline — spooled, retried, flushed on stop.
 * A config reload stops and starts the service, which gives a new run: MLflow params cannot change.
 */
import { hostname } from "node:os";
import {
  flushWithinBudget,
  type OperationalEventType,
  type PackService,
  type PackStartContext,
  redactConfigForDisplay,
  shouldKeepTurn,
} from "@clawscope/kit";
import type { TurnExport } from "@clawscope/kit/otlp";
import { configDefinition, type MlflowConfig } from "./config.js";
import { createMetricAggregator } from "./domain/metric-aggregator.js";
import { toRunParams, toRunTags } from "./domain/run-identity.js";
import { readGatewayVersion } from "./gateway-version.js";
import { toTraceSpans } from "./mapping/to-trace-spans.js";
import { createMetricSender, type MetricBatch } from "./transport/metric-sender.js";
import { createMlflowClient, resolveMlflowAuth, toAuthorizationHeader } from "./transport/mlflow-client.js";
import { createRunLifecycle } from "./transport/run-lifecycle.js";
import { createTraceSender } from "./transport/trace-sender.js";

/** The pack version stamped on runs. */
export const MLFLOW_EXTENSION_VERSION = "0.1.0";

/** Host events the metrics read (the kit delivers turns separately). */
export const MLFLOW_EVENT_TYPES = [
  "queue.lane.dequeue",
  "session.stuck",
] as const satisfies readonly OperationalEventType[];

/** Test seams of {@link startMlflow}. */
export interface MlflowStartOptions {
  /** Backoff of background run creation (default 1 s doubling to 60 s). */
  runRetry?: { initialMs?: number; maxMs?: number };
}

/** Starts the MLflow service: client, run lifecycle, metric aggregation and its pipeline. */
export async function startMlflow(
  context: PackStartContext<MlflowConfig>,
  options: MlflowStartOptions = {},
): Promise<PackService> {
  const { config, logger } = context;
  const client = createMlflowClient({
    trackingUri: config.trackingUri,
    token: config.token,
    username: config.username,
    password: config.password,
    timeoutMs: config.timeoutMs,
  });
  // the identity crash recovery matches on: the kit's, shared by every extension of this gateway
  const { gateway } = context;
  const gatewayName = gateway.name;
  const gatewayInstance = gateway.id;
  const startedAt = Date.now();
  const gatewayVersion = readGatewayVersion(context.hostConfig);
  const lifecycle = createRunLifecycle({
    client,
    experimentName: config.experimentName,
    runName: config.runName ?? `${gatewayName} ${new Date(startedAt).toISOString().slice(0, 19)}Z`,
    tags: toRunTags({
      gateway,
      hostName: safeHostName(),
      packVersion: MLFLOW_EXTENSION_VERSION,
      gatewayVersion: gatewayVersion?.version,
      hostConfig: context.hostConfig,
      pid: process.pid,
    }),
    params: toRunParams(redactConfigForDisplay(configDefinition, config)),
    gatewayInstance,
    stateDir: context.stateDir,
    logger,
    // run creation backs off like the pipelines: up to the pack's retryMaxDelayMs
    retry: options.runRetry ?? { maxMs: config.retryMaxDelayMs },
  });
  const pipeline = context.createPipeline<MetricBatch>("mlflow-metrics", {
    send: createMetricSender({ client, lifecycle }),
  });
  const traceSender = config.traces
    ? createTraceSender({
        trackingUri: client.trackingUri,
        authorization: toTraceAuthorization(config),
        lifecycle,
        timeoutMs: config.timeoutMs,
        scopeVersion: MLFLOW_EXTENSION_VERSION,
        resourceAttributes: { "service.name": "openclaw-gateway", "clawscope.gateway": gatewayName },
        logger,
      })
    : undefined;
  const traces = traceSender
    ? context.createPipeline<TurnExport>("mlflow-traces", { send: traceSender.send })
    : undefined;
  const sampled = { kept: 0, sampledOut: 0 };
  const aggregator = createMetricAggregator();
  let step = 0;
  const flushInterval = () => {
    const points = aggregator.flush(step, Date.now());
    const index = step;
    step += 1;
    if (points.length === 0) return;
    const runId = lifecycle.current()?.runId;
    // the id is stable per process and interval, so a re-send after a restart is recognisable
    pipeline.enqueue(
      `metrics-${gatewayInstance}-${startedAt}-${index}`,
      runId ? { runId, points } : { points },
    );
  };
  const timer = setInterval(() => {
    try {
      flushInterval();
    } catch (error) {
      logger.limited("error", "flush", `metric flush failed: ${String(error)}`);
    }
  }, config.flushIntervalMs);
  timer.unref?.();
  lifecycle.start();
  context.health.setDetail("mlflow", {
    trackingUri: client.trackingUri,
    experiment: config.experimentName,
    gateway: gatewayName,
  });

  return {
    onTurn(turn) {
      aggregator.recordTurn(turn);
      if (!traces) return;
      const spans = toTraceSpans(turn, { hashId: context.hashId, captureContent: context.captureContent });
      const decision = shouldKeepTurn(turn, spans[0]?.traceId ?? "", { ratio: config.sampling.ratio });
      if (!decision.keep) {
        sampled.sampledOut += 1;
        return;
      }
      sampled.kept += 1;
      traces.enqueue(turn.id, { id: turn.id, spans, logs: [] });
    },
    onEvent(event) {
      aggregator.recordEvent(event);
    },
    async stop() {
      clearInterval(timer);
      flushInterval();
      // deliver the last interval before the run is closed, within a budget: the run must be marked
      // FINISHED inside the kit's stop bound even when MLflow is slow; the kit spools what is pending
      await flushWithinBudget([pipeline.flush(), traces?.flush()]);
      await lifecycle.finish();
    },
    status: () => ({
      step,
      run: lifecycle.stats(),
      metrics: aggregator.stats(),
      traces: traceSender
        ? { endpoint: traceSender.endpoint, sampling: { ...sampled }, requests: traceSender.stats() }
        : "off",
    }),
  };
}

/** The tracking server's `Authorization` for the OTLP endpoint, from the same settings as the REST client. */
function toTraceAuthorization(
  config: Pick<MlflowConfig, "trackingUri" | "token" | "username" | "password">,
): string | undefined {
  let uriUsername: string | undefined;
  let uriPassword: string | undefined;
  try {
    const url = new URL(config.trackingUri);
    uriUsername = url.username ? decodeURIComponent(url.username) : undefined;
    uriPassword = url.password ? decodeURIComponent(url.password) : undefined;
  } catch {
    // the client reports a bad URI; here it only means no credentials in it
  }
  // env fallbacks were already applied by the config resolver: no second read of process.env
  const { auth } = resolveMlflowAuth(
    { token: config.token, username: config.username, password: config.password, uriUsername, uriPassword },
    {},
  );
  return toAuthorizationHeader(auth);
}

function safeHostName(): string {
  try {
    return hostname();
  } catch {
    return "unknown";
  }
}
