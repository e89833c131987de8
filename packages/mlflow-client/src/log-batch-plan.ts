/**
 * Pure half of `runs.logBatch`: cleans the input (keys, values, non-finite numbers, duplicates)
 * and packs it into as few requests as MLflow's per-request limits allow.
 */
import { MLFLOW_LIMITS, type MlflowLimits, sanitizeMlflowKey, toMlflowValue } from "./limits.js";
import type { MlflowLogBatchInput, MlflowLogBatchReport } from "./types.js";

/** A metric as it goes on the wire. */
export interface WireMetric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

/** A param or tag as it goes on the wire. */
export interface WireKeyValue {
  key: string;
  value: string;
}

/** One `runs/log-batch` request body. */
export interface LogBatchRequestBody {
  run_id: string;
  metrics: WireMetric[];
  params: WireKeyValue[];
  tags: WireKeyValue[];
}

/** The cleaned input and what cleaning did. */
export interface NormalizedLogBatch {
  metrics: WireMetric[];
  params: WireKeyValue[];
  tags: WireKeyValue[];
  report: MlflowLogBatchReport;
}

/**
 * Cleans a log-batch input. Metrics: NaN/±Infinity dropped; timestamps must be finite and ≥ 0
 * (fractions floored; default `now`); steps finite (fractions truncated; default 0) and within the
 * safe-integer range; identical points sent once. Params: the first value per key is kept (MLflow
 * refuses a changed param). Tags: the last value per key wins, as on the server. Never throws.
 */
export function normalizeLogBatch(
  input: MlflowLogBatchInput | null | undefined,
  limits: MlflowLimits = MLFLOW_LIMITS,
  now: number = Date.now(),
): NormalizedLogBatch {
  const report: MlflowLogBatchReport = {
    requests: 0,
    sent: { metrics: 0, params: 0, tags: 0 },
    dropped: {
      nonFiniteMetrics: 0,
      invalidMetrics: 0,
      duplicateMetrics: 0,
      duplicateParams: 0,
      duplicateTags: 0,
      malformed: 0,
    },
    sanitizedKeys: 0,
    truncatedValues: 0,
  };
  const safeInput = input && typeof input === "object" ? input : {};
  const fitKey = (key: string): string => {
    const sanitized = sanitizeMlflowKey(key, limits.maxKeyLength);
    if (sanitized.changed) report.sanitizedKeys += 1;
    return sanitized.key;
  };

  const metrics: WireMetric[] = [];
  const seenMetrics = new Set<string>();
  for (const entry of Array.isArray(safeInput.metrics) ? safeInput.metrics : []) {
    if (
      !entry ||
      typeof entry !== "object" ||
      typeof entry.key !== "string" ||
      typeof entry.value !== "number"
    ) {
      report.dropped.malformed += 1;
      continue;
    }
    if (!Number.isFinite(entry.value)) {
      report.dropped.nonFiniteMetrics += 1;
      continue;
    }
    const timestamp = entry.timestamp ?? now;
    const step = entry.step ?? 0;
    if (!isSafeNumber(timestamp) || timestamp < 0 || !isSafeNumber(step)) {
      report.dropped.invalidMetrics += 1;
      continue;
    }
    const metric = {
      key: fitKey(entry.key),
      value: entry.value,
      timestamp: Math.floor(timestamp),
      step: Math.trunc(step),
    };
    const identity = `${metric.key}\u0000${metric.value}\u0000${metric.timestamp}\u0000${metric.step}`;
    if (seenMetrics.has(identity)) {
      report.dropped.duplicateMetrics += 1;
      continue;
    }
    seenMetrics.add(identity);
    metrics.push(metric);
  }

  const params = new Map<string, string>();
  for (const [key, value] of readEntries(safeInput.params, report)) {
    const wireKey = fitKey(key);
    if (params.has(wireKey)) {
      report.dropped.duplicateParams += 1;
      continue;
    }
    const fitted = toMlflowValue(value, limits.maxParamValueLength);
    if (fitted.truncated) report.truncatedValues += 1;
    params.set(wireKey, fitted.value);
  }

  const tags = new Map<string, string>();
  for (const [key, value] of readEntries(safeInput.tags, report)) {
    const wireKey = fitKey(key);
    if (tags.has(wireKey)) {
      report.dropped.duplicateTags += 1;
      tags.delete(wireKey);
    }
    const fitted = toMlflowValue(value, limits.maxTagValueLength);
    if (fitted.truncated) report.truncatedValues += 1;
    tags.set(wireKey, fitted.value);
  }

  return {
    metrics,
    params: [...params].map(([key, value]) => ({ key, value })),
    tags: [...tags].map(([key, value]) => ({ key, value })),
    report,
  };
}

/**
 * Packs cleaned entities into request bodies that each respect every per-request limit: metric,
 * param, tag and entity counts, and UTF-8 size including the envelope. Each request takes params,
 * then tags, then metrics up to the limits, so a run's identity lands first and the number of
 * requests stays near the minimum (2500 metrics + 250 params + 250 tags: 3 requests).
 */
export function planLogBatchRequests(
  runId: string,
  batch: Pick<NormalizedLogBatch, "metrics" | "params" | "tags">,
  limits: MlflowLimits = MLFLOW_LIMITS,
): LogBatchRequestBody[] {
  const envelopeBytes = jsonBytes({ run_id: runId, metrics: [], params: [], tags: [] });
  const requests: LogBatchRequestBody[] = [];
  const next = { params: 0, tags: 0, metrics: 0 };
  const remaining = (): boolean =>
    next.params < batch.params.length || next.tags < batch.tags.length || next.metrics < batch.metrics.length;

  while (remaining()) {
    const request: LogBatchRequestBody = { run_id: runId, metrics: [], params: [], tags: [] };
    let bytes = envelopeBytes;
    let entities = 0;
    const fill = <T extends WireMetric | WireKeyValue>(
      kind: "metrics" | "params" | "tags",
      source: readonly T[],
      limit: number,
    ): void => {
      const target = request[kind] as T[];
      while (next[kind] < source.length && target.length < limit && entities < limits.maxEntitiesPerRequest) {
        const entity = source[next[kind]] as T;
        // +1 for the comma that separates it from the previous entity in the same array
        const size = jsonBytes(entity) + 1;
        // an entity alone in a request always goes, so one oversized value cannot stall the plan
        if (entities > 0 && bytes + size > limits.maxRequestBytes) return;
        target.push(entity);
        bytes += size;
        entities += 1;
        next[kind] += 1;
      }
    };
    fill("params", batch.params, limits.maxParamsPerRequest);
    fill("tags", batch.tags, limits.maxTagsPerRequest);
    fill("metrics", batch.metrics, limits.maxMetricsPerRequest);
    requests.push(request);
  }
  return requests;
}

/** UTF-8 size of a value's JSON. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), "utf8");
}

function isSafeNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER;
}

/** Key/value pairs from a record or a `{ key, value }` list; counts entries without a string key. */
function readEntries(source: unknown, report: MlflowLogBatchReport): [string, unknown][] {
  if (!source || typeof source !== "object") return [];
  if (!Array.isArray(source)) return Object.entries(source as Record<string, unknown>);
  const entries: [string, unknown][] = [];
  for (const entry of source as unknown[]) {
    const key = entry && typeof entry === "object" ? (entry as { key?: unknown }).key : undefined;
    if (typeof key !== "string") {
      report.dropped.malformed += 1;
      continue;
    }
    entries.push([key, (entry as { value?: unknown }).value]);
  }
  return entries;
}
