/** Runs: create, update, read, search (paginated), and log-batch split to MLflow's limits. */
import type { MlflowCallOptions } from "./experiments.js";
import type { MlflowTransport } from "./http-transport.js";
import { type MlflowLimits, sanitizeMlflowKey, toMlflowValue } from "./limits.js";
import { normalizeLogBatch, planLogBatchRequests } from "./log-batch-plan.js";
import { MlflowError } from "./mlflow-error.js";
import { asObject, readString, toRun, toRunInfo } from "./read-response.js";
import type {
  MlflowLogBatchInput,
  MlflowLogBatchReport,
  MlflowRun,
  MlflowRunInfo,
  MlflowRunPage,
  MlflowRunStatus,
  MlflowViewType,
} from "./types.js";

/** Options of `runs.create`. */
export interface CreateRunOptions extends MlflowCallOptions {
  experimentId: string;
  runName?: string | undefined;
  /** Epoch ms (default now). */
  startTime?: number | undefined;
  /** Run tags, including system tags such as `mlflow.user` or `mlflow.source.name`. */
  tags?: Record<string, unknown> | undefined;
}

/** Options of `runs.update`. */
export interface UpdateRunOptions extends MlflowCallOptions {
  runId: string;
  status?: Exclude<MlflowRunStatus, "SCHEDULED"> | undefined;
  /** Epoch ms; set it with a terminal status. */
  endTime?: number | undefined;
  runName?: string | undefined;
}

/** Options of `runs.search`. */
export interface SearchRunsOptions extends MlflowCallOptions {
  experimentIds: readonly string[];
  /** MLflow search syntax, e.g. ``tags.`gateway.id` = 'a' AND attributes.status = 'RUNNING'``. */
  filter?: string | undefined;
  /** Page size (server default 1000, maximum 50000). */
  maxResults?: number | undefined;
  /** e.g. `["attributes.start_time DESC"]`. */
  orderBy?: readonly string[] | undefined;
  pageToken?: string | undefined;
  runViewType?: MlflowViewType | undefined;
}

/** The run calls. */
export interface MlflowRunsApi {
  create(options: CreateRunOptions): Promise<MlflowRun>;
  /** Sets status, end time or name; returns the updated info. */
  update(options: UpdateRunOptions): Promise<MlflowRunInfo>;
  get(runId: string, options?: MlflowCallOptions): Promise<MlflowRun>;
  /** One page of results. */
  search(options: SearchRunsOptions): Promise<MlflowRunPage>;
  /** Every page, up to `limit` runs (default 10000) so memory stays bounded. */
  searchAll(options: Omit<SearchRunsOptions, "pageToken"> & { limit?: number }): Promise<MlflowRun[]>;
  /**
   * Logs metrics, params and tags, cleaned to MLflow's rules and split into as many requests as
   * its limits need, sent one after another. Throws the first failure with `completedRequests`
   * set. Re-sending the same input is safe on MLflow's SQL store: identical metric points are
   * stored once, an unchanged param is accepted, tags overwrite.
   */
  logBatch(
    runId: string,
    input: MlflowLogBatchInput,
    options?: MlflowCallOptions,
  ): Promise<MlflowLogBatchReport>;
}

const DEFAULT_SEARCH_LIMIT = 10_000;
const DEFAULT_PAGE_SIZE = 1000;

