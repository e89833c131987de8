/**
 * The one error type of the client: it says what failed (HTTP status and MLflow's `error_code`)
 * and whether trying the same request again can help.
 */
import type { SendFailure, SendResult } from "@clawscope/kit";

/** Where an error came from; `http` carries the server's status. */
export type MlflowErrorKind =
  | "http"
  | "network"
  | "timeout"
  | "aborted"
  | "invalid-response"
  | "invalid-argument"
  | "experiment-deleted";

/** Fields of {@link MlflowError}. */
export interface MlflowErrorFields {
  kind: MlflowErrorKind;
  /** HTTP status; 0 when no response arrived. */
  status: number;
  /** MLflow's `error_code` (e.g. `RESOURCE_ALREADY_EXISTS`), else one of ours (`NETWORK_ERROR`...). */
  errorCode: string;
  message: string;
  /** From a `Retry-After` header on 429/503. */
  retryAfterMs?: number;
  /** The REST path that failed, e.g. `runs/log-batch` (no host, no query: it may hold names). */
  endpoint?: string;
  /** For a split log-batch: requests that had succeeded before this one failed. */
  completedRequests?: number;
  cause?: unknown;
}

/** Longest server text kept in a message: enough to recognise an HTML page or a proxy's answer. */
export const MAX_ERROR_BODY_CHARS = 200;

/**
 * A failed MLflow call. `retryable` is true for network errors, timeouts, aborts, 408, 429 and
 * 5xx; false for other 4xx (bad input, missing resource, wrong credentials).
 */
export class MlflowError extends Error {
  override readonly name = "MlflowError";
  readonly kind: MlflowErrorKind;
  readonly status: number;
  readonly errorCode: string;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly endpoint?: string;
  readonly completedRequests?: number;

  constructor(fields: MlflowErrorFields) {
    super(fields.message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.kind = fields.kind;
    this.status = fields.status;
    this.errorCode = fields.errorCode;
    this.retryable = isRetryable(fields.kind, fields.status);
    if (fields.retryAfterMs !== undefined) this.retryAfterMs = fields.retryAfterMs;
    if (fields.endpoint !== undefined) this.endpoint = fields.endpoint;
    if (fields.completedRequests !== undefined) this.completedRequests = fields.completedRequests;
  }

  /** True for 401/403: the credentials are missing or wrong. */
  get isAuthError(): boolean {
    return this.kind === "http" && (this.status === 401 || this.status === 403);
  }

  /** True for 404 / `RESOURCE_DOES_NOT_EXIST`. */
  get isNotFound(): boolean {
    return this.errorCode === "RESOURCE_DOES_NOT_EXIST" || (this.kind === "http" && this.status === 404);
  }

  /** A copy that records how many requests of a split batch had succeeded. */
  withCompletedRequests(completedRequests: number): MlflowError {
    return new MlflowError({
      kind: this.kind,
      status: this.status,
      errorCode: this.errorCode,
      message: this.message,
      ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }),
      ...(this.endpoint === undefined ? {} : { endpoint: this.endpoint }),
      completedRequests,
      cause: this.cause,
    });
  }
}

function isRetryable(kind: MlflowErrorKind, status: number): boolean {
  switch (kind) {
    case "network":
    case "timeout":
    case "aborted":
      return true;
    case "http":
      return status === 408 || status === 429 || status >= 500;
    default:
      // a 2xx that is not JSON (a proxy's page, a wrong URL) will not change on retry
      return false;
  }
}

/** True when `value` is an {@link MlflowError}, also across module copies (bundled twice). */
export function isMlflowError(value: unknown): value is MlflowError {
  return (
    value instanceof MlflowError ||
    (typeof value === "object" &&
      value !== null &&
      (value as { name?: unknown }).name === "MlflowError" &&
      typeof (value as { retryable?: unknown }).retryable === "boolean")
  );
}

/**
 * Maps any error thrown by the client to the export pipeline's `SendResult`: retryable → retry
 * (with `retryAfterMs`), 401/403 → auth, 413 → too-large, other MLflow errors → reject. Errors
 * that are not MlflowErrors count as retry, as the pipeline's contract says of a throw.
 */
export function toSendResult(error: unknown): SendResult {
  if (!isMlflowError(error)) {
    const text = error instanceof Error ? error.message : String(error);
    return { kind: "retry", reason: `unexpected error: ${text.slice(0, MAX_ERROR_BODY_CHARS)}` };
  }
  const reason = describeMlflowError(error);
  // the same facts as fields, so no caller parses the reason back
  const excerpt = error.message.replace(/\s+/g, " ").trim().slice(0, 200);
  const failure: SendFailure =
    error.kind === "http"
      ? {
          status: error.status,
          ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
          ...(excerpt ? { bodyExcerpt: excerpt } : {}),
        }
      : { cause: excerpt || error.kind };
  if (error.retryable) {
    return error.retryAfterMs === undefined
      ? { kind: "retry", reason, failure }
      : { kind: "retry", reason, retryAfterMs: error.retryAfterMs, failure };
  }
  if (error.isAuthError) return { kind: "auth", reason, failure };
  if (error.kind === "http" && error.status === 413) return { kind: "too-large", reason, failure };
  return { kind: "reject", reason, failure };
}

/** One line for logs: `MLflow runs/log-batch: HTTP 400 INVALID_PARAMETER_VALUE: <message>`. */
export function describeMlflowError(error: MlflowError): string {
  const where = error.endpoint ? `MLflow ${error.endpoint}` : "MLflow";
  const status = error.status > 0 ? `HTTP ${error.status} ` : "";
  return `${where}: ${status}${error.errorCode}: ${error.message}`;
}
