/**
 * A `fetch` stand-in for unit tests: records every request and answers from a handler, so tests
 * assert on what went over the wire without a server.
 */
import type { FetchLike } from "../http-transport.js";

/** One recorded request. */
export interface RecordedRequest {
  method: string;
  url: URL;
  /** Path below `/api/2.0/mlflow/`, or the full path for other URLs. */
  endpoint: string;
  headers: Record<string, string>;
  /** Parsed JSON body (undefined for GET). */
  body: unknown;
  /** Raw body text, for size checks. */
  bodyText: string;
  signal: AbortSignal | undefined;
}

/** The stub and what it recorded. */
export interface FetchStub {
  fetchImpl: FetchLike;
  requests: RecordedRequest[];
}

/** Builds a stub whose answers come from `handler` (a throw rejects the fetch, like a network error). */
export function createFetchStub(
  handler: (request: RecordedRequest) => Response | Promise<Response>,
): FetchStub {
  const requests: RecordedRequest[] = [];
  const fetchImpl: FetchLike = async (input, init) => {
    const url = new URL(input);
    const bodyText = typeof init.body === "string" ? init.body : "";
    const prefix = "/api/2.0/mlflow/";
    const request: RecordedRequest = {
      method: init.method ?? "GET",
      url,
      endpoint: url.pathname.includes(prefix)
        ? url.pathname.slice(url.pathname.indexOf(prefix) + prefix.length)
        : url.pathname,
      headers: Object.fromEntries(new Headers(init.headers).entries()),
      body: bodyText === "" ? undefined : JSON.parse(bodyText),
      bodyText,
      signal: init.signal ?? undefined,
    };
    requests.push(request);
    return await handler(request);
  };
  return { fetchImpl, requests };
}

/** A JSON response. */
export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** MLflow's error shape. */
export function mlflowErrorResponse(status: number, errorCode: string, message: string): Response {
  return jsonResponse({ error_code: errorCode, message }, status);
}
