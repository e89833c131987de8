/**
 * The MLflow run of one gateway process. At start, in the background (the gateway never waits):
 * find or create the experiment, close as FAILED the runs a crashed earlier process of this same
 * gateway left RUNNING, create this process's run (RUNNING, tags) and log the params. While MLflow
 * is down this retries with capped exponential backoff on an unref'd timer; senders call `ensureRun`
 * and get `undefined` (→ retry) until it exists. At stop the run is marked FINISHED.
 *
 * "Same gateway" means the tag `clawscope.gateway_instance` (gateway name + hash of the state dir)
 * plus the run id this gateway's `run.json` names, so another gateway's live run is never closed.
 * A stale run's end time is its latest metric's timestamp (when it stopped reporting), else now.
 */
import type { PackLogger } from "@clawscope/kit";
import { RUN_TAGS } from "../domain/run-identity.js";
import { describeError } from "./describe-error.js";
import type { MlflowClient, MlflowRun } from "./mlflow-client.js";
import { type RunState, readRunState, writeRunState } from "./run-state-file.js";

/** Options of {@link createRunLifecycle}. */
export interface RunLifecycleOptions {
  client: MlflowClient;
  experimentName: string;
  runName: string;
  tags: Record<string, string>;
  params: Record<string, string>;
  gatewayInstance: string;
  stateDir: string;
  logger: PackLogger;
  now?: () => number;
  /** Backoff of background attempts (default 1 s doubling to 60 s). */
  retry?: { initialMs?: number; maxMs?: number };
}

/** What {@link createRunLifecycle} returns. */
export interface RunLifecycle {
  /** Starts the background attempts. Never throws, never blocks. */
  start(): void;
  /** The run, creating it now if needed (single flight); undefined while MLflow cannot be reached. */
  ensureRun(): Promise<RunState | undefined>;
  current(): RunState | undefined;
  /** Marks the run FINISHED (if one was created) and stops retrying. Never throws. */
  finish(): Promise<void>;
  stats(): Record<string, unknown>;
}

const MAX_STALE_RUNS = 100;

/** Creates the run lifecycle of one process. */
export function createRunLifecycle(options: RunLifecycleOptions): RunLifecycle {
  const { client, logger } = options;
  const now = options.now ?? Date.now;
  const initialMs = options.retry?.initialMs ?? 1_000;
  const maxMs = options.retry?.maxMs ?? 60_000;
  let experimentId: string | undefined;
  let staleChecked = false;
  let created: RunState | undefined;
  let paramsLogged = false;
  let inFlight: Promise<RunState | undefined> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  let stopped = false;
  const counters = { attempts: 0, staleRunsClosed: 0 };
  let lastError: string | undefined;
  const startedAt = now();
  const previous = readRunState(options.stateDir);

  async function attempt(): Promise<RunState | undefined> {
    counters.attempts += 1;
    if (!experimentId) {
      const { experiment, created: made } = await client.experiments.getOrCreate(options.experimentName);
      experimentId = experiment.experimentId;
      if (made) logger.info(`created MLflow experiment "${options.experimentName}" (${experimentId})`);
    }
    if (!staleChecked) {
      await closeStaleRuns(experimentId);
      staleChecked = true;
    }
    if (!created) {
      const run = await client.runs.create({
        experimentId,
        runName: options.runName,
        startTime: startedAt,
        tags: options.tags,
      });
      created = {
        runId: run.info.runId,
        experimentId,
        startedAt,
        gatewayInstance: options.gatewayInstance,
        pid: process.pid,
      };
      await writeRunState(options.stateDir, created).catch((error: unknown) =>
        logger.warn(`could not write run.json: ${describeError(error)}`),
      );
      logger.info(`MLflow run ${created.runId} started in experiment ${experimentId}`);
    }
    if (!paramsLogged) {
      await client.runs.logBatch(created.runId, { params: options.params });
      paramsLogged = true;
    }
    return created;
  }

  async function closeStaleRuns(inExperiment: string): Promise<void> {
    const stale = new Map<string, MlflowRun>();
    const filter = `tags.\`${RUN_TAGS.gatewayInstance}\` = '${options.gatewayInstance}' AND attributes.status = 'RUNNING'`;
    for (const run of await client.runs.searchAll({
      experimentIds: [inExperiment],
      filter,
      limit: MAX_STALE_RUNS,
    }))
      stale.set(run.info.runId, run);
    // run.json names the previous process's run even if it went to another experiment or lost its tag
    const fromFile = await previous;
    if (fromFile && !stale.has(fromFile.runId)) {
      try {
        const run = await client.runs.get(fromFile.runId);
        if (run.info.status === "RUNNING") stale.set(run.info.runId, run);
      } catch {
        // deleted or unreadable: nothing to close
      }
    }
    for (const run of stale.values()) {
      const lastMetricAt = Math.max(0, ...run.data.metrics.map((metric) => metric.timestamp));
      await client.runs.update({
        runId: run.info.runId,
        status: "FAILED",
        endTime: lastMetricAt > 0 ? lastMetricAt : now(),
      });
      counters.staleRunsClosed += 1;
      logger.warn(
        `closed MLflow run ${run.info.runId} as FAILED: an earlier process of this gateway left it RUNNING`,
      );
    }
  }

  function ensureRun(): Promise<RunState | undefined> {
    if (created && paramsLogged) return Promise.resolve(created);
    if (stopped) return Promise.resolve(created);
    inFlight ??= attempt()
      .then((state) => {
        failures = 0;
        lastError = undefined;
        return state;
      })
      .catch((error: unknown) => {
        failures += 1;
        lastError = describeError(error);
        logger.limited("warn", "run-create", `MLflow run not ready yet (will retry): ${lastError}`);
        return created;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  }

  function schedule(delayMs: number): void {
    if (stopped) return;
    timer = setTimeout(async () => {
      timer = undefined;
      await ensureRun();
      if (!(created && paramsLogged)) {
        const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(failures, 16));
        schedule(ceiling / 2 + Math.random() * (ceiling / 2));
      }
    }, delayMs);
    timer.unref?.();
  }

  return {
    start: () => schedule(0),
    ensureRun,
    current: () => created,
    async finish() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await inFlight?.catch(() => undefined);
      if (!created) return;
      try {
        await client.runs.update({ runId: created.runId, status: "FINISHED", endTime: now() });
        logger.info(`MLflow run ${created.runId} finished`);
      } catch (error) {
        // the next start of this gateway closes it as FAILED instead
        logger.warn(`could not mark MLflow run ${created.runId} FINISHED: ${describeError(error)}`);
      }
    },
    stats: () => ({
      experimentId,
      runId: created?.runId,
      ready: Boolean(created && paramsLogged),
      failures,
      ...counters,
      ...(lastError ? { lastError } : {}),
    }),
  };
}
