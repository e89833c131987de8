/**
 * Reads back what reached a real MLflow tracking server, through MLflow's own REST API on plain
 * `fetch` (not our `@clawscope/mlflow-client`, so a client bug cannot hide a delivery bug):
 * experiments, runs with their tags and params, metric histories, and traces with their spans.
 */
import { createHash, createHmac } from "node:crypto";

/** A run as `runs/search` and `runs/get` return it, tags and params as records, times as numbers. */
export interface MlflowRunView {
  runId: string;
  runName: string;
  experimentId: string;
  status: string;
  startTime: number;
  endTime: number | undefined;
  lifecycleStage: string;
  tags: Record<string, string>;
  params: Record<string, string>;
  /** Latest value per metric key (the keys this run logged). */
  latestMetrics: Record<string, number>;
}

/** One point of a metric history. */
export interface MlflowMetricPoint {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

/** A TraceInfo of `POST /api/3.0/mlflow/traces/search` (the fields the tests read). */
export interface MlflowTraceInfo {
  trace_id: string;
  state?: string;
  request_time?: string;
  trace_metadata?: Record<string, string>;
  tags?: Record<string, string>;
}

/** A span of `GET /api/3.0/mlflow/traces/get`, attribute values decoded from OTLP's AnyValue. */
export interface MlflowSpanView {
  name: string;
  spanId: string;
  parentSpanId: string;
  attributes: Record<string, unknown>;
  /** `STATUS_CODE_OK`, `STATUS_CODE_ERROR` or `STATUS_CODE_UNSET`. */
  statusCode: string;
  statusMessage: string;
  /** Start and end, epoch ms. */
  startMs: number;
  endMs: number;
}

/** Token usage of a trace (`mlflow.trace.tokenUsage` metadata). */
export interface MlflowTokenUsage {
  input_tokens?: number;
  output_tokens?: number;
  total_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation_input_tokens?: number;
}

/** Cost of a trace (`mlflow.trace.cost` metadata, from the spans' `mlflow.llm.cost`). */
export interface MlflowTraceCost {
  input_cost?: number;
  output_cost?: number;
  total_cost?: number;
}

/** The REST calls the e2e tests read MLflow with. */
export interface MlflowReader {
  readonly trackingUri: string;
  /** The experiment's id, or undefined while it does not exist. */
  experimentId(name: string): Promise<string | undefined>;
  /** Names of every active experiment whose name starts with `prefix`. */
  experimentNames(prefix: string): Promise<string[]>;
  /** Every run of the experiment (any status), or of those matching `filter`. */
  searchRuns(experimentId: string, filter?: string): Promise<MlflowRunView[]>;
  getRun(runId: string): Promise<MlflowRunView>;
  /** The whole history of one metric key, sorted by step then timestamp. */
  metricHistory(runId: string, key: string): Promise<MlflowMetricPoint[]>;
  /** Every history of the run (the keys its latest metrics name). */
  allHistories(runId: string): Promise<Map<string, MlflowMetricPoint[]>>;
  /** Every trace of the experiment; with `runId`, only those linked to that run. */
  searchTraces(experimentId: string, runId?: string): Promise<MlflowTraceInfo[]>;
  getSpans(traceId: string): Promise<MlflowSpanView[]>;
}

/** A reader for the server at `trackingUri`. */
export function createMlflowReader(trackingUri: string): MlflowReader {
  const call = async (method: "GET" | "POST", route: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${trackingUri}${route}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    if (!response.ok) throw new MlflowReadError(method, route, response.status, text);
    return JSON.parse(text);
  };
  const reader: MlflowReader = {
    trackingUri,
    async experimentId(name) {
      try {
        const answer = (await call(
          "GET",
          `/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`,
        )) as { experiment?: { experiment_id?: string } };
        return answer.experiment?.experiment_id;
      } catch (error) {
        if (error instanceof MlflowReadError && error.status === 404) return undefined;
        throw error;
      }
    },
    async experimentNames(prefix) {
      const names: string[] = [];
      let pageToken: string | undefined;
      do {
        const answer = (await call("POST", "/api/2.0/mlflow/experiments/search", {
          max_results: 1000,
          filter: `name LIKE '${prefix}%'`,
          ...(pageToken ? { page_token: pageToken } : {}),
        })) as { experiments?: Array<{ name: string }>; next_page_token?: string };
        names.push(...(answer.experiments ?? []).map((experiment) => experiment.name));
        pageToken = answer.next_page_token || undefined;
      } while (pageToken);
      return names.sort();
    },
    async searchRuns(experimentId, filter) {
      const runs: MlflowRunView[] = [];
      let pageToken: string | undefined;
      do {
        const answer = (await call("POST", "/api/2.0/mlflow/runs/search", {
          experiment_ids: [experimentId],
          max_results: 1000,
          run_view_type: "ALL",
          ...(filter ? { filter } : {}),
          ...(pageToken ? { page_token: pageToken } : {}),
        })) as { runs?: RawRun[]; next_page_token?: string };
        runs.push(...(answer.runs ?? []).map(toRunView));
        pageToken = answer.next_page_token || undefined;
      } while (pageToken);
      return runs;
    },
    async getRun(runId) {
      const answer = (await call("GET", `/api/2.0/mlflow/runs/get?run_id=${encodeURIComponent(runId)}`)) as {
        run: RawRun;
      };
      return toRunView(answer.run);
    },
    async metricHistory(runId, key) {
      const points: MlflowMetricPoint[] = [];
      let pageToken: string | undefined;
      do {
        const query = new URLSearchParams({ run_id: runId, metric_key: key, max_results: "25000" });
        if (pageToken) query.set("page_token", pageToken);
        const answer = (await call("GET", `/api/2.0/mlflow/metrics/get-history?${query}`)) as {
          metrics?: Array<{ key: string; value: unknown; timestamp: unknown; step: unknown }>;
          next_page_token?: string;
        };
        for (const metric of answer.metrics ?? []) {
          points.push({
            key: metric.key,
            value: Number(metric.value),
            timestamp: Number(metric.timestamp),
            step: Number(metric.step ?? 0),
          });
        }
        pageToken = answer.next_page_token || undefined;
      } while (pageToken);
      return points.sort((left, right) => left.step - right.step || left.timestamp - right.timestamp);
    },
    async allHistories(runId) {
      const run = await reader.getRun(runId);
      const histories = new Map<string, MlflowMetricPoint[]>();
      for (const key of Object.keys(run.latestMetrics).sort())
        histories.set(key, await reader.metricHistory(runId, key));
      return histories;
    },
    async searchTraces(experimentId, runId) {
      const traces: MlflowTraceInfo[] = [];
      let pageToken: string | undefined;
      do {
        const answer = (await call("POST", "/api/3.0/mlflow/traces/search", {
          locations: [{ type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: experimentId } }],
          max_results: 500,
          // what `mlflow.search_traces(run_id=...)` sends: traces linked to the run (`x-mlflow-run-id`)
          ...(runId ? { filter: `attribute.run_id = '${runId}'` } : {}),
          ...(pageToken ? { page_token: pageToken } : {}),
        })) as { traces?: MlflowTraceInfo[]; next_page_token?: string };
        traces.push(...(answer.traces ?? []));
        pageToken = answer.next_page_token || undefined;
      } while (pageToken);
      return traces;
    },
    async getSpans(traceId) {
      const answer = (await call(
        "GET",
        `/api/3.0/mlflow/traces/get?trace_id=${encodeURIComponent(traceId)}`,
      )) as { trace?: { spans?: RawSpan[] } };
      return (answer.trace?.spans ?? []).map((span) => ({
        name: span.name,
        spanId: String(span.span_id ?? ""),
        parentSpanId: String(span.parent_span_id ?? ""),
        attributes: Object.fromEntries(
          (span.attributes ?? []).map((entry) => [entry.key, readAnyValue(entry.value)]),
        ),
        statusCode: String(span.status?.code ?? ""),
        statusMessage: String(span.status?.message ?? ""),
        startMs: Number(span.start_time_unix_nano ?? 0) / 1e6,
        endMs: Number(span.end_time_unix_nano ?? 0) / 1e6,
      }));
    },
  };
  return reader;
}

