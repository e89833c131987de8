/**
 * One HTTP exchange with the MLflow server: URL, auth header, timeout, and the translation of
 * every failure (no answer, error status, non-JSON body) into an {@link MlflowError}.
 */
import { MAX_ERROR_BODY_CHARS, MlflowError } from "./mlflow-error.js";

/** The `fetch` signature the client needs; tests pass a stub. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Settings shared by every request of one client. */
export interface MlflowTransportOptions {
  baseUrl: string;
  /** Full `Authorization` header value; never logged or put into errors. */
  authorization?: string | undefined;
  timeoutMs: number;
  fetchImpl: FetchLike;
}

/** One REST call under `{baseUrl}/api/2.0/mlflow/`. */
export interface MlflowRequest {
  method: "GET" | "POST";
  /** Path below `/api/2.0/mlflow/`, e.g. `runs/log-batch`. */
  endpoint: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  signal?: AbortSignal | undefined;
}

/** A JSON object as parsed from a response. */
export type JsonObject = Record<string, unknown>;

/** Sends requests; one per client. */
export interface MlflowTransport {
  /** Sends a REST call and returns the parsed JSON object (`{}` for an empty body). */
  request(request: MlflowRequest): Promise<JsonObject>;
  /** Fetches a path at the server root (e.g. `/health`) and returns status and text. */
  fetchText(path: string, signal?: AbortSignal): Promise<{ status: number; text: string }>;
}

/** Builds the transport. */
export function createMlflowTransport(options: MlflowTransportOptions): MlflowTransport {
  const headersFor = (hasBody: boolean): Record<string, string> => {
    const headers: Record<string, string> = { accept: "application/json" };
    if (hasBody) headers["content-type"] = "application/json";
    if (options.authorization) headers.authorization = options.authorization;
    return headers;
  };

  async function exchange(
    url: string,
    init: RequestInit,
    endpoint: string,
    callerSignal: AbortSignal | undefined,
  ): Promise<{ response: Response; text: string }> {
    const timeoutSignal = AbortSignal.timeout(options.timeoutMs);
    const signal = callerSignal ? AbortSignal.any([timeoutSignal, callerSignal]) : timeoutSignal;
    try {
      const response = await options.fetchImpl(url, { ...init, signal });
      // the body is read under the same deadline: a server that stalls mid-body times out too
      const text = await response.text();
      return { response, text };
    } catch (error) {
      throw toTransportError(error, endpoint, options.timeoutMs, timeoutSignal, callerSignal);
    }
  }

  return {
    async request(request) {
      const url = new URL(`${options.baseUrl}/api/2.0/mlflow/${request.endpoint}`);
      for (const [name, value] of Object.entries(request.query ?? {})) {
        if (value !== undefined) url.searchParams.set(name, String(value));
      }
      const hasBody = request.method === "POST";
      const { response, text } = await exchange(
        url.toString(),
        {
          method: request.method,
          headers: headersFor(hasBody),
          ...(hasBody ? { body: JSON.stringify(request.body ?? {}) } : {}),
        },
        request.endpoint,
        request.signal,
      );
      if (!response.ok) throw toHttpError(response, text, request.endpoint);
      return parseJsonObject(response.status, text, request.endpoint);
    },
    async fetchText(path, signal) {
      const { response, text } = await exchange(
        `${options.baseUrl}${path}`,
        { method: "GET", headers: headersFor(false) },
        path,
        signal,
      );
      return { status: response.status, text };
    },
  };
}

function toTransportError(
  error: unknown,
  endpoint: string,
  timeoutMs: number,
  timeoutSignal: AbortSignal,
  callerSignal: AbortSignal | undefined,
): MlflowError {
  if (error instanceof MlflowError) return error;
  if (timeoutSignal.aborted) {
    return new MlflowError({
      kind: "timeout",
      status: 0,
      errorCode: "TIMEOUT",
      message: `no complete answer within ${timeoutMs} ms`,
      endpoint,
      cause: error,
    });
  }
  if (callerSignal?.aborted) {
    return new MlflowError({
      kind: "aborted",
      status: 0,
      errorCode: "ABORTED",
      message: "request aborted by the caller",
      endpoint,
      cause: error,
    });
  }
  return new MlflowError({
    kind: "network",
    status: 0,
    errorCode: "NETWORK_ERROR",
    message: describeNetworkError(error),
    endpoint,
    cause: error,
  });
}

/** `fetch failed` alone says nothing: show the cause's code and message (ECONNREFUSED 127.0.0.1:5000). */
function describeNetworkError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 3 && current instanceof Error; depth += 1) {
    const code = (current as { code?: unknown }).code;
    parts.push(
      typeof code === "string" && !current.message.includes(code)
        ? `${code} ${current.message}`
        : current.message,
    );
    current = current.cause;
  }
  return parts.length > 0 ? parts.join(": ").slice(0, 300) : `network error: ${String(error).slice(0, 200)}`;
}

function toHttpError(response: Response, text: string, endpoint: string): MlflowError {
  let errorCode = `HTTP_${response.status}`;
  let message = snippet(text) || response.statusText || "no body";
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === "object") {
      const body = parsed as { error_code?: unknown; message?: unknown };
      if (typeof body.error_code === "string" && body.error_code !== "") errorCode = body.error_code;
      if (typeof body.message === "string" && body.message !== "") message = body.message.slice(0, 2000);
    }
  } catch {
    // not JSON (a proxy's or the auth app's plain-text page): the snippet above stands
  }
  const retryAfterMs = parseRetryAfterHeader(response.headers.get("retry-after"));
  return new MlflowError({
    kind: "http",
    status: response.status,
    errorCode,
    message,
    endpoint,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

function parseJsonObject(status: number, text: string, endpoint: string): JsonObject {
  if (text.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new MlflowError({
      kind: "invalid-response",
      status,
      errorCode: "INVALID_RESPONSE",
      message: `answer is not JSON (is the tracking URI the MLflow server root?): ${snippet(text)}`,
      endpoint,
    });
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new MlflowError({
      kind: "invalid-response",
      status,
      errorCode: "INVALID_RESPONSE",
      message: `answer is JSON but not an object: ${snippet(text)}`,
      endpoint,
    });
  }
  return parsed as JsonObject;
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > MAX_ERROR_BODY_CHARS ? `${flat.slice(0, MAX_ERROR_BODY_CHARS)}…` : flat;
}

/** Longest `Retry-After` honoured (one hour), as in the kit's pipeline. */
const MAX_RETRY_AFTER_MS = 3_600_000;

/** `Retry-After` as delay-seconds or an HTTP-date → milliseconds (capped), else undefined. */
export function parseRetryAfterHeader(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.min(Math.round(Number(text) * 1000), MAX_RETRY_AFTER_MS);
  if (!/[a-z]{3}/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS);
}
