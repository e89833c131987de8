/**
 * The public surface of @clawscope/mlflow-client: a typed client on global `fetch` for the MLflow
 * tracking REST calls clawscope uses. Explicit names only: what is not listed here is internal.
 */
export {
  type MlflowAuth,
  type MlflowAuthOptions,
  type MlflowAuthSource,
  type ResolvedMlflowAuth,
  resolveMlflowAuth,
  toAuthorizationHeader,
} from "./auth.js";
export {
  createMlflowClient,
  DEFAULT_MLFLOW_TIMEOUT_MS,
  type MlflowClient,
  type MlflowClientOptions,
} from "./client.js";
export type {
  GetOrCreateExperimentOptions,
  MlflowCallOptions,
  MlflowExperimentsApi,
} from "./experiments.js";
export type { FetchLike } from "./http-transport.js";
export {
  type FittedValue,
  MLFLOW_LIMITS,
  type MlflowLimits,
  type SanitizedKey,
  sanitizeMlflowKey,
  toMlflowValue,
} from "./limits.js";
export {
  type LogBatchRequestBody,
  type NormalizedLogBatch,
  normalizeLogBatch,
  planLogBatchRequests,
} from "./log-batch-plan.js";
export type { GetMetricHistoryOptions, MlflowMetricsApi } from "./metrics.js";
export {
  describeMlflowError,
  isMlflowError,
  MlflowError,
  type MlflowErrorFields,
  type MlflowErrorKind,
  toSendResult,
} from "./mlflow-error.js";
export type { CreateRunOptions, MlflowRunsApi, SearchRunsOptions, UpdateRunOptions } from "./runs.js";
export type {
  EnsuredExperiment,
  MlflowExperiment,
  MlflowLifecycleStage,
  MlflowLogBatchInput,
  MlflowLogBatchReport,
  MlflowMetric,
  MlflowMetricInput,
  MlflowRun,
  MlflowRunInfo,
  MlflowRunPage,
  MlflowRunStatus,
  MlflowViewType,
} from "./types.js";
