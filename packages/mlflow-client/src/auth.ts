/**
 * Credentials the way MLflow's own clients read them: HTTP Basic from
 * `MLFLOW_TRACKING_USERNAME`/`MLFLOW_TRACKING_PASSWORD`, else a Bearer `MLFLOW_TRACKING_TOKEN`.
 */

/** How requests authenticate. */
export type MlflowAuth =
  | { kind: "none" }
  | { kind: "bearer"; token: string }
  | { kind: "basic"; username: string; password: string };

/** Where {@link resolveMlflowAuth} found the credentials. */
export type MlflowAuthSource = "options" | "tracking-uri" | "env" | "none";

/** Inputs of {@link resolveMlflowAuth}; explicit options win over the environment. */
export interface MlflowAuthOptions {
  token?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  /** `user:password@` in a tracking URI counts as Basic credentials (fetch refuses such URLs). */
  uriUsername?: string | undefined;
  uriPassword?: string | undefined;
}

/** What {@link resolveMlflowAuth} decided; `warnings` never contain secret values. */
export interface ResolvedMlflowAuth {
  auth: MlflowAuth;
  source: MlflowAuthSource;
  warnings: string[];
}

type Env = Record<string, string | undefined>;

/**
 * Resolves credentials. Precedence: options → credentials in the tracking URI → environment.
 * Within one source, username + password (Basic) win over a token (Bearer), as in MLflow's
 * Python client. A username without a password (or the reverse) is ignored with a warning.
 */
export function resolveMlflowAuth(
  options: MlflowAuthOptions = {},
  env: Env = process.env,
): ResolvedMlflowAuth {
  const warnings: string[] = [];
  const sources: [MlflowAuthSource, string | undefined, string | undefined, string | undefined][] = [
    ["options", text(options.username), text(options.password, false), text(options.token)],
    ["tracking-uri", text(options.uriUsername), text(options.uriPassword, false), undefined],
    [
      "env",
      text(env.MLFLOW_TRACKING_USERNAME),
      text(env.MLFLOW_TRACKING_PASSWORD, false),
      text(env.MLFLOW_TRACKING_TOKEN),
    ],
  ];
  for (const [source, username, password, token] of sources) {
    if (username !== undefined && password !== undefined) {
      if (username.includes(":")) {
        warnings.push(`MLflow ${source} username contains ':', which HTTP Basic cannot carry; ignored`);
      } else {
        return { auth: { kind: "basic", username, password }, source, warnings };
      }
    } else if (username !== undefined || password !== undefined) {
      const missing = username === undefined ? "username" : "password";
      warnings.push(`MLflow ${source} credentials have no ${missing}; Basic auth ignored`);
    }
    if (token !== undefined) return { auth: { kind: "bearer", token }, source, warnings };
  }
  return { auth: { kind: "none" }, source: "none", warnings };
}

/** The `Authorization` header value for `auth`, or undefined for none. */
export function toAuthorizationHeader(auth: MlflowAuth): string | undefined {
  switch (auth.kind) {
    case "bearer":
      return `Bearer ${auth.token}`;
    case "basic":
      return `Basic ${Buffer.from(`${auth.username}:${auth.password}`, "utf8").toString("base64")}`;
    default:
      return undefined;
  }
}

/** A non-empty string or undefined; tokens and names are trimmed (a stray newline from a file). */
function text(value: unknown, trim = true): string | undefined {
  if (typeof value !== "string") return undefined;
  const result = trim ? value.trim() : value;
  return result === "" ? undefined : result;
}
