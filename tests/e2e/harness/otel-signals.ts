/**
 * Reading what the OTel extension delivered to the collector: its spans grouped into traces (with
 * re-sent spans counted, not hidden), the latest point of each cumulative metric series, and sums
 * over those points. Pure functions over the collector's files, so a failure message can show them.
 */
import { createHash, createHmac } from "node:crypto";
import type { CollectedLogRecord, CollectedMetric, CollectedSpan } from "./otel-collector.js";

/** The instrumentation scope (and meter name) of everything the extension exports. */
export const OTEL_SCOPE = "clawscope-otel";

/** OTLP span kinds. */
export const SPAN_KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;
/** OTLP status codes. */
export const STATUS_CODE = { unset: 0, ok: 1, error: 2 } as const;
/** OTLP severity numbers of the levels the extension uses. */
export const SEVERITY = { info: 9, warn: 13, error: 17 } as const;

/**
 * The trace id the extension derives for a turn (`extensions/otel/src/mapping/ids.ts`): the first 32
 * hex characters of `sha256("clawscope-otel:trace:" + turnId)`. A turn's id is its run id.
 */
export function toClawscopeTraceId(turnId: string): string {
  return createHash("sha256").update(`clawscope-otel:trace:${turnId}`).digest("hex").slice(0, 32);
}

/** What the kit's id hasher makes of an id with `hashKey` (HMAC-SHA256, 32 hex characters). */
export function toHashedId(hashKey: string, id: string): string {
  return createHmac("sha256", hashKey).update(id).digest("hex").slice(0, 32);
}

/** One trace as delivered. */
export interface DeliveredTrace {
  traceId: string;
  /** Its spans, one per span id (the first copy delivered). */
  spans: CollectedSpan[];
  /** Spans without a parent, one per span id. */
  roots: CollectedSpan[];
  /** Copies of span ids delivered more than once (a re-sent batch), not in `spans`. */
  resentSpans: number;
}

/** The extension's spans (its instrumentation scope), in file order. */
export function clawscopeSpans(spans: readonly CollectedSpan[]): CollectedSpan[] {
  return spans.filter((span) => span.scope.name === OTEL_SCOPE);
}

/** Spans grouped by trace id, de-duplicated by span id (re-sent copies are counted). */
export function groupTraces(spans: readonly CollectedSpan[]): Map<string, DeliveredTrace> {
  const traces = new Map<string, DeliveredTrace>();
  const seen = new Set<string>();
  for (const span of spans) {
    let trace = traces.get(span.traceId);
    if (!trace) {
      trace = { traceId: span.traceId, spans: [], roots: [], resentSpans: 0 };
      traces.set(span.traceId, trace);
    }
    const key = `${span.traceId}/${span.spanId}`;
    if (seen.has(key)) {
      trace.resentSpans += 1;
      continue;
    }
    seen.add(key);
    trace.spans.push(span);
    if (!span.parentSpanId) trace.roots.push(span);
  }
  return traces;
}

/** Root spans (no parent) whose `openclaw.trace_id` is the host's trace id, one per span id. */
export function rootsForHostTrace(spans: readonly CollectedSpan[], hostTraceId: string): CollectedSpan[] {
  const roots = new Map<string, CollectedSpan>();
  for (const span of spans) {
    if (span.parentSpanId || span.attributes["openclaw.trace_id"] !== hostTraceId) continue;
    if (!roots.has(span.spanId)) roots.set(span.spanId, span);
  }
  return [...roots.values()];
}

/** A data point with the series it belongs to. */
export interface SeriesPoint {
  metric: CollectedMetric;
  point: CollectedMetric["dataPoints"][number];
}

/**
 * The latest point of every series of one metric. A series is resource + scope + labels + start
 * time: cumulative points repeat the running total, so only the newest of each counts, and a
 * restarted process starts new series (its own start time) that add to the old ones.
 */
export function latestPoints(
  metrics: readonly CollectedMetric[],
  name: string,
  options: { scope?: string; serviceName?: string } = {},
): SeriesPoint[] {
  const latest = new Map<string, SeriesPoint>();
  for (const metric of metrics) {
    if (metric.name !== name) continue;
    if (options.scope !== undefined && metric.scope.name !== options.scope) continue;
    if (options.serviceName !== undefined && metric.resource["service.name"] !== options.serviceName)
      continue;
    for (const point of metric.dataPoints) {
      const key = JSON.stringify([
        sortedEntries(metric.resource),
        metric.scope.name,
        sortedEntries(point.attributes),
        point.startTimeUnixNano ?? 0,
      ]);
      const current = latest.get(key);
      if (!current || point.timeUnixNano >= current.point.timeUnixNano) latest.set(key, { metric, point });
    }
  }
  return [...latest.values()];
}

function sortedEntries(record: Record<string, unknown>): Array<[string, unknown]> {
  return Object.entries(record).sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
}

/** The extension's latest points of one metric. */
export function clawscopePoints(metrics: readonly CollectedMetric[], name: string): SeriesPoint[] {
  return latestPoints(metrics, name, { scope: OTEL_SCOPE });
}

/**
 * Adds up the points by the value of one label: `value` for sums, `count` (or `sum` with
 * `field: "sum"`) for histograms. Points without the label add up under "".
 */
export function totalsBy(
  points: readonly SeriesPoint[],
  label: string,
  field: "value" | "count" | "sum" = "value",
): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const { point } of points) {
    const key = String(point.attributes[label] ?? "");
    totals[key] = (totals[key] ?? 0) + (point[field] ?? 0);
  }
  return totals;
}

/** The sum of one field over the points. */
export function total(points: readonly SeriesPoint[], field: "value" | "count" | "sum" = "value"): number {
  return points.reduce((sum, { point }) => sum + (point[field] ?? 0), 0);
}

/** Names of the extension's metrics delivered so far, sorted. */
export function clawscopeMetricNames(metrics: readonly CollectedMetric[]): string[] {
  return [...new Set(metrics.filter((metric) => metric.scope.name === OTEL_SCOPE).map((m) => m.name))].sort();
}

/** Every label value of the extension's metrics, as `metric{label=value}` strings (to search for ids). */
export function clawscopeLabelValues(metrics: readonly CollectedMetric[]): string[] {
  const values = new Set<string>();
  for (const metric of metrics) {
    if (metric.scope.name !== OTEL_SCOPE) continue;
    for (const point of metric.dataPoints) {
      for (const [key, value] of Object.entries(point.attributes)) {
        values.add(`${metric.name}{${key}=${String(value)}}`);
      }
    }
  }
  return [...values].sort();
}

/** The extension's log records with `event.name` = `eventName`, in file order. */
export function clawscopeLogs(logs: readonly CollectedLogRecord[], eventName?: string): CollectedLogRecord[] {
  return logs.filter(
    (log) =>
      log.scope.name === OTEL_SCOPE &&
      (eventName === undefined || log.attributes["event.name"] === eventName),
  );
}
