/**
 * The demo's local MLflow: the server harness the tests use (`startMlflowServer` from
 * @clawscope/testing; `scripts/mlflow/setup.sh` installs MLflow once into `.cache/mlflow/venv`), on
 * 127.0.0.1 with a SQLite store in the demo's folder, and a read-back of what clawscope-mlflow sent
 * it, through MLflow's own REST API.
 */
import { type MlflowServer, startMlflowServer } from "@clawscope/testing";
import {
  findExperimentId,
  findLatestRun,
  type MlflowRunSummary,
  type MlflowTraceSummary,
  readSpans,
  searchTraces,
  sumMetricHistory,
  toRunPageUrl,
  toTracesPageUrl,
} from "./mlflow-readback.js";

/**
 * Environment of the demo's MLflow: without the background job runner (two more processes that
 * import all of MLflow, for scheduled jobs the demo never uses), it starts several times faster.
 */
export const DEMO_MLFLOW_ENV = { MLFLOW_SERVER_ENABLE_JOB_EXECUTION: "false" } as const;

/** The experiment the demo's gateway logs to (the extension's default). */
export const DEMO_EXPERIMENT_NAME = "openclaw";

/** The demo's config for clawscope-mlflow: short intervals so the charts get several points. */
export function toDemoMlflowConfig(server: MlflowServer): Record<string, unknown> {
  return {
    trackingUri: server.trackingUri,
    experimentName: DEMO_EXPERIMENT_NAME,
    gatewayName: "clawscope-demo",
    flushIntervalMs: 1000,
    // the demo's messages are made up: show them in the trace view (off by default)
    captureContent: true,
  };
}

/**
 * Starts MLflow in `dir`, installing it first when the cache is cold (1–3 minutes). Resolves to
 * undefined, after one line saying why, when it cannot be installed or started.
 */
export async function startDemoMlflow(dir: string): Promise<MlflowServer | undefined> {
  try {
    return await startMlflowServer({ dir, startTimeoutMs: 120_000, env: { ...DEMO_MLFLOW_ENV } });
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).split("\n")[0];
    console.log(`  no MLflow (${reason}): clawscope-mlflow will spool until one answers`);
    return undefined;
  }
}

/** Waits until MLflow lists at least `count` traces in the experiment (the turns' traces arrive in batches). */
export async function waitForMlflowTraces(
  server: MlflowServer,
  count: number,
  timeoutMs: number,
): Promise<MlflowTraceSummary[]> {
  const deadline = Date.now() + timeoutMs;
  let traces: MlflowTraceSummary[] = [];
  while (Date.now() < deadline) {
    const experimentId = await findExperimentId(server.trackingUri, DEMO_EXPERIMENT_NAME).catch(
      () => undefined,
    );
    if (experimentId) {
      traces = await searchTraces(server.trackingUri, experimentId).catch(() => traces);
      if (traces.length >= count) return traces;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return traces;
}

/** The run and its UI links, or undefined when the extension never created one. */
export async function findDemoRun(server: MlflowServer): Promise<MlflowRunSummary | undefined> {
  const experimentId = await findExperimentId(server.trackingUri, DEMO_EXPERIMENT_NAME);
  return experimentId ? await findLatestRun(server.trackingUri, experimentId) : undefined;
}

/**
 * What MLflow holds after the gateway stopped, in a few lines: the run and its status, the token
 * totals from the metric histories beside the gateway's, the traces and their span types, and the
 * UI links.
 */
export async function describeMlflow(server: MlflowServer, gatewayTokens: number): Promise<string[]> {
  const run = await findDemoRun(server);
  if (!run) return [`no run in experiment "${DEMO_EXPERIMENT_NAME}" (see the gateway log)`];
  const tokenKeys = ["tokens.input", "tokens.output", "tokens.cache_read", "tokens.cache_write"];
  const tokenSums = await Promise.all(
    tokenKeys.map((key) => sumMetricHistory(server.trackingUri, run.runId, key)),
  );
  const tokens = tokenSums.reduce((sum, value) => sum + value, 0);
  const traces = await searchTraces(server.trackingUri, run.experimentId);
  const described = await Promise.all(
    [...traces].reverse().map(async (trace) => {
      const types = [
        ...new Set((await readSpans(server.trackingUri, trace.traceId)).map((span) => span.type)),
      ];
      return `${trace.state === "ERROR" ? "error" : "ok"} (${types.join(", ")})`;
    }),
  );
  return [
    `experiment "${DEMO_EXPERIMENT_NAME}" (${run.experimentId}), run "${run.runName}": ${run.status}, ${Object.keys(run.latestMetrics).length} metric keys`,
    `token metrics summed over the run: ${tokens} — the gateway: ${gatewayTokens} ${tokens === gatewayTokens ? "(equal)" : "(DIFFERENT)"}`,
    `traces: ${traces.length}: ${described.join(", ") || "none"}`,
    `run page (charts under "Model metrics"): ${toRunPageUrl(server.trackingUri, run.experimentId, run.runId)}`,
    `traces tab: ${toTracesPageUrl(server.trackingUri, run.experimentId)}`,
  ];
}
