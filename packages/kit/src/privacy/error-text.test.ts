import { describe, expect, it } from "vitest";
import { MAX_ERROR_TEXT_CHARS, toErrorText } from "./error-text.js";

describe("toErrorText", () => {
  it("keeps a provider's reason on one line, with secrets redacted", () => {
    expect(toErrorText("400 bad request:\n  key sk-proj-abcdefghijklmnopqrstuvwx is invalid")).toBe(
      "400 bad request: key [REDACTED:openai_key] is invalid",
    );
  });

  it("redacts before it cuts, so a secret at the edge never leaves half-shown", () => {
    const text = `${"x".repeat(MAX_ERROR_TEXT_CHARS - 10)} sk-proj-abcdefghijklmnopqrstuvwx`;
    const line = toErrorText(text) ?? "";
    expect(line.length).toBeLessThanOrEqual(MAX_ERROR_TEXT_CHARS);
    expect(line).not.toContain("sk-proj-abc");
  });

  it("gives nothing for non-strings and blank text", () => {
    for (const value of [undefined, null, 42, {}, "", "  \n "]) expect(toErrorText(value)).toBeUndefined();
  });
});