/** A non-2xx answer of the tracking server. */
export class MlflowReadError extends Error {
  constructor(
    method: string,
    route: string,
    readonly status: number,
    body: string,
  ) {
    super(`${method} ${route}: HTTP ${status} ${body.slice(0, 300)}`);
    this.name = "MlflowReadError";
  }
}

interface RawRun {
  info: {
    run_id: string;
    run_name?: string;
    experiment_id: string;
    status: string;
    start_time?: unknown;
    end_time?: unknown;
    lifecycle_stage?: string;
  };
  data?: {
    metrics?: Array<{ key: string; value: unknown }>;
    params?: Array<{ key: string; value: string }>;
    tags?: Array<{ key: string; value: string }>;
  };
}

interface RawSpan {
  name: string;
  span_id?: unknown;
  parent_span_id?: unknown;
  attributes?: Array<{ key: string; value: unknown }>;
  status?: { code?: unknown; message?: unknown };
  start_time_unix_nano?: unknown;
  end_time_unix_nano?: unknown;
}

function toRunView(raw: RawRun): MlflowRunView {
  const pairs = (list: Array<{ key: string; value: string }> | undefined) =>
    Object.fromEntries((list ?? []).map((entry) => [entry.key, entry.value]));
  return {
    runId: raw.info.run_id,
    runName: raw.info.run_name ?? "",
    experimentId: raw.info.experiment_id,
    status: raw.info.status,
    startTime: Number(raw.info.start_time ?? 0),
    endTime: raw.info.end_time === undefined ? undefined : Number(raw.info.end_time),
    lifecycleStage: raw.info.lifecycle_stage ?? "",
    tags: pairs(raw.data?.tags),
    params: pairs(raw.data?.params),
    latestMetrics: Object.fromEntries(
      (raw.data?.metrics ?? []).map((metric) => [metric.key, Number(metric.value)]),
    ),
  };
}

