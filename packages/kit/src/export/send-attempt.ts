/** Runs one backend `send` so that nothing it does (throw, hang, garbage answer) can escape the pipeline. */
import { describeError } from "../runtime/describe-error.js";
import type { ExportItem, SendBatch, SendResult } from "./types.js";

const KINDS = new Set(["ok", "retry", "too-large", "auth", "reject"]);

/** Accepts only a well-formed `SendResult`; anything else counts as a transient failure. */
export function normalizeSendResult(value: unknown): SendResult {
  if (!value || typeof value !== "object" || !KINDS.has((value as { kind?: unknown }).kind as string)) {
    return { kind: "retry", reason: "send returned no valid result" };
  }
  const result = value as SendResult;
  if (result.kind === "ok") return result;
  const reason = typeof result.reason === "string" ? result.reason : result.kind;
  if (result.kind === "retry") {
    const retryAfterMs = result.retryAfterMs;
    return typeof retryAfterMs === "number" && Number.isFinite(retryAfterMs) && retryAfterMs >= 0
      ? { kind: "retry", reason, retryAfterMs }
      : { kind: "retry", reason };
  }
  return { kind: result.kind, reason };
}

/**
 * Calls `send` and settles as soon as it answers or `signal` aborts, whichever comes first: a
 * backend that ignores the signal cannot hold the pipeline (its late answer is ignored).
 */
export function attemptSend<T>(
  send: SendBatch<T>,
  items: ExportItem<T>[],
  signal: AbortSignal,
): Promise<SendResult> {
  return new Promise((resolve) => {
    const onAbort = () => resolve({ kind: "retry", reason: `aborted: ${describeError(signal.reason)}` });
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener("abort", onAbort, { once: true });
    let answer: Promise<unknown>;
    try {
      answer = Promise.resolve(send(items, signal));
    } catch (error) {
      answer = Promise.reject(error);
    }
    answer
      .then(
        (value) => resolve(normalizeSendResult(value)),
        (error: unknown) => resolve({ kind: "retry", reason: describeError(error) }),
      )
      .finally(() => signal.removeEventListener("abort", onAbort));
  });
}
