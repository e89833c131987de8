/** The MLflow server harness lives in @clawscope/testing (shared with tests/e2e); re-exported for these tests. */
export {
  ensureMlflowInstalled,
  type MlflowBasicAuth,
  type MlflowServer,
  type StartMlflowServerOptions,
  startMlflowServer,
} from "@clawscope/testing";
