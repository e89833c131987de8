import { describe, expect, it } from "vitest";
import {
  FINGERPRINT_VERSION,
  type GroupingAlgorithm,
  toFingerprint,
  toGroupingFingerprint,
} from "./fingerprint.js";

const signal = (message: string) => ({
  kind: "tool_error" as const,
  tool: "read",
  message,
});

describe("versioned grouping", () => {
  // version 1 grouped every failure of a tool together; version 2 tells the messages apart
  const algorithms: Record<number, GroupingAlgorithm> = {
    1: (input) => [input.kind, input.tool],
    2: (input, message) => [input.kind, input.tool, message],
  };
  const enoent = signal("ENOENT: no such file or directory, open '/srv/a.md'");
  const denied = signal("EACCES: permission denied, open '/srv/b.md'");

  it("keeps feeding an entry an older version made, and gives new failures the new grouping", () => {
    const old = toFingerprint(enoent, [], 1, algorithms);
    const entries = new Set([old.hash]);
    const kept = toGroupingFingerprint(enoent, [], (hash) => entries.has(hash), algorithms);
    expect(kept).toMatchObject({ hash: old.hash, version: 1 });
    // the old grouping matched this one too: it keeps going where version 1 put it
    expect(toGroupingFingerprint(denied, [], (hash) => entries.has(hash), algorithms).version).toBe(1);
    // with nothing stored, the newest version
    const fresh = toGroupingFingerprint(enoent, [], () => false, algorithms);
    expect(fresh.version).toBe(2);
    expect(fresh.hash).not.toBe(old.hash);
    // once an entry under the new version exists, it wins over the old one
    entries.add(fresh.hash);
    expect(toGroupingFingerprint(enoent, [], (hash) => entries.has(hash), algorithms).hash).toBe(fresh.hash);
  });

  it("hashes the version with the parts: the same parts under two versions are two fingerprints", () => {
    const same: Record<number, GroupingAlgorithm> = {
      1: (input) => [input.kind],
      2: (input) => [input.kind],
    };
    expect(toFingerprint(enoent, [], 1, same).hash).not.toBe(toFingerprint(enoent, [], 2, same).hash);
    expect(toGroupingFingerprint(enoent, [], () => false).version).toBe(FINGERPRINT_VERSION);
  });
});
