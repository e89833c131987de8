import { describe, expect, it } from "vitest";
import { toConfigHash } from "./config-hash.js";

describe("toConfigHash", () => {
  it("changes with a setting, not with key order, and never with a secret", () => {
    const base = {
      store: { kind: "mongodb", uri: "mongodb://app:hunter2@db:27017/" },
      recomputeHours: 3,
      hashKey: "k1",
    };
    const reordered = {
      hashKey: "k1",
      recomputeHours: 3,
      store: { uri: "mongodb://app:hunter2@db:27017/", kind: "mongodb" },
    };
    expect(toConfigHash(reordered)).toBe(toConfigHash(base));
    expect(toConfigHash({ ...base, recomputeHours: 4 })).not.toBe(toConfigHash(base));
    expect(toConfigHash({ ...base, hashKey: "another key" })).toBe(toConfigHash(base));
    expect(toConfigHash({ ...base, store: { ...base.store, uri: "mongodb://app:other@db:27017/" } })).toBe(
      toConfigHash(base),
    );
    expect(
      toConfigHash({ ...base, store: { ...base.store, uri: "mongodb://app:hunter2@db2:27017/" } }),
    ).not.toBe(toConfigHash(base));
  });
});
