/**
 * The OTel extension at run time: assembled turns become traces and logs (sampled), every turn and
 * operational event becomes metrics (never sampled), and all of it leaves through the kit's
 * pipelines — spooled, retried, flushed on stop — over OTLP/HTTP with private providers only.
 */
import {
  type OperationalEventType,
  type PackService,
  type PackStartContext,
  toTurnAmendment,
} from "@clawscope/kit";
import { createOtlpEncoder, createOtlpSender, type TurnExport } from "@clawscope/kit/otlp";
import { type OtelConfig, resolveOtlpTargets, toResourceAttributes } from "./config.js";
import { shouldKeepTurn } from "./mapping/sampling.js";
import { toEventRecordings } from "./mapping/to-event-recordings.js";
import { toEventExport } from "./mapping/to-event-spans.js";
import { toTurnLogRecords } from "./mapping/to-log-records.js";
import { toMetricRecordings } from "./mapping/to-metric-recordings.js";
import { toTurnSpans } from "./mapping/to-spans.js";
import { createMetricsRecorder } from "./transport/metrics.js";
import { OTLP_SCOPE_NAME } from "./transport/otlp-scope.js";

/** The operational events this extension maps to metrics, spans and logs (read by the kit). */
export const OTEL_EVENT_TYPES = [
  "webhook.received",
  "webhook.processed",
  "webhook.error",
  "message.queued",
  "message.processed",
  "queue.lane.enqueue",
  "queue.lane.dequeue",
  "session.state",
  "session.stuck",
  "session.stalled",
  "diagnostic.heartbeat",
] as const satisfies readonly OperationalEventType[];

/** The pack version stamped on the instrumentation scope. */
export const OTEL_EXTENSION_VERSION = "0.1.0";

/** Starts the OTel service: encoders, senders, pipelines, the private meter provider. */
export async function startOtel(context: PackStartContext<OtelConfig>): Promise<PackService> {
  const { config, logger } = context;
  const targets = resolveOtlpTargets(config);
  const encoder = createOtlpEncoder({
    protocol: config.protocol,
    resourceAttributes: toResourceAttributes(config),
    scopeName: OTLP_SCOPE_NAME,
    scopeVersion: OTEL_EXTENSION_VERSION,
  });
  const senderFor = (signal: "traces" | "metrics" | "logs") =>
    createOtlpSender({
      // one sender per signal (each has its own headers): it checks and logs only its own endpoint
      signals: [signal],
      endpoints: { [signal]: targets[signal].url },
      headers: targets[signal].headers,
      encoder,
      timeoutMs: config.timeoutMs,
      name: OTLP_SCOPE_NAME,
      logger,
    });
  const tracesSender = senderFor("traces");
  const logsSender = senderFor("logs");
  const metricsSender = senderFor("metrics");
  const traces = targets.traces.enabled
    ? context.createPipeline<TurnExport>("otlp-traces", { send: tracesSender.sendTraces })
    : undefined;
  const logs = targets.logs.enabled
    ? context.createPipeline<TurnExport>("otlp-logs", { send: logsSender.sendLogs })
    : undefined;
  const metricsPipeline = targets.metrics.enabled
    ? context.createPipeline("otlp-metrics", { send: metricsSender.sendMetrics })
    : undefined;
  const metrics = createMetricsRecorder({
    encoder,
    ...(metricsPipeline ? { enqueue: (id, payload) => metricsPipeline.enqueue(id, payload) } : {}),
    exportIntervalMs: config.metricIntervalMs,
    maxSeries: config.maxSeries,
    prometheus: config.prometheus,
    logger,
  });
  if (targets.metrics.enabled || config.prometheus.enabled) await metrics.start();

  const sampled = { kept: 0, sampledOut: 0, byReason: {} as Record<string, number> };
  const amendments = { total: 0, notAdditive: 0 };
  const exportRecords = (id: string, record: TurnExport) => {
    if (record.spans.length > 0) traces?.enqueue(id, { id, spans: record.spans, logs: [] });
    if (record.logs.length > 0) logs?.enqueue(id, { id, spans: [], logs: record.logs });
  };
  context.health.setDetail("endpoints", {
    traces: targets.traces.enabled ? tracesSender.endpoints.traces : "off",
    metrics: targets.metrics.enabled ? metricsSender.endpoints.metrics : "off",
    logs: targets.logs.enabled ? logsSender.endpoints.logs : "off",
  });

  return {
    onTurn(turn) {
      // metrics count every turn; sampling only thins traces and logs
      metrics.record(toMetricRecordings(turn));
      if (turn.revision > 1) {
        // OTLP has no upsert: an amended turn's spans would arrive twice, so its counters carry it
        amendments.total += 1;
        if (toTurnAmendment(turn)?.additive === false) amendments.notAdditive += 1;
        return;
      }
      const decision = shouldKeepTurn(turn, config.sampling);
      sampled.byReason[decision.reason] = (sampled.byReason[decision.reason] ?? 0) + 1;
      if (!decision.keep) {
        sampled.sampledOut += 1;
        return;
      }
      sampled.kept += 1;
      const options = { hashId: context.hashId, captureContent: context.captureContent };
      exportRecords(turn.id, {
        id: turn.id,
        spans: toTurnSpans(turn, options),
        logs: toTurnLogRecords(turn, options),
      });
    },
    onEvent(event) {
      metrics.record(toEventRecordings(event));
      const record = toEventExport(event, { hashId: context.hashId });
      if (record) exportRecords(record.id, record);
    },
    async stop() {
      // a final collection goes into the metrics pipeline before the kit stops the pipelines
      await metrics.shutdown();
    },
    status: () => ({
      protocol: config.protocol,
      sampling: sampled,
      amendments,
      metrics: metrics.stats(),
      requests: {
        traces: tracesSender.stats().traces,
        metrics: metricsSender.stats().metrics,
        logs: logsSender.stats().logs,
      },
    }),
  };
}
