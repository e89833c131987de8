import { describe, expect, it } from "vitest";
import { toLogText } from "./log-text.js";
import { hasUrlCredentials, maskUrlCredentials } from "./url-credentials.js";

describe("toLogText", () => {
  it("makes a backend's raw answer one printable line: NUL, escapes and newlines escaped or folded", () => {
    const raw = "bad\u0000gateway\u001b[31m red\r\nnext\tline\u2028end\u0007";
    expect(toLogText(raw)).toBe("bad\\u0000gateway\\u001b[31m red next line\\u2028end\\u0007");
  });

  it("is bounded and masks URL passwords", () => {
    expect(toLogText("x".repeat(5000), 100)).toHaveLength(100);
    expect(toLogText("POST https://bob:s3cret@host/v1 failed")).toBe("POST https://bob:***@host/v1 failed");
  });
});

describe("URL credentials", () => {
  it("are found and masked, a lone token too", () => {
    expect(hasUrlCredentials("https://user:pass@host")).toBe(true);
    expect(hasUrlCredentials("https://host/a@b")).toBe(false);
    expect(maskUrlCredentials("https://token@host and http://a:b@c")).toBe(
      "https://***@host and http://a:***@c",
    );
    expect(maskUrlCredentials("mail me: a@b.c")).toBe("mail me: a@b.c");
  });
});
