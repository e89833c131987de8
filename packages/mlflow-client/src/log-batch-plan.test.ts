import { describe, expect, it } from "vitest";
import { MLFLOW_LIMITS } from "./limits.js";
import { jsonBytes, normalizeLogBatch, planLogBatchRequests } from "./log-batch-plan.js";
import type { MlflowMetricInput } from "./types.js";

const NOW = 1_790_000_000_000;

describe("normalizeLogBatch", () => {
  it("drops non-finite values and invalid timestamps or steps, and counts each", () => {
    const { metrics, report } = normalizeLogBatch(
      {
        metrics: [
          { key: "ok", value: 1, timestamp: 5, step: 2 },
          { key: "nan", value: Number.NaN },
          { key: "inf", value: Number.POSITIVE_INFINITY },
          { key: "negative-time", value: 1, timestamp: -1 },
          { key: "nan-step", value: 1, step: Number.NaN },
          { key: "huge-step", value: 1, step: 2 ** 60 },
          { key: "string-value", value: "3" as unknown as number },
          null as unknown as MlflowMetricInput,
        ],
      },
      MLFLOW_LIMITS,
      NOW,
    );
    expect(metrics).toEqual([{ key: "ok", value: 1, timestamp: 5, step: 2 }]);
    expect(report.dropped).toMatchObject({ nonFiniteMetrics: 2, invalidMetrics: 3, malformed: 2 });
  });

  it("defaults timestamp to now and step to 0, floors fractional timestamps and truncates steps", () => {
    const { metrics } = normalizeLogBatch(
      {
        metrics: [
          { key: "a", value: 0 },
          { key: "b", value: -2.5, timestamp: 10.9, step: -3.7 },
        ],
      },
      MLFLOW_LIMITS,
      NOW,
    );
    expect(metrics).toEqual([
      { key: "a", value: 0, timestamp: NOW, step: 0 },
      { key: "b", value: -2.5, timestamp: 10, step: -3 },
    ]);
  });

  it("sends identical metric points once but keeps distinct points of one key", () => {
    const point = { key: "tokens", value: 7, timestamp: 1, step: 1 };
    const { metrics, report } = normalizeLogBatch(
      { metrics: [point, { ...point }, { ...point, step: 2 }, { ...point, value: 8 }] },
      MLFLOW_LIMITS,
      NOW,
    );
    expect(metrics).toHaveLength(3);
    expect(report.dropped.duplicateMetrics).toBe(1);
  });

  it("keeps the first param and the last tag per sanitized key", () => {
    const { params, tags, report } = normalizeLogBatch({
      params: [
        { key: "p@1", value: "first" },
        { key: "p#1", value: "second" },
      ],
      tags: { "t@1": "first", "t#1": "second", other: 3 },
    });
    expect(params).toEqual([{ key: "p_1", value: "first" }]);
    // a repeated tag moves to where it was last given, as if set again
    expect(tags).toEqual([
      { key: "t_1", value: "second" },
      { key: "other", value: "3" },
    ]);
    expect(report.dropped.duplicateParams).toBe(1);
    expect(report.dropped.duplicateTags).toBe(1);
    expect(report.sanitizedKeys).toBe(4);
  });

  it("truncates param and tag values to their own limits", () => {
    const { params, tags, report } = normalizeLogBatch({
      params: { long: "p".repeat(7000) },
      tags: { long: "t".repeat(9000) },
    });
    expect(params[0]?.value.length).toBeLessThanOrEqual(6000);
    expect(params[0]?.value).toContain("…[truncated, 7000 chars]");
    expect(tags[0]?.value.length).toBeLessThanOrEqual(8000);
    expect(tags[0]?.value).toContain("…[truncated, 9000 chars]");
    expect(report.truncatedValues).toBe(2);
  });

  it("tolerates garbage input", () => {
    for (const input of [null, undefined, 5, "x", { metrics: "no" }, { params: 3, tags: [1, null] }]) {
      const result = normalizeLogBatch(input as never);
      expect(result.metrics).toEqual([]);
      expect(result.params).toEqual([]);
    }
  });
});

describe("planLogBatchRequests", () => {
  const build = (metricCount: number, paramCount: number, tagCount: number) =>
    normalizeLogBatch(
      {
        metrics: Array.from({ length: metricCount }, (_, index) => ({
          key: `m${index % 7}`,
          value: index,
          timestamp: NOW,
          step: index,
        })),
        params: Object.fromEntries(
          Array.from({ length: paramCount }, (_, index) => [`p${index}`, `v${index}`]),
        ),
        tags: Object.fromEntries(Array.from({ length: tagCount }, (_, index) => [`t${index}`, `v${index}`])),
      },
      MLFLOW_LIMITS,
      NOW,
    );

  it("splits 2500 metrics, 250 params and 250 tags into requests that each respect every limit", () => {
    const batch = build(2500, 250, 250);
    const requests = planLogBatchRequests("run1", batch);
    for (const request of requests) {
      expect(request.run_id).toBe("run1");
      expect(request.metrics.length).toBeLessThanOrEqual(1000);
      expect(request.params.length).toBeLessThanOrEqual(100);
      expect(request.tags.length).toBeLessThanOrEqual(100);
      expect(request.metrics.length + request.params.length + request.tags.length).toBeLessThanOrEqual(1000);
      expect(jsonBytes(request)).toBeLessThanOrEqual(1_000_000);
    }
    // every entity exactly once, in order
    expect(requests.flatMap((request) => request.metrics)).toEqual(batch.metrics);
    expect(requests.flatMap((request) => request.params)).toEqual(batch.params);
    expect(requests.flatMap((request) => request.tags)).toEqual(batch.tags);
    // 250 params need 3 requests and 3000 entities at least 3: the plan needs no more
    expect(requests).toHaveLength(3);
    expect(
      requests.map((request) => [request.params.length, request.tags.length, request.metrics.length]),
    ).toEqual([
      [100, 100, 800],
      [100, 100, 800],
      [50, 50, 900],
    ]);
  });

  it("splits by request size when values are large", () => {
    const batch = normalizeLogBatch({
      tags: Object.fromEntries(Array.from({ length: 90 }, (_, index) => [`t${index}`, "é".repeat(7900)])),
    });
    const requests = planLogBatchRequests("run1", batch, { ...MLFLOW_LIMITS, maxRequestBytes: 100_000 });
    expect(requests.length).toBeGreaterThan(1);
    for (const request of requests) expect(jsonBytes(request)).toBeLessThanOrEqual(100_000);
    expect(requests.flatMap((request) => request.tags)).toHaveLength(90);
  });

  it("plans no request for an empty batch", () => {
    expect(planLogBatchRequests("run1", normalizeLogBatch({}))).toEqual([]);
  });
});
