import { describe, expect, it } from "vitest";
import { FINAL_FLUSH_BUDGET_MS, flushWithinBudget } from "./final-flush.js";
import { STOP_TIMEOUT_MS } from "./running-runtime.js";

describe("flushWithinBudget", () => {
  it("leaves the pipelines room in the kit's stop bound", () => {
    expect(FINAL_FLUSH_BUDGET_MS).toBeGreaterThan(0);
    expect(FINAL_FLUSH_BUDGET_MS).toBeLessThan(STOP_TIMEOUT_MS / 2);
  });

  it("returns once every flush has settled, failed ones included", async () => {
    const order: string[] = [];
    const result = await flushWithinBudget(
      [
        new Promise((resolve) => setTimeout(() => resolve(order.push("slow")), 30)),
        Promise.reject(new Error("backend down")),
        undefined,
      ],
      5_000,
    );
    expect(result).toBe("flushed");
    expect(order).toEqual(["slow"]);
  });

  it("gives up on a flush that never ends when the budget is spent", async () => {
    const started = Date.now();
    expect(await flushWithinBudget([new Promise(() => {})], 50)).toBe("budget_spent");
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
