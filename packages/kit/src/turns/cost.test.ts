import { describe, expect, it } from "vitest";
import { combineCosts, estimateCost, resolveCost } from "./cost.js";
import type { Usage } from "./turn.js";

const usage = (input: number, output: number, cacheRead = 0, cacheWrite = 0): Usage => ({
  input,
  output,
  cacheRead,
  cacheWrite,
  total: input + output + cacheRead + cacheWrite,
});
const pricing = { "mock/mock-model": { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 } };

describe("cost provenance", () => {
  it("uses the host's cost as provider cost", () => {
    expect(resolveCost({ usage: usage(111, 22), hostCostUsd: 0.000663, pricing })).toEqual({
      usd: 0.000663,
      source: "provider",
    });
  });

  it("estimates from the price table when the host gave no cost, exactly as OpenClaw prices", () => {
    expect(
      resolveCost({
        usage: usage(111, 22),
        hostCostUsd: undefined,
        provider: "mock",
        model: "mock-model",
        pricing,
      }),
    ).toEqual({
      usd: 0.000663,
      source: "estimated",
    });
    expect(estimateCost(usage(1_000_000, 0, 1_000_000, 1_000_000), "mock", "mock-model", pricing)).toBe(
      3 + 0.3 + 3.75,
    );
    // a bare model key is a fallback
    expect(estimateCost(usage(1_000_000, 0), "other", "solo", { solo: { input: 2 } })).toBe(2);
  });

  it("is unknown (null, never zero) without a host cost or a price", () => {
    expect(
      resolveCost({ usage: usage(111, 22), hostCostUsd: undefined, provider: "x", model: "y", pricing }),
    ).toEqual({
      usd: null,
      source: "unknown",
    });
    expect(resolveCost({ usage: undefined, hostCostUsd: undefined })).toEqual({
      usd: null,
      source: "unknown",
    });
  });

  it("treats a host cost of 0 with tokens as unpriced, and 0 without tokens as a real zero", () => {
    expect(resolveCost({ usage: usage(500, 20), hostCostUsd: 0 })).toEqual({ usd: null, source: "unknown" });
    expect(
      resolveCost({ usage: usage(500, 20), hostCostUsd: 0, provider: "mock", model: "mock-model", pricing })
        .source,
    ).toBe("estimated");
    expect(resolveCost({ usage: usage(0, 0), hostCostUsd: 0 })).toEqual({ usd: 0, source: "provider" });
  });

  it("ignores negative or non-finite host costs and hostile price tables", () => {
    expect(resolveCost({ usage: usage(1, 1), hostCostUsd: -1 }).source).toBe("unknown");
    const hostile = Object.defineProperty({}, "mock/mock-model", {
      enumerable: true,
      get() {
        throw new Error("no");
      },
    });
    expect(
      resolveCost({
        usage: usage(1, 1),
        hostCostUsd: undefined,
        provider: "mock",
        model: "mock-model",
        pricing: hostile,
      }),
    ).toEqual({
      usd: null,
      source: "unknown",
    });
  });

  it("combines: unknown wins, then estimated, sums without float noise", () => {
    expect(
      combineCosts([
        { usd: 0.1, source: "provider" },
        { usd: 0.2, source: "provider" },
      ]),
    ).toEqual({
      usd: 0.3,
      source: "provider",
    });
    expect(
      combineCosts([
        { usd: 0.1, source: "provider" },
        { usd: 0.2, source: "estimated" },
      ]).source,
    ).toBe("estimated");
    expect(
      combineCosts([
        { usd: 0.1, source: "provider" },
        { usd: null, source: "unknown" },
      ]),
    ).toEqual({
      usd: null,
      source: "unknown",
    });
    expect(combineCosts([])).toEqual({ usd: null, source: "unknown" });
  });
});