/** Builds the run calls on a transport. */
export function createRunsApi(transport: MlflowTransport, limits: MlflowLimits): MlflowRunsApi {
  const toTags = (tags: Record<string, unknown> | undefined): { key: string; value: string }[] =>
    Object.entries(tags ?? {}).map(([key, value]) => ({
      key: sanitizeMlflowKey(key, limits.maxKeyLength).key,
      value: toMlflowValue(value, limits.maxTagValueLength).value,
    }));

  const api: MlflowRunsApi = {
    async create(options) {
      const endpoint = "runs/create";
      const body = await transport.request({
        method: "POST",
        endpoint,
        body: {
          experiment_id: requireId(options.experimentId, "experimentId"),
          ...(options.runName ? { run_name: options.runName } : {}),
          start_time: toMillis(options.startTime ?? Date.now()),
          tags: toTags(options.tags),
        },
        signal: options.signal,
      });
      return toRun(body.run, endpoint);
    },

    async update(options) {
      const endpoint = "runs/update";
      const body = await transport.request({
        method: "POST",
        endpoint,
        body: {
          run_id: requireId(options.runId, "runId"),
          ...(options.status ? { status: options.status } : {}),
          ...(options.endTime === undefined ? {} : { end_time: toMillis(options.endTime) }),
          ...(options.runName ? { run_name: options.runName } : {}),
        },
        signal: options.signal,
      });
      return toRunInfo(body.run_info, endpoint);
    },

    async get(runId, options = {}) {
      const endpoint = "runs/get";
      const body = await transport.request({
        method: "GET",
        endpoint,
        query: { run_id: requireId(runId, "runId") },
        signal: options.signal,
      });
      return toRun(body.run, endpoint);
    },

    async search(options) {
      const endpoint = "runs/search";
      const body = await transport.request({
        method: "POST",
        endpoint,
        body: {
          experiment_ids: [...options.experimentIds],
          ...(options.filter ? { filter: options.filter } : {}),
          run_view_type: options.runViewType ?? "ACTIVE_ONLY",
          max_results: options.maxResults ?? DEFAULT_PAGE_SIZE,
          ...(options.orderBy && options.orderBy.length > 0 ? { order_by: [...options.orderBy] } : {}),
          ...(options.pageToken ? { page_token: options.pageToken } : {}),
        },
        signal: options.signal,
      });
      const runs = Array.isArray(body.runs) ? body.runs.map((run) => toRun(run, endpoint)) : [];
      const nextPageToken = readString(asObject(body).next_page_token);
      return nextPageToken === undefined ? { runs } : { runs, nextPageToken };
    },

    async searchAll(options) {
      const limit = Math.max(1, Math.floor(options.limit ?? DEFAULT_SEARCH_LIMIT));
      const runs: MlflowRun[] = [];
      const seenTokens = new Set<string>();
      let pageToken: string | undefined;
      do {
        const page = await api.search({
          ...options,
          maxResults: Math.min(options.maxResults ?? DEFAULT_PAGE_SIZE, limit - runs.length),
          pageToken,
        });
        runs.push(...page.runs.slice(0, limit - runs.length));
        pageToken = page.nextPageToken;
        // a server that hands back a token it already gave would loop forever
        if (pageToken !== undefined && seenTokens.has(pageToken)) break;
        if (pageToken !== undefined) seenTokens.add(pageToken);
      } while (pageToken !== undefined && runs.length < limit);
      return runs;
    },

    async logBatch(runId, input, options = {}) {
      const normalized = normalizeLogBatch(input, limits);
      const requests = planLogBatchRequests(requireId(runId, "runId"), normalized, limits);
      const report = normalized.report;
      for (const [index, request] of requests.entries()) {
        try {
          await transport.request({
            method: "POST",
            endpoint: "runs/log-batch",
            body: request,
            signal: options.signal,
          });
        } catch (error) {
          throw error instanceof MlflowError ? error.withCompletedRequests(index) : error;
        }
        report.requests += 1;
        report.sent.metrics += request.metrics.length;
        report.sent.params += request.params.length;
        report.sent.tags += request.tags.length;
      }
      return report;
    },
  };
  return api;
}

function requireId(value: unknown, name: string): string {
  if (typeof value === "string" && value.trim() !== "") return value;
  throw new MlflowError({
    kind: "invalid-argument",
    status: 0,
    errorCode: "INVALID_PARAMETER_VALUE",
    message: `${name} must be a non-empty string`,
  });
}

/** int64 milliseconds ≥ 0; anything else becomes now, so a bad clock value cannot fail a run. */
function toMillis(value: number): number {
  return Number.isFinite(value) && value >= 0 && value <= Number.MAX_SAFE_INTEGER
    ? Math.floor(value)
    : Date.now();
}
