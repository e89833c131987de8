import { describe, expect, it } from "vitest";
import {
  classifyHttpResponse,
  parseRetryAfter,
  toHttpSendResult,
  toNetworkSendResult,
} from "./http-result.js";

describe("classifyHttpResponse", () => {
  it("maps each status family to its kind", () => {
    expect(classifyHttpResponse(200, {})).toEqual({ kind: "ok" });
    expect(classifyHttpResponse(204, {})).toEqual({ kind: "ok" });
    expect(classifyHttpResponse(500, {})).toEqual({
      kind: "retry",
      reason: "HTTP 500",
      failure: { status: 500 },
    });
    expect(classifyHttpResponse(502, {}).kind).toBe("retry");
    expect(classifyHttpResponse(408, {}).kind).toBe("retry");
    expect(classifyHttpResponse(429, {}).kind).toBe("retry");
    expect(classifyHttpResponse(413, {})).toEqual({
      kind: "too-large",
      reason: "HTTP 413",
      failure: { status: 413 },
    });
    expect(classifyHttpResponse(401, {})).toEqual({
      kind: "auth",
      reason: "HTTP 401",
      failure: { status: 401 },
    });
    expect(classifyHttpResponse(403, {}).kind).toBe("auth");
    expect(classifyHttpResponse(400, {})).toEqual({
      kind: "reject",
      reason: "HTTP 400",
      failure: { status: 400 },
    });
    expect(classifyHttpResponse(404, {}).kind).toBe("reject");
    expect(classifyHttpResponse(302, {}).kind).toBe("reject");
  });

  it("treats nonsense statuses as transient", () => {
    expect(classifyHttpResponse(0, {}).kind).toBe("retry");
    expect(classifyHttpResponse(Number.NaN, {}).kind).toBe("retry");
    expect(classifyHttpResponse(999, {}).kind).toBe("retry");
  });

  it("reads Retry-After from Headers and from a plain record, whatever the case", () => {
    expect(classifyHttpResponse(429, new Headers({ "Retry-After": "3" }))).toEqual({
      kind: "retry",
      reason: "HTTP 429",
      retryAfterMs: 3000,
      failure: { status: 429, retryAfterMs: 3000 },
    });
    expect(classifyHttpResponse(503, { "RETRY-AFTER": "1.5" })).toMatchObject({ retryAfterMs: 1500 });
    expect(classifyHttpResponse(500, { "retry-after": "garbage" })).toEqual({
      kind: "retry",
      reason: "HTTP 500",
      failure: { status: 500 },
    });
  });

  it("tolerates missing or odd headers", () => {
    expect(classifyHttpResponse(429, undefined as unknown as Record<string, string>).kind).toBe("retry");
    expect(classifyHttpResponse(429, { "retry-after": 5 as unknown as string }).kind).toBe("retry");
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");

  it("reads delay-seconds", () => {
    expect(parseRetryAfter("0", now)).toBe(0);
    expect(parseRetryAfter(" 120 ", now)).toBe(120_000);
  });

  it("reads an HTTP-date relative to now, never negative", () => {
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Wed, 31 Dec 2025 23:59:00 GMT", now)).toBe(0);
  });

  it("caps absurd values at one hour", () => {
    expect(parseRetryAfter("999999999", now)).toBe(3_600_000);
  });

  it("returns undefined for anything unreadable", () => {
    for (const value of [undefined, null, "", "-5", "soon", "1e3", "Foo, 99 Bar 2026"]) {
      expect(parseRetryAfter(value, now)).toBeUndefined();
    }
  });

  it("gives the backend's answer as fields as well as in the reason, one line, credentials cut out", () => {
    expect(toHttpSendResult("scores", 400, {}, "bad\nrequest at http://user:pw@host/x")).toEqual({
      kind: "reject",
      reason: "scores: HTTP 400 (bad request at http://host/x)",
      failure: { status: 400, bodyExcerpt: "bad request at http://host/x" },
    });
    expect(toHttpSendResult("scores", 204, {}, "")).toEqual({ kind: "ok" });
    const long = toHttpSendResult("scores", 503, { "retry-after": "2" }, "x".repeat(1000));
    expect(long).toMatchObject({
      kind: "retry",
      retryAfterMs: 2000,
      failure: { status: 503, retryAfterMs: 2000 },
    });
    expect((long.kind === "retry" && long.failure?.bodyExcerpt?.length) || 0).toBeLessThanOrEqual(200);
    expect(toNetworkSendResult("OTLP traces", "timed out after 5 ms")).toEqual({
      kind: "retry",
      reason: "OTLP traces: timed out after 5 ms",
      failure: { cause: "timed out after 5 ms" },
    });
  });
});
