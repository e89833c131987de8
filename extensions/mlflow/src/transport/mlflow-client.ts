// The one import of @clawscope/mlflow-client. Relative until `pnpm install` links the workspace
// package into extensions/mlflow; then this becomes `from "@clawscope/mlflow-client"` (tsup bundles either).
export {
  createMlflowClient,
  describeMlflowError,
  isMlflowError,
  type MlflowClient,
  MlflowError,
  type MlflowMetricInput,
  type MlflowRun,
  resolveMlflowAuth,
  toAuthorizationHeader,
  toSendResult,
} from "@clawscope/mlflow-client";
