/**
 * The real outcome of a turn. The host reports a failed provider call as a completed run
 * (`run.completed.outcome: "completed"`, `agent_end.success: true`); the failure shows only in the
 * model calls and in the last assistant message (`stopReason: "error"`). When the host ran the turn
 * several times (retries, fallbacks), the last attempt decides.
 */
import { type AttemptView, viewAttempts } from "./attempts.js";
import type { AssistantEvidence, AttemptState, ModelCallState, OpenTurn } from "./open-turn.js";
import type { TurnOutcome } from "./turn.js";

/** An outcome with the error that explains it (`message`: the host's raw text, kept internal). */
export interface ResolvedOutcome {
  outcome: TurnOutcome;
  error?: { category?: string; message?: string; source: string };
}

/**
 * Resolves the outcome, strongest evidence first: the last attempt's own non-success outcome, then
 * the model calls (a failed call with no later successful one is an error; a retried failure is
 * not), then the last assistant message, then the host's `completed`.
 *
 * @param calls the turn's model calls in the host's order (attempts first, then call number)
 */
export function resolveTurnOutcome(
  turn: OpenTurn,
  calls: readonly ModelCallState[],
  view: AttemptView = viewAttempts(turn),
): ResolvedOutcome {
  const attempt = view.attempts.at(-1);
  const assistant = attempt === undefined ? undefined : errorEvidence(attempt);
  if (attempt?.harnessError !== undefined) {
    return error(attempt.harnessError.category, assistant?.errorMessage, "harness.run.error");
  }
  switch (attempt?.hostOutcome) {
    case "aborted":
      return { outcome: "aborted" };
    case "blocked":
      return { outcome: "blocked" };
    case "error":
      return error(attempt.hostErrorCategory, assistant?.errorMessage, "run.completed");
  }
  if (attempt !== undefined && attempt.hostOutcome === undefined) {
    if (attempt.harnessOutcome === "aborted") return { outcome: "aborted" };
    if (attempt.harnessOutcome === "error" || attempt.harnessOutcome === "timed_out") {
      return error(attempt.harnessOutcome, assistant?.errorMessage, "harness.run.completed");
    }
  }

  let lastError = -1;
  let lastSuccess = -1;
  calls.forEach((call, index) => {
    if (call.outcome === "error") lastError = index;
    if (call.outcome === "success") lastSuccess = index;
  });
  const failed = calls[lastError];
  if (failed !== undefined && lastError > lastSuccess) {
    const category = failed.errorCategory ?? assistant?.errorType;
    const message = view.of(failed.attempt) === attempt ? assistant?.errorMessage : undefined;
    return error(category, message, failed.busEnded ? "model.call.error" : "model_call_ended");
  }
  if (lastSuccess >= 0) return { outcome: "success" };
  if (attempt === undefined) return { outcome: "unknown" };

  if (assistant !== undefined) {
    const source = attempt.llmOutput?.lastAssistant?.stopReason === "error" ? "llm_output" : "agent_end";
    return error(assistant.errorType, assistant.errorMessage, source);
  }
  if (attempt.agentEnd?.success === false) return error(undefined, attempt.agentEnd.error, "agent_end");
  if (
    attempt.hostOutcome === "completed" ||
    attempt.harnessOutcome === "completed" ||
    attempt.agentEnd?.success === true
  ) {
    return { outcome: "success" };
  }
  if (attempt.llmOutput !== undefined) return { outcome: "success" };
  return { outcome: "unknown" };
}

/** The last assistant message of an attempt that ended in error, from `llm_output` or else `agent_end`. */
export function errorEvidence(attempt: AttemptState): AssistantEvidence | undefined {
  for (const evidence of [attempt.llmOutput?.lastAssistant, attempt.agentEnd?.lastAssistant]) {
    if (evidence?.stopReason === "error") return evidence;
  }
  return undefined;
}

function error(category: string | undefined, message: string | undefined, source: string): ResolvedOutcome {
  const detail: NonNullable<ResolvedOutcome["error"]> = { source };
  if (category !== undefined) detail.category = category;
  if (message !== undefined) detail.message = message;
  return { outcome: "error", error: detail };
}
