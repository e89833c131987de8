/**
 * Public shapes of the MLflow tracking API as this client returns and accepts them: camelCase,
 * numbers for int64 milliseconds, plain records for tags and params.
 */

/** Run status as MLflow spells it (`SCHEDULED` exists server-side but is never set by us). */
export type MlflowRunStatus = "RUNNING" | "SCHEDULED" | "FINISHED" | "FAILED" | "KILLED";

/** `active` or `deleted`; kept as a string so a newer server's stage does not break parsing. */
export type MlflowLifecycleStage = "active" | "deleted" | (string & {});

/** Which runs or experiments a search sees. */
export type MlflowViewType = "ACTIVE_ONLY" | "DELETED_ONLY" | "ALL";

/** An experiment as `experiments/get-by-name` returns it. */
export interface MlflowExperiment {
  experimentId: string;
  name: string;
  lifecycleStage: MlflowLifecycleStage;
  artifactLocation?: string;
  creationTime?: number;
  lastUpdateTime?: number;
  tags: Record<string, string>;
}

/** What `experiments.getOrCreate` came to. */
export interface EnsuredExperiment {
  experiment: MlflowExperiment;
  /** True when this call created it (false: found, created by a concurrent caller, or restored). */
  created: boolean;
  /** True when it was deleted and this call restored it (only with `restoreDeleted: true`). */
  restored: boolean;
}

/** The `info` half of a run. */
export interface MlflowRunInfo {
  runId: string;
  runName?: string;
  experimentId: string;
  status: MlflowRunStatus;
  startTime?: number;
  endTime?: number;
  lifecycleStage: MlflowLifecycleStage;
  userId?: string;
  artifactUri?: string;
}

/** One metric point. On reads from `runs/get` only the latest point per key is present. */
export interface MlflowMetric {
  key: string;
  value: number;
  /** Epoch milliseconds. */
  timestamp: number;
  step: number;
}

/** A run: its info and its data (latest metrics, params, tags). */
export interface MlflowRun {
  info: MlflowRunInfo;
  data: {
    metrics: MlflowMetric[];
    params: Record<string, string>;
    tags: Record<string, string>;
  };
}

/** One page of `runs/search`. */
export interface MlflowRunPage {
  runs: MlflowRun[];
  /** Present when more pages follow. */
  nextPageToken?: string;
}

/** A metric to log; `timestamp` defaults to now and `step` to 0. */
export interface MlflowMetricInput {
  key: string;
  value: number;
  timestamp?: number;
  step?: number;
}

/** What `runs.logBatch` logs. Params and tags as records or as key/value lists. */
export interface MlflowLogBatchInput {
  metrics?: readonly MlflowMetricInput[];
  params?: Record<string, unknown> | readonly { key: string; value: unknown }[];
  tags?: Record<string, unknown> | readonly { key: string; value: unknown }[];
}

/** What `runs.logBatch` did to make the input acceptable, and how many requests it took. */
export interface MlflowLogBatchReport {
  /** Requests sent (0 when nothing was left to log). */
  requests: number;
  /** Entities sent, after dropping and de-duplication. */
  sent: { metrics: number; params: number; tags: number };
  /** Entities not sent, by reason. */
  dropped: {
    /** NaN or ±Infinity values (JSON cannot carry them; MLflow would store a sentinel). */
    nonFiniteMetrics: number;
    /** Timestamps or steps that are not finite, negative timestamps, or outside int64-safe range. */
    invalidMetrics: number;
    /** Identical (key, value, timestamp, step) points: the server would reject them in one request. */
    duplicateMetrics: number;
    /** A second param with the same (sanitized) key: MLflow forbids changing a param. */
    duplicateParams: number;
    /** A tag repeated with the same (sanitized) key: the last one wins. */
    duplicateTags: number;
    /** Entries that are not objects or have no usable key. */
    malformed: number;
  };
  /** Keys changed to satisfy MLflow's key rules (characters, path form, length). */
  sanitizedKeys: number;
  /** Param and tag values cut to MLflow's length limits. */
  truncatedValues: number;
}
