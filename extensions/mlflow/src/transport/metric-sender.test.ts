import type { ExportItem } from "@clawscope/kit";
import { describe, expect, it } from "vitest";
import type { MetricPoint } from "../domain/metric-aggregator.js";
import { createMetricSender, type MetricBatch } from "./metric-sender.js";
import type { RunState } from "./run-state-file.js";
import { createStubMlflow } from "./test-client.js";

const point = (key: string, value: number, step = 0): MetricPoint => ({ key, value, timestamp: 1_000, step });
const item = (id: string, payload: MetricBatch): ExportItem<MetricBatch> => ({ id, payload, enqueuedAt: 0 });
const signal = new AbortController().signal;

describe("createMetricSender", () => {
  it("sends each item to its own run and fills the current run into unaddressed items", async () => {
    const stub = createStubMlflow();
    const old = await stub.client.runs.create({ experimentId: "1" });
    const current = await stub.client.runs.create({ experimentId: "1" });
    const state: RunState = {
      runId: current.info.runId,
      experimentId: "1",
      startedAt: 0,
      gatewayInstance: "g",
      pid: 1,
    };
    const send = createMetricSender({ client: stub.client, lifecycle: { ensureRun: async () => state } });
    const result = await send(
      [
        item("a", { runId: old.info.runId, points: [point("turns", 1)] }),
        item("b", { points: [point("turns", 2, 1)] }),
        item("c", { runId: current.info.runId, points: [point("turns", 3, 2)] }),
      ],
      signal,
    );
    expect(result).toEqual({ kind: "ok" });
    expect(stub.logged.map((entry) => [entry.runId, entry.metrics.map((metric) => metric.value)])).toEqual([
      ["run-1", [1]],
      ["run-2", [3, 2]],
    ]);
  });

  it("asks for a retry while the run does not exist, and maps MLflow errors", async () => {
    const stub = createStubMlflow();
    const waiting = createMetricSender({
      client: stub.client,
      lifecycle: { ensureRun: async () => undefined },
    });
    expect((await waiting([item("a", { points: [point("turns", 1)] })], signal)).kind).toBe("retry");
    expect(stub.logged).toEqual([]);

    stub.down = true;
    const down = await waiting([item("a", { runId: "run-9", points: [point("turns", 1)] })], signal);
    expect(down.kind).toBe("retry");
    stub.down = false;
    const missingRun = await waiting([item("a", { runId: "run-9", points: [point("turns", 1)] })], signal);
    expect(missingRun.kind).toBe("reject");
  });

  it("tolerates malformed payloads from a corrupt spool", async () => {
    const stub = createStubMlflow();
    const send = createMetricSender({ client: stub.client, lifecycle: { ensureRun: async () => undefined } });
    const garbage = [
      item("x", null as unknown as MetricBatch),
      item("y", { runId: 7 } as unknown as MetricBatch),
    ];
    expect((await send(garbage, signal)).kind).toBe("retry");
  });
});
