/** An in-memory stand-in for the MLflow client, for lifecycle and sender unit tests. */
import { type MlflowClient, MlflowError, type MlflowMetricInput, type MlflowRun } from "./mlflow-client.js";

/** What the stub recorded, and a switch to make every call fail as a network error. */
export interface StubMlflow {
  client: MlflowClient;
  runs: Map<string, MlflowRun>;
  logged: { runId: string; metrics: MlflowMetricInput[]; params: Record<string, unknown> }[];
  down: boolean;
  calls: string[];
}

/** Creates the stub; runs are numbered `run-1`, `run-2`... */
export function createStubMlflow(): StubMlflow {
  const stub: StubMlflow = {
    client: undefined as never,
    runs: new Map(),
    logged: [],
    down: false,
    calls: [],
  };
  let next = 1;
  const guard = (name: string) => {
    stub.calls.push(name);
    if (stub.down)
      throw new MlflowError({
        kind: "network",
        status: 0,
        errorCode: "NETWORK_ERROR",
        message: "connect ECONNREFUSED",
      });
  };
  stub.client = {
    trackingUri: "http://stub",
    experiments: {
      async getOrCreate(name: string) {
        guard("getOrCreate");
        return {
          experiment: { experimentId: "1", name, lifecycleStage: "active", tags: {} },
          created: false,
          restored: false,
        };
      },
    },
    runs: {
      async create(options: { experimentId: string; tags?: Record<string, unknown>; startTime?: number }) {
        guard("create");
        const runId = `run-${next++}`;
        const run: MlflowRun = {
          info: { runId, experimentId: options.experimentId, status: "RUNNING", lifecycleStage: "active" },
          data: { metrics: [], params: {}, tags: (options.tags ?? {}) as Record<string, string> },
        };
        stub.runs.set(runId, run);
        return run;
      },
      async update(options: { runId: string; status: MlflowRun["info"]["status"]; endTime?: number }) {
        guard("update");
        const run = stub.runs.get(options.runId);
        if (!run)
          throw new MlflowError({
            kind: "http",
            status: 404,
            errorCode: "RESOURCE_DOES_NOT_EXIST",
            message: "no run",
          });
        run.info.status = options.status;
        if (options.endTime !== undefined) run.info.endTime = options.endTime;
        return run.info;
      },
      async get(runId: string) {
        guard("get");
        const run = stub.runs.get(runId);
        if (!run)
          throw new MlflowError({
            kind: "http",
            status: 404,
            errorCode: "RESOURCE_DOES_NOT_EXIST",
            message: "no run",
          });
        return run;
      },
      async searchAll(options: { filter?: string }) {
        guard("searchAll");
        const instance = /clawscope\.gateway_instance` = '([^']*)'/.exec(options.filter ?? "")?.[1];
        return [...stub.runs.values()].filter(
          (run) => run.info.status === "RUNNING" && run.data.tags["clawscope.gateway_instance"] === instance,
        );
      },
      async logBatch(
        runId: string,
        input: { metrics?: MlflowMetricInput[]; params?: Record<string, unknown> },
      ) {
        guard("logBatch");
        if (!stub.runs.has(runId))
          throw new MlflowError({
            kind: "http",
            status: 404,
            errorCode: "RESOURCE_DOES_NOT_EXIST",
            message: "no run",
          });
        stub.logged.push({ runId, metrics: [...(input.metrics ?? [])], params: input.params ?? {} });
        return {} as never;
      },
    },
  } as unknown as MlflowClient;
  return stub;
}
