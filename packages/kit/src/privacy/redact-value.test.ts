import { describe, expect, it } from "vitest";
import { redactBounded, redactValue } from "./redact-value.js";

describe("redactValue", () => {
  it("redacts strings and whole values under sensitive keys, without mutating the input", () => {
    const input = {
      user: { email: "jane@example.com", name: "Jane" },
      headers: { Authorization: "Basic abc", "content-type": "json" },
      apiKey: { nested: "anything" },
      password: 1234,
      accessToken: null,
      list: ["call +1 415 555 2671", 3, true],
    };
    expect(redactValue(input)).toEqual({
      user: { email: "[REDACTED:email]", name: "Jane" },
      headers: { Authorization: "[REDACTED:secret]", "content-type": "json" },
      apiKey: "[REDACTED:secret]",
      password: "[REDACTED:secret]",
      accessToken: null,
      list: ["call [REDACTED:phone]", 3, true],
    });
    expect(input.user.email).toBe("jane@example.com");
  });

  it("is cycle-safe but keeps repeated (non-cyclic) references", () => {
    const shared = { a: 1 };
    const looped: Record<string, unknown> = { shared, again: shared };
    looped.self = looped;
    expect(redactValue(looped)).toEqual({ shared: { a: 1 }, again: { a: 1 }, self: "[circular]" });
  });

  it("bounds depth, node count and string length", () => {
    let deep: Record<string, unknown> = { leaf: true };
    for (let level = 0; level < 20; level += 1) deep = { deep };
    expect(JSON.stringify(redactValue(deep, { maxDepth: 3 }))).toBe(
      '{"deep":{"deep":{"deep":"[truncated: depth]"}}}',
    );
    const wide = Array.from({ length: 10_000 }, (_, index) => index);
    const shown = redactValue(wide, { maxNodes: 10 }) as unknown[];
    expect(shown).toHaveLength(10);
    expect(shown.at(-1)).toBe("[9991 more items]");
    const text = redactValue("y".repeat(10_000), { maxStringChars: 100 }) as string;
    expect(text.length).toBe(100);
    expect(text).toContain("[truncated, 10000 chars]");
  });

  it("turns odd values into JSON-safe ones and survives hostile objects", () => {
    const hostile = Object.defineProperty({ ok: 1 }, "bad", {
      enumerable: true,
      get() {
        throw new Error("boom");
      },
    });
    const error = new Error("failed for bob@example.com");
    expect(
      redactValue({
        big: 10n,
        when: new Date(0),
        bytes: new Uint8Array(3),
        fn: () => 1,
        nan: Number.NaN,
        error,
        map: new Map([
          ["token", "t"],
          ["k", "v"],
        ]),
        set: new Set(["a"]),
        hostile,
      }),
    ).toEqual({
      big: "10",
      when: "1970-01-01T00:00:00.000Z",
      bytes: "[binary 3 bytes]",
      fn: "[function]",
      nan: "NaN",
      error: { name: "Error", message: "failed for [REDACTED:email]" },
      map: { token: "[REDACTED:secret]", k: "v" },
      set: ["a"],
      hostile: { ok: 1, bad: "[unreadable]" },
    });
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    expect(redactValue(revoked.proxy)).toBe("[unreadable]");
  });

  it("keeps __proto__ keys as data", () => {
    const result = redactValue(JSON.parse('{"__proto__": {"polluted": true}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("redactBounded", () => {
  it("redacts a secret that straddles the kept length before cutting", () => {
    const text = `${"a ".repeat(45)}sk-abcdefghijklmnopqrstuvwxyz123456 tail`;
    const result = redactBounded(text, 100);
    expect(result).not.toContain("sk-abc");
    expect(result.length).toBeLessThanOrEqual(100);
  });
});
