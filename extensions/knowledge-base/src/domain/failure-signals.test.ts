import { describe, expect, it } from "vitest";
import { type PackCounters, type PackHealthView, toPackFailures } from "./failure-signals.js";

const NOW = 1_795_000_000_000;
const health = (
  pluginId: string,
  patch: Partial<PackHealthView["export"]> = {},
  extra: Partial<PackHealthView> = {},
): PackHealthView => ({
  pluginId,
  startedAt: NOW - 3_600_000,
  events: { overflowed: 0 },
  turns: { late: 0 },
  export: { retried: 0, dropped: 0, deadLettered: 0, authPaused: false, ...patch },
  ...extra,
});

describe("the pack's own failures", () => {
  it("reports an extension whose exports were retried, dropped or dead-lettered since the last look, once", () => {
    const counters: PackCounters = new Map();
    const first = toPackFailures(
      [
        health(
          "clawscope-mlflow",
          { retried: 3 },
          {
            lastError: {
              message: "POST http://127.0.0.1:5000/api/2.0/mlflow/runs/log-batch: HTTP 503",
              at: NOW - 1_000,
            },
          },
        ),
        health("clawscope-otel"),
      ],
      counters,
      NOW,
    );
    expect(first).toEqual([
      expect.objectContaining({
        ts: NOW,
        signal: {
          kind: "export_failure",
          category: "retried",
          tool: "clawscope-mlflow",
          message: "POST http://127.0.0.1:5000/api/2.0/mlflow/runs/log-batch: HTTP 503",
        },
      }),
    ]);
    // nothing new: nothing reported
    expect(toPackFailures([health("clawscope-mlflow", { retried: 3 })], counters, NOW + 60_000)).toEqual([]);
    // dropped wins over retried; an old last error is not the cause
    const dropped = toPackFailures(
      [
        health(
          "clawscope-mlflow",
          { retried: 5, dropped: 1 },
          { lastError: { message: "old", at: NOW - 3_600_000 } },
        ),
      ],
      counters,
      NOW + 120_000,
    );
    expect(dropped.map((item) => [item.signal.category, item.signal.message])).toEqual([
      ["dropped", "clawscope-mlflow exports dropped"],
    ]);
    // a refused credential, and an overflowing input queue
    const paused = toPackFailures(
      [health("clawscope-langfuse", { authPaused: true }, { events: { overflowed: 2 } })],
      counters,
      NOW + 180_000,
    );
    expect(paused.map((item) => [item.signal.kind, item.signal.category])).toEqual([
      ["export_failure", "auth"],
      ["turn_incomplete", "input_dropped"],
    ]);
  });

  it("gives the same keys when read again from scratch (this extension reloaded): nothing counted twice", () => {
    const views = [health("clawscope-otel", { retried: 2, deadLettered: 1 })];
    const once = toPackFailures(views, new Map(), NOW);
    const again = toPackFailures(views, new Map(), NOW + 60_000);
    expect(once.map((item) => item.key)).toEqual(again.map((item) => item.key));
    expect(once[0]?.signal.category).toBe("dead_lettered");
  });
});
