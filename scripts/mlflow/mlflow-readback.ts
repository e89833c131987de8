/**
 * Reads back what clawscope-mlflow wrote, through MLflow's own REST API (plain `fetch`, no client
 * package): the demo prints it; the screenshot script uses it to find the run and a trace to open.
 */

/** The newest run of an experiment, with the fields the demo shows. */
export interface MlflowRunSummary {
  experimentId: string;
  runId: string;
  runName: string;
  status: string;
  /** The latest value of every metric key, by key. */
  latestMetrics: Record<string, number>;
}

/** One trace of `POST /api/3.0/mlflow/traces/search` (the fields read here). */
export interface MlflowTraceSummary {
  traceId: string;
  state: string;
  requestTime: number;
  tags: Record<string, string>;
}

const REQUEST_TIMEOUT_MS = 60_000;

async function mlflowJson(trackingUri: string, method: "GET" | "POST", route: string, body?: unknown) {
  let response: Response;
  try {
    response = await fetch(`${trackingUri}${route}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      // generous: a server that has just started, on a busy machine, answers its first calls slowly
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    throw new Error(`MLflow ${method} ${route}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const text = await response.text();
  if (!response.ok)
    throw new Error(`MLflow ${method} ${route}: HTTP ${response.status} ${text.slice(0, 200)}`);
  return JSON.parse(text) as unknown;
}

/** The id of the experiment named `name`, or undefined when there is none yet. */
export async function findExperimentId(trackingUri: string, name: string): Promise<string | undefined> {
  try {
    const answer = (await mlflowJson(
      trackingUri,
      "GET",
      `/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`,
    )) as { experiment?: { experiment_id?: string } };
    return answer.experiment?.experiment_id;
  } catch (error) {
    if (String(error).includes("HTTP 404")) return undefined;
    throw error;
  }
}

/** The most recently started run of the experiment, or undefined when it has none. */
export async function findLatestRun(
  trackingUri: string,
  experimentId: string,
): Promise<MlflowRunSummary | undefined> {
  const answer = (await mlflowJson(trackingUri, "POST", "/api/2.0/mlflow/runs/search", {
    experiment_ids: [experimentId],
    order_by: ["attributes.start_time DESC"],
    max_results: 1,
  })) as {
    runs?: Array<{
      info: { run_id: string; run_name?: string; status: string };
      data?: { metrics?: Array<{ key: string; value: number }> };
    }>;
  };
  const run = answer.runs?.[0];
  if (!run) return undefined;
  return {
    experimentId,
    runId: run.info.run_id,
    runName: run.info.run_name ?? run.info.run_id,
    status: run.info.status,
    latestMetrics: Object.fromEntries((run.data?.metrics ?? []).map((metric) => [metric.key, metric.value])),
  };
}

/** The sum of a metric's whole history (counters are per-interval sums, so this is the run's total). */
export async function sumMetricHistory(trackingUri: string, runId: string, key: string): Promise<number> {
  const answer = (await mlflowJson(
    trackingUri,
    "GET",
    `/api/2.0/mlflow/metrics/get-history?run_id=${encodeURIComponent(runId)}&metric_key=${encodeURIComponent(key)}&max_results=25000`,
  )) as { metrics?: Array<{ value: number }> };
  return (answer.metrics ?? []).reduce((sum, point) => sum + point.value, 0);
}

/** The experiment's traces, newest first. */
export async function searchTraces(trackingUri: string, experimentId: string): Promise<MlflowTraceSummary[]> {
  const answer = (await mlflowJson(trackingUri, "POST", "/api/3.0/mlflow/traces/search", {
    locations: [{ type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: experimentId } }],
    max_results: 100,
    order_by: ["timestamp_ms DESC"],
  })) as {
    traces?: Array<{
      trace_id: string;
      state?: string;
      request_time?: string;
      tags?: Record<string, string>;
    }>;
  };
  return (answer.traces ?? []).map((trace) => ({
    traceId: trace.trace_id,
    state: trace.state ?? "STATE_UNSPECIFIED",
    requestTime: Date.parse(trace.request_time ?? "") || 0,
    tags: trace.tags ?? {},
  }));
}

/** A span of a trace: its name and type (`mlflow.spanType`: AGENT, CHAT_MODEL, TOOL…). */
export interface MlflowSpanSummary {
  name: string;
  type: string;
}

/** The spans of one trace, in the order MLflow returns them. */
export async function readSpans(trackingUri: string, traceId: string): Promise<MlflowSpanSummary[]> {
  const answer = (await mlflowJson(
    trackingUri,
    "GET",
    `/api/3.0/mlflow/traces/get?trace_id=${encodeURIComponent(traceId)}`,
  )) as {
    trace?: {
      spans?: Array<{
        name?: string;
        attributes?: Array<{ key: string; value?: { string_value?: string } }>;
      }>;
    };
  };
  return (answer.trace?.spans ?? []).map((span) => {
    const raw = span.attributes?.find((entry) => entry.key === "mlflow.spanType")?.value?.string_value;
    // MLflow stores span attributes JSON-encoded: the type arrives as "\"AGENT\""
    return { name: span.name ?? "", type: raw?.replace(/^"|"$/g, "") ?? "UNKNOWN" };
  });
}

/** The UI page of a run (MLflow's React app routes by hash). */
export function toRunPageUrl(trackingUri: string, experimentId: string, runId: string): string {
  return `${trackingUri}/#/experiments/${experimentId}/runs/${runId}`;
}

/** The UI's Traces tab of an experiment. */
export function toTracesPageUrl(trackingUri: string, experimentId: string, traceId?: string): string {
  // `?traceId=` is what a click on a trace's row puts in the URL: it opens that trace
  const open = traceId ? `?traceId=${encodeURIComponent(traceId)}` : "";
  return `${trackingUri}/#/experiments/${experimentId}/traces${open}`;
}
