import { describe, expect, it } from "vitest";
import { toCapturedContent } from "./captured-content.js";
import { redactText } from "./redact.js";

describe("toCapturedContent", () => {
  it("redacts before truncating, so a cut never exposes half a secret", () => {
    const secret = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789";
    const text = `${"word ".repeat(10)}${secret} ${"more ".repeat(100)}`;
    const captured = toCapturedContent(text, { maxChars: 120 });
    expect(captured.length).toBeLessThanOrEqual(120);
    expect(captured).not.toMatch(/sk-ant/);
    expect(captured).toContain("[REDACTED:anthropic_key]");
    expect(captured).toContain("[truncated,");
    // a cut inside a marker drops the whole marker
    expect(toCapturedContent(text, { maxChars: 80 })).toBe(`${"word ".repeat(10)}…[truncated, 600 chars]`);
  });

  it("stringifies values with secrets under sensitive keys removed", () => {
    const captured = toCapturedContent(
      { query: "weather in Paris", auth: { token: "abc" }, to: "x@y.org" },
      { maxChars: 500 },
    );
    expect(JSON.parse(captured)).toEqual({
      query: "weather in Paris",
      auth: { token: "[REDACTED:secret]" },
      to: "[REDACTED:email]",
    });
  });

  it("never throws", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(toCapturedContent(cyclic, { maxChars: 100 })).toBe('{"self":"[circular]"}');
    expect(toCapturedContent(undefined, { maxChars: 100 })).toBe("");
    expect(toCapturedContent(Symbol("s"), { maxChars: 100 })).toBe('"Symbol(s)"');
    expect(toCapturedContent("abc", { maxChars: Number.NaN as number })).toBe("");
  });

  it("bounds its work by maxChars, not by the input", () => {
    const huge = {
      messages: Array.from({ length: 50_000 }, (_, index) => ({
        role: "user",
        content: `m${index} `.repeat(50),
      })),
    };
    const captured = toCapturedContent(huge, { maxChars: 2000 });
    expect(captured.length).toBeLessThanOrEqual(2000);
    expect(captured).toContain("[truncated,");
  });
});

const MEGABYTE = 1_048_576;
const adversarial: [string, string][] = [
  ["one long word", "a".repeat(MEGABYTE)],
  ["email-ish", "a.".repeat(MEGABYTE / 2)],
  ["at signs", "a@a.".repeat(MEGABYTE / 4)],
  ["digits and spaces", "1 ".repeat(MEGABYTE / 2)],
  ["digits and dashes", "4-".repeat(MEGABYTE / 2)],
  ["plus signs", "+1 (".repeat(MEGABYTE / 4)],
  ["jwt prefixes", "eyJ".repeat(MEGABYTE / 3)],
  ["jwt dots", "eyJaaaaa.".repeat(MEGABYTE / 9)],
  ["key prefixes", "sk-".repeat(MEGABYTE / 3)],
  ["bearer", "Bearer ".repeat(MEGABYTE / 7)],
  ["password=", "password=".repeat(MEGABYTE / 9)],
  ["quotes", 'token: "'.repeat(MEGABYTE / 8)],
  ["pem headers", "-----BEGIN RSA PRIVATE KEY-----".repeat(MEGABYTE / 31)],
  ["url credentials", "://a:".repeat(MEGABYTE / 5)],
  ["ip-ish", "1.".repeat(MEGABYTE / 2)],
  ["one email, endless domain", `a@${"a.".repeat(MEGABYTE / 2)}`],
  ["authorization headers", "authorization:".repeat(MEGABYTE / 14)],
  ["an unterminated key block", `-----BEGIN RSA PRIVATE KEY-----${"A".repeat(MEGABYTE)}`],
];

describe("linear-time redaction", () => {
  it.each(adversarial)("redacts 1 MB of %s within the 2 s bound", (_name, text) => {
    const started = performance.now();
    const result = redactText(text, { ipAddresses: true });
    const elapsed = performance.now() - started;
    expect(typeof result).toBe("string");
    // behaviour bound: a quadratic pattern takes minutes on 1 MB; linear ones take milliseconds
    expect(elapsed).toBeLessThan(2000);
  });
});
