import { describe, expect, it } from "vitest";
import {
  type ConfigChange,
  describeStoppingChange,
  findStoppingChange,
  toConfigChange,
  toConfigKeys,
} from "./config-change.js";

const HOUR_MS = 3_600_000;
const base = {
  meta: { lastTouchedAt: "2026-12-01T00:00:00Z" },
  models: { providers: { openai: { apiKey: "sk-proj-abcdefghijklmnop", baseUrl: "https://a" } } },
  tools: { loopDetection: { enabled: false, warnAt: 5 } },
  agents: { list: [{ id: "main" }] },
};

describe("config keys and changes", () => {
  it("hashes keys to three levels, never stores a value, and ignores the host's own meta", () => {
    const keys = toConfigKeys(base);
    expect(keys.map((key) => key.path)).toEqual([
      "agents.list",
      "models.providers.openai",
      "tools.loopDetection.enabled",
      "tools.loopDetection.warnAt",
    ]);
    expect(JSON.stringify(keys)).not.toContain("sk-proj");
    expect(JSON.stringify(keys)).not.toContain("https://a");
    // key order does not matter
    const reordered = toConfigKeys({
      tools: { loopDetection: { warnAt: 5, enabled: false } },
      agents: { list: [{ id: "main" }] },
      models: { providers: { openai: { baseUrl: "https://a", apiKey: "sk-proj-abcdefghijklmnop" } } },
    });
    expect(reordered).toEqual(keys);
  });

  it("records the changed, added and removed keys between two starts, and nothing when equal", () => {
    const state = (ts: number, config: unknown) => ({
      id: "gw",
      gateway: "gw",
      ts,
      keys: toConfigKeys(config),
    });
    const first = state(1, base);
    expect(toConfigChange(undefined, first)).toBeUndefined();
    expect(toConfigChange(first, state(2, { ...base, meta: { lastTouchedAt: "later" } }))).toBeUndefined();
    const next = state(3, {
      ...base,
      models: { providers: { openai: { apiKey: "sk-proj-other", baseUrl: "https://a" } } },
      tools: { loopDetection: { enabled: true } },
      gateway: { port: 1 },
    });
    expect(toConfigChange(first, next)).toEqual({
      id: "gw:3",
      gateway: "gw",
      ts: 3,
      keys: [
        "gateway.port",
        "models.providers.openai",
        "tools.loopDetection.enabled",
        "tools.loopDetection.warnAt",
      ],
      changed: 4,
    });
  });

  it("finds the change an entry stopped after: its gateway, close to its last occurrence, none long after", () => {
    const change = (gateway: string, ts: number): ConfigChange => ({
      id: `${gateway}:${ts}`,
      gateway,
      ts,
      keys: ["tools.loopDetection.enabled"],
      changed: 1,
    });
    const entry = (firstSeen: number, lastSeen: number) => ({
      firstSeen,
      lastSeen,
      affected: { agents: [], channels: [], models: [], gateways: [{ name: "gw-1", count: 3 }] },
    });
    const changes = [change("gw-1", 10 * HOUR_MS), change("gw-2", 9.9 * HOUR_MS)];
    // stopped 20 minutes before the change: found
    expect(findStoppingChange(entry(0, 9.7 * HOUR_MS), changes, HOUR_MS)?.id).toBe(`gw-1:${10 * HOUR_MS}`);
    // another gateway's change does not explain it
    expect(
      findStoppingChange(entry(0, 9.7 * HOUR_MS), [changes[1] as ConfigChange], HOUR_MS),
    ).toBeUndefined();
    // stopped three hours before the change: not the change
    expect(findStoppingChange(entry(0, 7 * HOUR_MS), changes, HOUR_MS)).toBeUndefined();
    // went on for 30 minutes after the change: not stopped by it
    expect(findStoppingChange(entry(0, 10.5 * HOUR_MS), changes, HOUR_MS)).toBeUndefined();
    // one request in flight a minute after the change: still stopped by it
    expect(findStoppingChange(entry(0, 10 * HOUR_MS + 60_000), changes, HOUR_MS)).toBeDefined();
    // began after the change
    expect(findStoppingChange(entry(10.2 * HOUR_MS, 10.2 * HOUR_MS), changes, HOUR_MS)).toBeUndefined();
    expect(describeStoppingChange(change("gw-1", 0))).toBe(
      "Stopped after the config change at 1970-01-01T00:00:00.000Z on gw-1 (keys changed: tools.loopDetection.enabled). A candidate, not a confirmed fix: check that the change addressed it.",
    );
  });
});
