/** Metric history reads (all pages), used to check what reached MLflow. */
import type { MlflowCallOptions } from "./experiments.js";
import type { MlflowTransport } from "./http-transport.js";
import { asObject, readString, toMetrics } from "./read-response.js";
import type { MlflowMetric } from "./types.js";

/** Options of `metrics.getHistory`. */
export interface GetMetricHistoryOptions extends MlflowCallOptions {
  /** Page size (default 25000). */
  pageSize?: number | undefined;
  /** Most points returned (default 1,000,000) so memory stays bounded. */
  limit?: number | undefined;
}

/** The metric calls. */
export interface MlflowMetricsApi {
  /** Every logged point of one metric of one run, in the server's order, across pages. */
  getHistory(runId: string, key: string, options?: GetMetricHistoryOptions): Promise<MlflowMetric[]>;
}

/** Builds the metric calls on a transport. */
export function createMetricsApi(transport: MlflowTransport): MlflowMetricsApi {
  return {
    async getHistory(runId, key, options = {}) {
      const pageSize = Math.max(1, Math.floor(options.pageSize ?? 25_000));
      const limit = Math.max(1, Math.floor(options.limit ?? 1_000_000));
      const points: MlflowMetric[] = [];
      const seenTokens = new Set<string>();
      let pageToken: string | undefined;
      do {
        const body = await transport.request({
          method: "GET",
          endpoint: "metrics/get-history",
          query: { run_id: runId, metric_key: key, max_results: pageSize, page_token: pageToken },
          signal: options.signal,
        });
        points.push(...toMetrics(body.metrics).slice(0, limit - points.length));
        pageToken = readString(asObject(body).next_page_token);
        if (pageToken !== undefined && seenTokens.has(pageToken)) break;
        if (pageToken !== undefined) seenTokens.add(pageToken);
      } while (pageToken !== undefined && points.length < limit);
      return points;
    },
  };
}
