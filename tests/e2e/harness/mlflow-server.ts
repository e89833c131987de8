/**
 * The real MLflow server of the e2e tests: `startMlflowServer` from @clawscope/testing (fresh
 * SQLite store in the test's folder) without MLflow's background job runner. The runner (two
 * `huey_consumer` processes importing all of MLflow) serves scheduled jobs these tests never use;
 * on 2 cores it made a restart on an existing store take ~40 s instead of ~12 s, and the outage
 * test restarts MLflow twice.
 */
import { type MlflowServer, type StartMlflowServerOptions, startMlflowServer } from "@clawscope/testing";

/** Environment of the e2e MLflow server. */
export const E2E_MLFLOW_ENV = { MLFLOW_SERVER_ENABLE_JOB_EXECUTION: "false" } as const;

/** Starts a real MLflow server for an e2e test (installs MLflow first if the cache misses). */
export async function startE2eMlflowServer(options: StartMlflowServerOptions): Promise<MlflowServer> {
  return await startMlflowServer({ ...options, env: { ...E2E_MLFLOW_ENV, ...options.env } });
}
