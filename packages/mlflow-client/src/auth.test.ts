import { describe, expect, it } from "vitest";
import { resolveMlflowAuth, toAuthorizationHeader } from "./auth.js";

describe("resolveMlflowAuth", () => {
  it("reads Basic credentials from the environment before a token, as MLflow's client does", () => {
    const resolved = resolveMlflowAuth(
      {},
      { MLFLOW_TRACKING_USERNAME: "ann", MLFLOW_TRACKING_PASSWORD: "s3cret", MLFLOW_TRACKING_TOKEN: "tok" },
    );
    expect(resolved).toEqual({
      auth: { kind: "basic", username: "ann", password: "s3cret" },
      source: "env",
      warnings: [],
    });
  });

  it("uses a token when no username and password are set", () => {
    const resolved = resolveMlflowAuth({}, { MLFLOW_TRACKING_TOKEN: " tok\n" });
    expect(resolved.auth).toEqual({ kind: "bearer", token: "tok" });
  });

  it("lets explicit options win over the tracking URI and the environment", () => {
    const env = { MLFLOW_TRACKING_USERNAME: "env-user", MLFLOW_TRACKING_PASSWORD: "env-pass" };
    expect(resolveMlflowAuth({ token: "opt" }, env)).toMatchObject({
      auth: { kind: "bearer" },
      source: "options",
    });
    expect(resolveMlflowAuth({ uriUsername: "u", uriPassword: "p" }, env)).toMatchObject({
      auth: { kind: "basic", username: "u" },
      source: "tracking-uri",
    });
  });

  it("ignores half of a Basic pair with a warning that names no secret", () => {
    const resolved = resolveMlflowAuth({}, { MLFLOW_TRACKING_PASSWORD: "only-the-password" });
    expect(resolved.auth).toEqual({ kind: "none" });
    expect(resolved.warnings).toEqual(["MLflow env credentials have no username; Basic auth ignored"]);
    expect(resolved.warnings.join(" ")).not.toContain("only-the-password");
  });

  it("has no auth when nothing is set, and empty strings count as unset", () => {
    expect(resolveMlflowAuth({ token: "" }, { MLFLOW_TRACKING_TOKEN: "" })).toEqual({
      auth: { kind: "none" },
      source: "none",
      warnings: [],
    });
  });
});

describe("toAuthorizationHeader", () => {
  it("encodes Basic as UTF-8 base64 and Bearer as is", () => {
    expect(toAuthorizationHeader({ kind: "basic", username: "admin", password: "pässword" })).toBe(
      `Basic ${Buffer.from("admin:pässword", "utf8").toString("base64")}`,
    );
    expect(toAuthorizationHeader({ kind: "bearer", token: "abc" })).toBe("Bearer abc");
    expect(toAuthorizationHeader({ kind: "none" })).toBeUndefined();
  });
});
