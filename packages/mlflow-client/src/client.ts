/** The client factory: one transport (URL, auth, timeout) shared by the experiment, run and metric calls. */
import { type MlflowAuth, resolveMlflowAuth, toAuthorizationHeader } from "./auth.js";
import { createExperimentsApi, type MlflowCallOptions, type MlflowExperimentsApi } from "./experiments.js";
import { createMlflowTransport, type FetchLike } from "./http-transport.js";
import { MLFLOW_LIMITS, type MlflowLimits } from "./limits.js";
import { createMetricsApi, type MlflowMetricsApi } from "./metrics.js";
import { MlflowError } from "./mlflow-error.js";
import { createRunsApi, type MlflowRunsApi } from "./runs.js";
import { parseTrackingUri } from "./tracking-uri.js";

/** Options of {@link createMlflowClient}. */
export interface MlflowClientOptions {
  /** `http(s)://host:port[/prefix]`; default `MLFLOW_TRACKING_URI` from `env`. */
  trackingUri?: string | undefined;
  /** Bearer token; default `MLFLOW_TRACKING_TOKEN`. */
  token?: string | undefined;
  /** Basic auth user; default `MLFLOW_TRACKING_USERNAME`. */
  username?: string | undefined;
  /** Basic auth password; default `MLFLOW_TRACKING_PASSWORD`. */
  password?: string | undefined;
  /** Deadline of one HTTP exchange, body included (default 30000 ms). */
  timeoutMs?: number | undefined;
  /** Default: the global `fetch`. */
  fetchImpl?: FetchLike | undefined;
  /** Where `MLFLOW_*` variables are read (default `process.env`). */
  env?: Record<string, string | undefined> | undefined;
  /** Per-request limits of log-batch, for servers configured otherwise (default {@link MLFLOW_LIMITS}). */
  limits?: Partial<MlflowLimits> | undefined;
}

/** A typed client for the MLflow REST calls clawscope uses. Holds no state besides its settings. */
export interface MlflowClient {
  /** The tracking URI without credentials: safe to log. */
  readonly trackingUri: string;
  /** How requests authenticate (the secret itself is not exposed). */
  readonly authKind: MlflowAuth["kind"];
  /** Problems found while reading the options (no secret values). */
  readonly warnings: readonly string[];
  readonly experiments: MlflowExperimentsApi;
  readonly runs: MlflowRunsApi;
  readonly metrics: MlflowMetricsApi;
  /** True when `GET {trackingUri}/health` answers 200 "OK"; false on any failure. Never throws. */
  checkHealth(options?: MlflowCallOptions): Promise<boolean>;
}

/** Default deadline of one HTTP exchange. */
export const DEFAULT_MLFLOW_TIMEOUT_MS = 30_000;

/**
 * Creates a client. Throws an `invalid-argument` {@link MlflowError} when the tracking URI is
 * missing or not http(s); everything else fails per call, as typed MlflowErrors.
 */
export function createMlflowClient(options: MlflowClientOptions = {}): MlflowClient {
  const env = options.env ?? process.env;
  const parsed = parseTrackingUri(options.trackingUri ?? env.MLFLOW_TRACKING_URI);
  const { auth, warnings } = resolveMlflowAuth(
    {
      token: options.token,
      username: options.username,
      password: options.password,
      uriUsername: parsed.username,
      uriPassword: parsed.password,
    },
    env,
  );
  const timeoutMs =
    typeof options.timeoutMs === "number" && Number.isFinite(options.timeoutMs) && options.timeoutMs > 0
      ? Math.floor(options.timeoutMs)
      : DEFAULT_MLFLOW_TIMEOUT_MS;
  const fetchImpl =
    options.fetchImpl ?? ((input: string, init: RequestInit) => globalThis.fetch(input, init));
  if (typeof fetchImpl !== "function") {
    throw new MlflowError({
      kind: "invalid-argument",
      status: 0,
      errorCode: "NO_FETCH",
      message: "no fetch implementation: pass fetchImpl or run on Node 18+",
    });
  }
  const limits: MlflowLimits = { ...MLFLOW_LIMITS, ...pickNumbers(options.limits) };
  const transport = createMlflowTransport({
    baseUrl: parsed.baseUrl,
    authorization: toAuthorizationHeader(auth),
    timeoutMs,
    fetchImpl,
  });

  return {
    trackingUri: parsed.baseUrl,
    authKind: auth.kind,
    warnings,
    experiments: createExperimentsApi(transport),
    runs: createRunsApi(transport, limits),
    metrics: createMetricsApi(transport),
    async checkHealth(callOptions = {}) {
      try {
        const { status, text } = await transport.fetchText("/health", callOptions.signal);
        return status === 200 && text.trim() === "OK";
      } catch {
        return false;
      }
    },
  };
}

/** Only positive finite numbers override a default limit. */
function pickNumbers(limits: Partial<MlflowLimits> | undefined): Partial<MlflowLimits> {
  const picked: Partial<MlflowLimits> = {};
  for (const [name, value] of Object.entries(limits ?? {})) {
    if (name in MLFLOW_LIMITS && typeof value === "number" && Number.isFinite(value) && value > 0) {
      picked[name as keyof MlflowLimits] = Math.floor(value);
    }
  }
  return picked;
}
