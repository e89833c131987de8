import { describe, expect, it } from "vitest";
import { findErrorBody, normalizeErrorMessage, toGroupingKey } from "./error-message.js";

describe("normalizeErrorMessage", () => {
  it("replaces ids, numbers, durations, times, addresses and paths, keeping the words", () => {
    const first = normalizeErrorMessage(
      "429 Rate limit reached for gpt-4o in organization org-AbC123dEf456GhI789jKl012 on tokens per min (TPM): Limit 30000, Used 29500, Requested 1200. Please try again in 1.8s. Visit https://platform.openai.com/account/rate-limits to learn more.",
    );
    const second = normalizeErrorMessage(
      "429 Rate limit reached for gpt-4o in organization org-Zyx987Wvu654Tsr321Qpo098 on tokens per min (TPM): Limit 90000, Used 88000, Requested 4100. Please try again in 850ms. Visit https://platform.openai.com/account/rate-limits?x=1 to learn more.",
    );
    expect(first).toBe(second);
    expect(first).toContain("tokens per min (TPM)");
    expect(first).toContain("<url openai.com>");
    expect(first.startsWith("429 ")).toBe(true);
    expect(
      normalizeErrorMessage(
        "upstream 10.0.3.7:8443 failed at 2026-12-05T08:31:16.123Z after 3 tries, trace 3f9a0c1e77b24d10 in /var/lib/app/run/x.log",
      ),
    ).toBe("upstream <ip> failed at <time> after <n> tries, trace <hex> in <path>");
  });

  it("replaces bare IPv6 addresses, dates with a month's name and Kubernetes pod suffixes", () => {
    expect(normalizeErrorMessage("connect ECONNREFUSED fe80::1ff:fe23:4567:890a port 8080")).toBe(
      "connect ECONNREFUSED <ip> port <n>",
    );
    expect(normalizeErrorMessage("connect ECONNREFUSED 2001:db8:85a3:0:0:8a2e:370:7334")).toBe(
      "connect ECONNREFUSED <ip>",
    );
    expect(normalizeErrorMessage("certificate expired on Dec 5, 2026 10:14 AM")).toBe(
      normalizeErrorMessage("certificate expired on March 21st, 2027"),
    );
    expect(normalizeErrorMessage("Retry-After: Sat, 05 Dec 2026 10:14:03 GMT")).toBe("Retry-After: <time>");
    expect(normalizeErrorMessage("Timed out waiting for pod gateway-7d9f8b6c5-x2x4z")).toBe(
      normalizeErrorMessage("Timed out waiting for pod gateway-5c6bd7f8b9-abcde"),
    );
    // a URL ends at a closing backtick
    expect(
      normalizeErrorMessage("command `curl -s https://api.internal/v2/items/88412` exited with code 7"),
    ).toBe("command `curl -s <url api.internal>` exited with code 7");
    // names that only look alike stay
    expect(normalizeErrorMessage("std::vector::at out of range")).toBe("std::vector::at out of range");
    expect(normalizeErrorMessage("model claude-3-5-sonnet-20241022 is overloaded")).toBe(
      "model claude-<n>-sonnet-<n> is overloaded",
    );
  });

  it("keeps the numbers that name a cause: HTTP statuses and exit codes", () => {
    expect(normalizeErrorMessage("Request failed with status code 404")).toBe(
      "Request failed with status code 404",
    );
    expect(normalizeErrorMessage("Request failed with status code 500")).not.toBe(
      normalizeErrorMessage("Request failed with status code 404"),
    );
    expect(normalizeErrorMessage("Command failed with exit code 127")).toBe(
      "Command failed with exit code 127",
    );
    expect(normalizeErrorMessage("HTTP 503 from collector")).toBe("HTTP 503 from collector");
  });

  it("reads a provider's JSON error body instead of blanking it", () => {
    const anthropic = normalizeErrorMessage(
      '529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}',
    );
    expect(anthropic).toBe("529 [type=overloaded_error] Overloaded");
    const google = normalizeErrorMessage(
      '{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"reason":"API_KEY_INVALID"}]}}',
    );
    expect(google).toBe(
      "[code=400 status=INVALID_ARGUMENT reason=API_KEY_INVALID] API key not valid. Please pass a valid API key.",
    );
    // a Python SDK's repr of the same body
    expect(
      normalizeErrorMessage(
        "Error code: 529 - {'type': 'error', 'error': {'type': 'overloaded_error', 'message': 'Overloaded'}, 'request_id': None}",
      ),
    ).toBe("Error code: 529 - [type=overloaded_error] Overloaded");
    // a message that is itself a JSON body (a proxy wrapping the upstream's answer)
    expect(
      normalizeErrorMessage(
        '{"error":{"code":502,"message":"{\\"error\\":{\\"message\\":\\"upstream timed out\\",\\"type\\":\\"timeout\\"}}"}}',
      ),
    ).toBe("[code=502] [type=timeout] upstream timed out");
  });

  it("keeps different causes apart even when only one word differs", () => {
    const enoent = normalizeErrorMessage("ENOENT: no such file or directory, open '/srv/a/b.txt'");
    const eacces = normalizeErrorMessage("EACCES: permission denied, open '/srv/a/b.txt'");
    expect(enoent).not.toBe(eacces);
    expect(
      normalizeErrorMessage("ThrottlingException: Too many requests, please wait before trying again."),
    ).not.toBe(
      normalizeErrorMessage("ThrottlingException: Too many tokens, please wait before trying again."),
    );
  });

  it("drops generic wrappers: an `Error:` prefix, the request metadata AWS SDKs append", () => {
    expect(normalizeErrorMessage("Error: ENOENT: no such file or directory, open '/a/b/c'")).toBe(
      normalizeErrorMessage("ENOENT: no such file or directory, open '/x/y/z'"),
    );
    expect(
      normalizeErrorMessage(
        "ThrottlingException: Too many requests, please wait before trying again. (Service: BedrockRuntime, Status Code: 429, Request ID: 1b2c3d4e-0000-4000-8000-123456789abc)",
      ),
    ).toBe("ThrottlingException: Too many requests, please wait before trying again.");
  });

  it("redacts secrets before anything is kept", () => {
    const text = normalizeErrorMessage(
      "401 Incorrect API key provided: sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD. Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl",
    );
    expect(text).not.toContain("sk-proj-abc");
    expect(text).not.toContain("eyJhbGci");
    expect(text).toContain("[REDACTED:");
  });

  it("is bounded and never throws on odd input", () => {
    expect(normalizeErrorMessage(undefined)).toBe("");
    expect(normalizeErrorMessage("   ")).toBe("");
    expect(normalizeErrorMessage(42)).toBe("");
    expect(normalizeErrorMessage('{"error": {"message": "unterminated')).toContain("unterminated");
    const huge = normalizeErrorMessage(`boom ${"x1 ".repeat(500_000)}`);
    expect(huge.length).toBeLessThanOrEqual(300);
    const started = performance.now();
    normalizeErrorMessage(`${"{".repeat(5_000)}${"a".repeat(5_000)}`);
    normalizeErrorMessage(`${"1.".repeat(4_000)}`);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe("findErrorBody", () => {
  it("finds nothing in plain text or in a JSON object without error fields", () => {
    expect(findErrorBody("plain words")).toBeUndefined();
    expect(findErrorBody('result {"ok":true}')).toBeUndefined();
  });
});

describe("toGroupingKey", () => {
  it("ignores case and punctuation runs, not words", () => {
    expect(toGroupingKey("Connection error.")).toBe(toGroupingKey("connection error"));
    expect(toGroupingKey("Connection error.")).not.toBe(toGroupingKey("Connection refused."));
  });
});