/** An OTLP AnyValue as MLflow returns it (snake or camel case) → a plain value. */
function readAnyValue(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  const record = value as Record<string, unknown>;
  for (const key of ["string_value", "stringValue", "bool_value", "boolValue", "double_value", "doubleValue"])
    if (key in record) return record[key];
  for (const key of ["int_value", "intValue"]) if (key in record) return Number(record[key]);
  const kvlist = (record.kvlist_value ?? record.kvlistValue) as
    | { values?: Array<{ key: string; value: unknown }> }
    | undefined;
  if (kvlist)
    return Object.fromEntries((kvlist.values ?? []).map((entry) => [entry.key, readAnyValue(entry.value)]));
  return record;
}

/**
 * The MLflow trace id of a turn, derived here independently of the extension:
 * `tr-` + the OTLP trace id `sha256("clawscope-mlflow:trace:" + turnId)` (32 hex).
 */
export function toMlflowTraceId(turnId: string): string {
  return `tr-${createHash("sha256").update(`clawscope-mlflow:trace:${turnId}`).digest("hex").slice(0, 32)}`;
}

/** What the kit's id hasher makes of an id with `hashKey` (HMAC-SHA256, 32 hex characters). */
export function toHashedSessionId(hashKey: string, id: string): string {
  return createHmac("sha256", hashKey).update(id).digest("hex").slice(0, 32);
}

/** A trace's `mlflow.trace.tokenUsage` metadata, parsed ({} when absent). */
export function readTraceTokenUsage(info: MlflowTraceInfo): MlflowTokenUsage {
  try {
    return JSON.parse(info.trace_metadata?.["mlflow.trace.tokenUsage"] ?? "{}") as MlflowTokenUsage;
  } catch {
    return {};
  }
}

/** A trace's `mlflow.trace.cost` metadata, parsed ({} when absent). */
export function readTraceCost(info: MlflowTraceInfo): MlflowTraceCost {
  try {
    return JSON.parse(info.trace_metadata?.["mlflow.trace.cost"] ?? "{}") as MlflowTraceCost;
  } catch {
    return {};
  }
}

/** Sum of a history's values. */
export function sumHistory(points: readonly MlflowMetricPoint[] | undefined): number {
  return (points ?? []).reduce((total, point) => total + point.value, 0);
}

/** Steps that occur more than once in a history (a re-sent interval stored twice would show here). */
export function duplicateSteps(points: readonly MlflowMetricPoint[]): number[] {
  const seen = new Set<number>();
  const duplicates = new Set<number>();
  for (const point of points) {
    if (seen.has(point.step)) duplicates.add(point.step);
    seen.add(point.step);
  }
  return [...duplicates].sort((left, right) => left - right);
}
