import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createIdHasher } from "./hash-ids.js";

describe("createIdHasher", () => {
  it("hashes with HMAC-SHA256, 32 lowercase hex chars, stable for a key", () => {
    const hasher = createIdHasher({ key: "deployment-key-1" });
    const expected = createHmac("sha256", "deployment-key-1")
      .update("agent:main:alice")
      .digest("hex")
      .slice(0, 32);
    expect(hasher.hash("agent:main:alice")).toBe(expected);
    expect(hasher.hash("agent:main:alice")).toMatch(/^[0-9a-f]{32}$/);
    expect(createIdHasher({ key: "deployment-key-1" }).hash("agent:main:alice")).toBe(expected);
  });

  it("gives different hashes for different keys and ids", () => {
    const one = createIdHasher({ key: "key-one-xxxxxxxx" });
    const two = createIdHasher({ key: "key-two-xxxxxxxx" });
    expect(one.hash("s1")).not.toBe(two.hash("s1"));
    expect(one.hash("s1")).not.toBe(one.hash("s2"));
  });

  it("passes ids through when raw, and needs no key then", () => {
    expect(createIdHasher({ key: "", raw: true }).hash("agent:main:alice")).toBe("agent:main:alice");
  });

  it("honours hexChars within 16..64 and tolerates non-string ids", () => {
    expect(createIdHasher({ key: "k", hexChars: 64 }).hash("x")).toHaveLength(64);
    expect(createIdHasher({ key: "k", hexChars: 4 }).hash("x")).toHaveLength(16);
    expect(createIdHasher({ key: "k" }).hash(42 as unknown as string)).toBe(
      createIdHasher({ key: "k" }).hash("42"),
    );
  });

  it("refuses an empty key unless raw", () => {
    expect(() => createIdHasher({ key: "" })).toThrow(TypeError);
  });
});
