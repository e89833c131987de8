import { describe, expect, it } from "vitest";
import { cutAtSafeBoundary, truncate, truncationMarker } from "./truncate.js";

describe("truncate", () => {
  it("keeps short text and cuts long text to maxChars, marker included", () => {
    expect(truncate("hello", 10)).toBe("hello");
    const long = "x".repeat(500);
    const cut = truncate(long, 100);
    expect(cut.length).toBe(100);
    expect(cut.endsWith(truncationMarker(500))).toBe(true);
    expect(cut).toBe(`${"x".repeat(100 - truncationMarker(500).length)}…[truncated, 500 chars]`);
  });

  it("reports an earlier cut and the original length", () => {
    expect(truncate("abc", 100, { originalLength: 9000, alreadyCut: true })).toBe(
      "abc…[truncated, 9000 chars]",
    );
  });

  it("cuts without a marker when the limit is smaller than the marker", () => {
    expect(truncate("abcdefghijklmnopqrstuvwxyz", 5)).toBe("abcde");
    expect(truncate("abc", -1)).toBe("");
    expect(truncate("abc", Number.NaN)).toBe("");
  });

  it("never splits a surrogate pair", () => {
    const text = `${"a".repeat(4)}😀${"b".repeat(100)}`;
    const cut = truncate(text, 5 + truncationMarker(text.length).length);
    expect(cut.startsWith("aaaa…")).toBe(true);
    expect(cut).not.toContain("\ud83d…");
  });

  it("never cuts a redaction marker in half", () => {
    const text = `abc [REDACTED:email] ${"z".repeat(100)}`;
    expect(truncate(text, 10 + truncationMarker(text.length).length)).toBe(
      `abc …[truncated, ${text.length} chars]`,
    );
  });

  it("returns an empty string for non-strings", () => {
    expect(truncate(null as unknown as string, 10)).toBe("");
  });
});

describe("cutAtSafeBoundary", () => {
  it("cuts at the last whitespace before the limit so tokens are not split", () => {
    expect(cutAtSafeBoundary("aaa bbb sk-abcdefgh", 12)).toBe("aaa bbb");
    expect(cutAtSafeBoundary("short", 12)).toBe("short");
    expect(cutAtSafeBoundary("x".repeat(50), 10, 5)).toBe("x".repeat(10));
  });
});
