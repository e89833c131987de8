/**
 * When an open turn may close: whether the bus delivered all of it, whether everything it started
 * has ended, and how long after its end it may still change (a retry, a fallback, a late
 * `model.usage`). Pure functions of the open turn; the assembler decides what to do with the answer.
 */
import { callsOf, viewAttempts } from "./attempts.js";
import { mayBeRetried, readErrorStatus } from "./failure-reason.js";
import { hasEnded, isPending } from "./finalize-turn.js";
import type { OpenTurn } from "./open-turn.js";
import { errorEvidence } from "./outcome.js";

/** After a failure the host does not retry (a 400, a 401), a fallback to another model can still follow. */
const FALLBACK_GRACE_MS = 5000;
/** With the bus, how long a run that ended well waits for the host's own end-of-run word. */
const END_WAIT_MS = 10_000;
/** After the host's end of a run with a successful call, how long `model.usage` (its last word) may take. */
const USAGE_GRACE_MS = 2000;

/**
 * Whether the bus delivered both ends of the run and of every call: only then a turn closes the
 * moment its last word arrives; otherwise it waits the settle time for stragglers.
 */
export function isWhole(turn: OpenTurn): boolean {
  const view = viewAttempts(turn);
  const attempt = view.attempts.at(-1);
  if (attempt === undefined) return false;
  if (!turn.busObserved) return attempt.hookEnded;
  for (const each of view.attempts) {
    if (!each.runStarted || !each.runCompleted || !each.harnessEnded) return false;
  }
  // calls are numbered <runId>:model:N from 1 in each attempt: a gap means a call not heard of yet
  const highest = new Map<unknown, { top: number; count: number }>();
  for (const call of turn.modelCalls.values()) {
    if (!call.busStarted) return false;
    const seen = highest.get(call.attempt) ?? { top: 0, count: 0 };
    seen.count += 1;
    if (Number.isFinite(call.sequence)) seen.top = Math.max(seen.top, call.sequence);
    highest.set(call.attempt, seen);
  }
  for (const seen of highest.values()) if (seen.top > seen.count) return false;
  for (const tool of turn.toolCalls.values()) if (!tool.busStarted) return false;
  let itemsStarted = 0;
  let known = false;
  for (const each of turn.attempts) {
    if (each.harnessItemsStarted !== undefined) {
      known = true;
      itemsStarted += each.harnessItemsStarted;
    }
  }
  return !known || turn.toolCalls.size >= itemsStarted;
}

/** Whether the run has ended and no call it made is still pending. */
export function isReady(turn: OpenTurn): boolean {
  if (!hasEnded(turn)) return false;
  for (const call of turn.modelCalls.values()) if (isPending(turn, call)) return false;
  for (const tool of turn.toolCalls.values()) if (isPending(turn, tool)) return false;
  return true;
}

/**
 * How long after its end a turn may still change. With the bus, the host says when a run is over
 * (`session.state` idle): until then it may retry or fall back, and after it only the bus's last
 * deliveries are awaited (`model.usage` last of all). Hooks alone say nothing of the kind: a
 * success settles, a failure waits for a retry or a fallback.
 */
export function waitAfterEnd(turn: OpenTurn, waits: { settleMs: number; retryWaitMs: number }): number {
  const { settleMs, retryWaitMs } = waits;
  const failure = lastAttemptFailure(turn);
  if (turn.endMarkerAt !== undefined) {
    const usageDue = turn.modelUsage === undefined && hasSuccessfulCall(turn);
    return usageDue ? Math.max(settleMs, USAGE_GRACE_MS) : settleMs;
  }
  if (turn.busObserved) return failure !== undefined ? retryWaitMs : Math.max(settleMs, END_WAIT_MS);
  if (failure === undefined) return settleMs;
  return mayBeRetried(failure.status) ? retryWaitMs : Math.max(settleMs, FALLBACK_GRACE_MS);
}

/** How the last attempt failed, when it did: its HTTP status when the host's message names one. */
export function lastAttemptFailure(turn: OpenTurn): { status?: number } | undefined {
  const view = viewAttempts(turn);
  const attempt = view.attempts.at(-1);
  if (attempt === undefined) return undefined;
  const evidence = errorEvidence(attempt);
  let lastCall: { sequence: number; outcome: string } | undefined;
  for (const call of callsOf(turn, view, attempt)) {
    if (lastCall === undefined || call.sequence >= lastCall.sequence) lastCall = call;
  }
  const failed =
    evidence !== undefined ||
    lastCall?.outcome === "error" ||
    attempt.harnessError !== undefined ||
    attempt.hostOutcome === "error";
  if (!failed) return undefined;
  return { status: readErrorStatus(evidence?.errorMessage) };
}

/** The host said the run is over: it is a bus word, so the bus's own ends are awaited from now on. */
export function markEnded(turn: OpenTurn, at: number): void {
  turn.busObserved = true;
  turn.endMarkerAt ??= at;
}

/** Whether every attempt made a model call: an attempt without one may still be reporting it. */
export function everyAttemptCalled(turn: OpenTurn): boolean {
  const view = viewAttempts(turn);
  const called = new Set<unknown>();
  for (const call of turn.modelCalls.values()) called.add(view.of(call.attempt));
  return view.attempts.every((attempt) => called.has(attempt));
}

export function hasSuccessfulCall(turn: OpenTurn): boolean {
  for (const call of turn.modelCalls.values()) if (call.outcome === "success") return true;
  return false;
}
