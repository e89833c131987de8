import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  deriveEntryStatus,
  findEscalation,
  findReturnAfterQuiet,
  toTraceLink,
  toTrend,
} from "./issue-entry.js";

const HOUR = 3_600_000;

describe("issue entry status", () => {
  const base = { now: 100 * HOUR, quietAfterMs: 24 * HOUR, decision: {} };
  it("is open while it occurs, quiet after the quiet period, regressed when it came back after one", () => {
    expect(deriveEntryStatus({ ...base, lastSeen: 99 * HOUR })).toEqual({ state: "open" });
    expect(deriveEntryStatus({ ...base, lastSeen: 70 * HOUR }).state).toBe("quiet");
    expect(deriveEntryStatus({ ...base, lastSeen: 99 * HOUR, returnedAfterQuietAt: 99 * HOUR })).toEqual({
      state: "regressed",
      regression: { at: 99 * HOUR, after: "quiet" },
    });
  });

  it("stays resolved until something comes after the resolve, then regresses", () => {
    const decision = { resolvedAt: 98 * HOUR };
    expect(deriveEntryStatus({ ...base, decision, lastSeen: 97 * HOUR }).state).toBe("resolved");
    expect(
      deriveEntryStatus({ ...base, decision, lastSeen: 99 * HOUR, firstAfterResolveAt: 99 * HOUR }),
    ).toEqual({ state: "regressed", regression: { at: 99 * HOUR, after: "resolved" } });
  });

  it("keeps an archived entry archived until its hourly rate escalates well above its usual one", () => {
    const hourly = [
      { hour: 95 * HOUR, count: 2 },
      { hour: 96 * HOUR, count: 3 },
      { hour: 97 * HOUR, count: 2 },
      { hour: 98 * HOUR, count: 30 },
    ];
    expect(findEscalation(hourly.slice(0, 3), 95.5 * HOUR, 2)).toBeUndefined();
    expect(findEscalation(hourly, 95.5 * HOUR, 2)).toBe(98 * HOUR);
    const decision = { archivedAt: 95.5 * HOUR, archivedBaselinePerHour: 2 };
    expect(deriveEntryStatus({ ...base, decision, lastSeen: 99 * HOUR }).state).toBe("archived");
    expect(
      deriveEntryStatus({ ...base, decision, lastSeen: 99 * HOUR, escalatedAt: 98 * HOUR }),
    ).toMatchObject({
      state: "regressed",
      regression: { after: "archived" },
    });
  });

  it("is merged whatever else holds", () => {
    expect(deriveEntryStatus({ ...base, decision: { mergedInto: "x" }, lastSeen: 99 * HOUR }).state).toBe(
      "merged",
    );
  });

  it("finds the first occurrence after a quiet gap among new ones", () => {
    expect(findReturnAfterQuiet(0, [HOUR, 30 * HOUR, 31 * HOUR], 24 * HOUR)).toBe(30 * HOUR);
    expect(findReturnAfterQuiet(0, [HOUR, 2 * HOUR], 24 * HOUR)).toBeUndefined();
    expect(findReturnAfterQuiet(undefined, [HOUR], 24 * HOUR)).toBeUndefined();
  });

  it("calls a twofold change of at least 3 a trend", () => {
    const now = 100 * HOUR;
    expect(
      toTrend(
        [
          { hour: now - 30 * HOUR, count: 2 },
          { hour: now - HOUR, count: 9 },
        ],
        now,
      ),
    ).toBe("rising");
    expect(
      toTrend(
        [
          { hour: now - 30 * HOUR, count: 9 },
          { hour: now - HOUR, count: 2 },
        ],
        now,
      ),
    ).toBe("falling");
    expect(
      toTrend(
        [
          { hour: now - 30 * HOUR, count: 1 },
          { hour: now - HOUR, count: 2 },
        ],
        now,
      ),
    ).toBe("steady");
  });
});

describe("trace links", () => {
  it("fills the ids each exporter gave the turn, and leaves foreign braces alone", () => {
    const langfuse = createHash("sha256")
      .update("clawscope-langfuse:trace:turn-1")
      .digest("hex")
      .slice(0, 32);
    expect(toTraceLink("https://lf/project/p/traces/{langfuseTraceId}", { turnId: "turn-1" })).toBe(
      `https://lf/project/p/traces/${langfuse}`,
    );
    expect(toTraceLink("http://mlflow/#/traces/{mlflowTraceId}", { turnId: "turn-1" })).toMatch(
      /^http:\/\/mlflow\/#\/traces\/tr-[0-9a-f]{32}$/,
    );
    expect(toTraceLink("http://grafana/explore?q={x}&t={traceId}", { traceId: "abc" })).toBe(
      "http://grafana/explore?q={x}&t=abc",
    );
    expect(toTraceLink("http://tempo/{traceId}", { turnId: "t" })).toBeUndefined();
  });
});
