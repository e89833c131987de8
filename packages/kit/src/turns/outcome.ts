/**
 * The real outcome of a turn. The host reports a failed provider call as a completed run
 * (`run.completed.outcome: "completed"`, `agent_end.success: true`); the failure shows only in the
 * model calls and in the last assistant message (`stopReason: "error"`).
 */
import type { AssistantEvidence, ModelCallState, OpenTurn } from "./open-turn.js";
import type { Turn, TurnOutcome } from "./turn.js";

/** An outcome with the error that explains it. */
export interface ResolvedOutcome {
  outcome: TurnOutcome;
  error?: Turn["error"];
}

/**
 * Resolves the outcome, strongest evidence first: the host's own non-success outcome, then the
 * model calls (a failed call with no later successful one is an error; a retried failure is not),
 * then the last assistant message, then the host's `completed`.
 *
 * @param calls the turn's model calls in the host's order
 */
export function resolveTurnOutcome(turn: OpenTurn, calls: readonly ModelCallState[]): ResolvedOutcome {
  const assistant = errorEvidence(turn);
  if (turn.harnessError !== undefined) {
    return error(turn.harnessError.category, assistant?.errorMessage, "harness.run.error");
  }
  switch (turn.hostOutcome) {
    case "aborted":
      return { outcome: "aborted" };
    case "blocked":
      return { outcome: "blocked" };
    case "error":
      return error(turn.hostErrorCategory, assistant?.errorMessage, "run.completed");
  }
  if (turn.hostOutcome === undefined) {
    if (turn.harnessOutcome === "aborted") return { outcome: "aborted" };
    if (turn.harnessOutcome === "error" || turn.harnessOutcome === "timed_out") {
      return error(turn.harnessOutcome, assistant?.errorMessage, "harness.run.completed");
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
    return error(
      category,
      assistant?.errorMessage,
      failed.busEnded ? "model.call.error" : "model_call_ended",
    );
  }
  if (lastSuccess >= 0) return { outcome: "success" };

  if (assistant !== undefined) {
    const source = turn.llmOutput?.lastAssistant?.stopReason === "error" ? "llm_output" : "agent_end";
    return error(assistant.errorType, assistant.errorMessage, source);
  }
  if (turn.agentEnd?.success === false) return error(undefined, turn.agentEnd.error, "agent_end");
  if (
    turn.hostOutcome === "completed" ||
    turn.harnessOutcome === "completed" ||
    turn.agentEnd?.success === true
  ) {
    return { outcome: "success" };
  }
  if (turn.llmOutput !== undefined) return { outcome: "success" };
  return { outcome: "unknown" };
}

/** The last assistant message that ended in error, from `llm_output` or else `agent_end`. */
function errorEvidence(turn: OpenTurn): AssistantEvidence | undefined {
  for (const evidence of [turn.llmOutput?.lastAssistant, turn.agentEnd?.lastAssistant]) {
    if (evidence?.stopReason === "error") return evidence;
  }
  return undefined;
}

function error(category: string | undefined, message: string | undefined, source: string): ResolvedOutcome {
  const detail: NonNullable<Turn["error"]> = { source };
  if (category !== undefined) detail.category = category;
  if (message !== undefined) detail.message = message;
  return { outcome: "error", error: detail };
}
