/**
 * Experiments: found by name or created, safely when several gateways start at once, and never
 * silently resurrected once an operator deleted one.
 */
import type { MlflowTransport } from "./http-transport.js";
import { sanitizeMlflowKey, toMlflowValue } from "./limits.js";
import { MlflowError } from "./mlflow-error.js";
import { asObject, readString, toExperiment } from "./read-response.js";
import type { EnsuredExperiment, MlflowExperiment } from "./types.js";

/** Options every call takes. */
export interface MlflowCallOptions {
  /** Aborts the call (the client's own timeout applies as well). */
  signal?: AbortSignal | undefined;
}

/** Options of `experiments.getOrCreate`. */
export interface GetOrCreateExperimentOptions extends MlflowCallOptions {
  /** Tags set when this call creates the experiment (not applied to an existing one). */
  tags?: Record<string, string> | undefined;
  /**
   * Restore the experiment when it exists but is deleted. Off by default: MLflow's own
   * `set_experiment` refuses a deleted experiment, and undoing an operator's deletion
   * without being asked would surprise them.
   */
  restoreDeleted?: boolean | undefined;
}

/** The experiment calls. */
export interface MlflowExperimentsApi {
  /** The experiment with this name, deleted ones included (check `lifecycleStage`); undefined if none. */
  getByName(name: string, options?: MlflowCallOptions): Promise<MlflowExperiment | undefined>;
  /** Creates an experiment and returns its id; `RESOURCE_ALREADY_EXISTS` if the name is taken. */
  create(name: string, options?: MlflowCallOptions & { tags?: Record<string, string> }): Promise<string>;
  /** Marks an experiment deleted (it keeps its name until `mlflow gc`). */
  delete(experimentId: string, options?: MlflowCallOptions): Promise<void>;
  /** Restores a deleted experiment. */
  restore(experimentId: string, options?: MlflowCallOptions): Promise<void>;
  /**
   * Finds the active experiment by name or creates it. A concurrent create elsewhere
   * (`RESOURCE_ALREADY_EXISTS`) resolves to the other creator's experiment. A deleted experiment
   * throws a non-retryable `EXPERIMENT_DELETED` error unless `restoreDeleted` is set.
   */
  getOrCreate(name: string, options?: GetOrCreateExperimentOptions): Promise<EnsuredExperiment>;
}

/** Longest experiment name MLflow accepts. */
const MAX_EXPERIMENT_NAME_LENGTH = 500;
/** Experiment tag values may be longer than run tag values. */
const MAX_EXPERIMENT_TAG_VALUE_LENGTH = 20_000;

/** Builds the experiment calls on a transport. */
export function createExperimentsApi(transport: MlflowTransport): MlflowExperimentsApi {
  const api: MlflowExperimentsApi = {
    async getByName(name, options = {}) {
      const endpoint = "experiments/get-by-name";
      try {
        const body = await transport.request({
          method: "GET",
          endpoint,
          query: { experiment_name: checkName(name) },
          signal: options.signal,
        });
        return toExperiment(body.experiment, endpoint);
      } catch (error) {
        if (error instanceof MlflowError && error.isNotFound) return undefined;
        throw error;
      }
    },

    async create(name, options = {}) {
      const endpoint = "experiments/create";
      const tags = Object.entries(options.tags ?? {}).map(([key, value]) => ({
        key: sanitizeMlflowKey(key).key,
        value: toMlflowValue(value, MAX_EXPERIMENT_TAG_VALUE_LENGTH).value,
      }));
      const body = await transport.request({
        method: "POST",
        endpoint,
        body: { name: checkName(name), ...(tags.length > 0 ? { tags } : {}) },
        signal: options.signal,
      });
      const id = readString(asObject(body).experiment_id);
      if (id === undefined) {
        throw new MlflowError({
          kind: "invalid-response",
          status: 200,
          errorCode: "INVALID_RESPONSE",
          message: "answer has no experiment_id",
          endpoint,
        });
      }
      return id;
    },

    async delete(experimentId, options = {}) {
      await transport.request({
        method: "POST",
        endpoint: "experiments/delete",
        body: { experiment_id: experimentId },
        signal: options.signal,
      });
    },

    async restore(experimentId, options = {}) {
      await transport.request({
        method: "POST",
        endpoint: "experiments/restore",
        body: { experiment_id: experimentId },
        signal: options.signal,
      });
    },

    async getOrCreate(name, options = {}) {
      const call = { signal: options.signal };
      const existing = await api.getByName(name, call);
      if (existing) return await useExisting(existing, false);
      try {
        const experimentId = await api.create(name, { ...call, tags: options.tags ?? {} });
        const created = await api.getByName(name, call);
        return {
          experiment: created ?? { experimentId, name, lifecycleStage: "active", tags: { ...options.tags } },
          created: true,
          restored: false,
        };
      } catch (error) {
        if (!(error instanceof MlflowError) || error.errorCode !== "RESOURCE_ALREADY_EXISTS") throw error;
        // another gateway created it between our lookup and our create, or it is deleted
        const winner = await api.getByName(name, call);
        if (!winner) throw error;
        return await useExisting(winner, true);
      }

      async function useExisting(experiment: MlflowExperiment, raced: boolean): Promise<EnsuredExperiment> {
        if (experiment.lifecycleStage !== "deleted") return { experiment, created: false, restored: false };
        if (!options.restoreDeleted) throw deletedError(experiment, raced);
        await api.restore(experiment.experimentId, call);
        const restored = (await api.getByName(name, call)) ?? { ...experiment, lifecycleStage: "active" };
        return { experiment: restored, created: false, restored: true };
      }
    },
  };
  return api;
}

function checkName(name: unknown): string {
  if (typeof name !== "string" || name.trim() === "" || name.length > MAX_EXPERIMENT_NAME_LENGTH) {
    throw new MlflowError({
      kind: "invalid-argument",
      status: 0,
      errorCode: "INVALID_PARAMETER_VALUE",
      message: `experiment name must be a non-empty string of at most ${MAX_EXPERIMENT_NAME_LENGTH} characters`,
    });
  }
  return name;
}

function deletedError(experiment: MlflowExperiment, raced: boolean): MlflowError {
  return new MlflowError({
    kind: "experiment-deleted",
    status: 0,
    errorCode: "EXPERIMENT_DELETED",
    message:
      `experiment '${experiment.name}' (id ${experiment.experimentId}) is deleted` +
      `${raced ? " (its name blocks creating a new one)" : ""}: restore it in the MLflow UI, ` +
      "remove it for good with `mlflow gc`, or choose another experiment name",
    endpoint: "experiments/get-by-name",
  });
}
