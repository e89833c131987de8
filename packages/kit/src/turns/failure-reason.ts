/**
 * What may leave the gateway about a failure when content capture is off: a category, an HTTP
 * status and a fixed sentence chosen here. The host's own error text can quote the user's input
 * (providers echo it back), so it is exported only when content capture is on.
 */

/** A category as the host names it (`rate_limit`, `Error`, `timeout`); anything else is not kept. */
const SAFE_CATEGORY = /^[A-Za-z][\w.:-]{0,63}$/;

/** Sentences per HTTP status; others fall back to the class. */
const STATUS_REASONS: Readonly<Record<number, string>> = {
  400: "the provider rejected the request",
  401: "the provider rejected the credentials",
  402: "the provider refused the request for billing reasons",
  403: "the provider denied access",
  404: "the provider does not know the model or endpoint",
  408: "the provider request timed out",
  409: "the provider reported a conflict",
  413: "the request was too large for the provider",
  422: "the provider could not process the request",
  429: "the provider rate-limited the request",
  500: "the provider failed with an internal error",
  502: "the provider's gateway failed",
  503: "the provider was unavailable",
  504: "the provider's gateway timed out",
  529: "the provider was overloaded",
};

/**
 * The provider's HTTP status at the start of a host error message (`429 rate limited…`, `HTTP 503`,
 * `Error 400:`, `status 502`), or undefined.
 */
export function readErrorStatus(message: string | undefined): number | undefined {
  if (typeof message !== "string") return undefined;
  const head = message.slice(0, 120);
  const match = /^\s*(?:(?:error|http|status(?:\s*code)?)\s*[:=]?\s*)?([1-5]\d\d)\b/i.exec(head);
  const status = match?.[1] === undefined ? undefined : Number(match[1]);
  return status !== undefined && status >= 400 && status <= 599 ? status : undefined;
}

/** A category fit for export, or undefined. */
export function toSafeCategory(category: string | undefined): string | undefined {
  return typeof category === "string" && SAFE_CATEGORY.test(category) ? category : undefined;
}

/**
 * A fixed, content-free line saying how a model call or turn failed: from the status when known,
 * else from the category, else a plain default. Never contains text from the host.
 */
export function toFailureReason(status: number | undefined, category: string | undefined): string {
  if (status !== undefined) {
    const known = STATUS_REASONS[status];
    const sentence = known ?? (status >= 500 ? "the provider failed" : "the provider refused the request");
    return `${sentence} (HTTP ${status})`;
  }
  const safe = toSafeCategory(category);
  return safe === undefined ? "the model call failed" : `the model call failed (${safe})`;
}

/**
 * Whether the host may run the turn again after a failure with this status: rate limits, timeouts,
 * conflicts and server errors are retried; an unknown status might be (network errors are).
 */
export function mayBeRetried(status: number | undefined): boolean {
  if (status === undefined) return true;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** The parts of a turn {@link toTurnFailureText} and {@link toCallFailureText} read. */
interface FailedTurnView {
  outcome: string;
  error?: { reason?: string; message?: string; category?: string };
  modelCalls: readonly FailedCallView[];
}
interface FailedCallView {
  outcome: string;
  errorReason?: string;
  errorCategory?: string;
  failureKind?: string;
}

/**
 * Why a turn failed, as one exportable line: the host's text when content capture kept it (already
 * redacted), otherwise the fixed reason. Undefined for a turn that did not fail.
 */
export function toTurnFailureText(turn: FailedTurnView): string | undefined {
  if (turn.outcome !== "error") return undefined;
  const error = turn.error;
  return error?.message ?? error?.reason ?? toFailureReason(undefined, error?.category);
}

/**
 * Why one model call failed, as one exportable line: its fixed reason, and for the turn's last
 * failed call the host's text when content capture kept it.
 */
export function toCallFailureText(call: FailedCallView, turn: FailedTurnView): string {
  const reason = call.errorReason ?? toFailureReason(undefined, call.errorCategory ?? call.failureKind);
  let lastFailed: FailedCallView | undefined;
  for (const each of turn.modelCalls) if (each.outcome === "error") lastFailed = each;
  const message = lastFailed === call ? turn.error?.message : undefined;
  return message === undefined ? reason : `${reason}: ${message}`;
}
