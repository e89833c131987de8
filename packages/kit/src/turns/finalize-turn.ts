/** Turns an open turn into the immutable {@link Turn} record, and says what it still waits for. */
import { toErrorText } from "../privacy/error-text.js";
import { type AttemptView, hasAttemptEnded, lastAttempt, viewAttempts } from "./attempts.js";
import { combineCosts, type PriceTable, resolveCost, UNKNOWN_COST } from "./cost.js";
import { readErrorStatus, toFailureReason, toSafeCategory } from "./failure-reason.js";
import {
  type AttemptState,
  MAX_MESSAGE_LENGTH,
  type ModelCallState,
  type OpenTurn,
  type ToolCallState,
} from "./open-turn.js";
import { errorEvidence, resolveTurnOutcome } from "./outcome.js";
import type {
  Cost,
  ModelCall,
  ToolCall,
  Turn,
  TurnError,
  TurnIncomplete,
  TurnRevisionFigures,
  Usage,
} from "./turn.js";
import { addUsage, zeroUsage } from "./usage.js";

/** How {@link toTurn} shapes the record beyond the turn's own state. */
export interface FinalizeOptions {
  pricing?: PriceTable;
  /** Set when the turn was closed early. */
  incomplete?: TurnIncomplete;
  /** Keep the host's error text (redacted) on `error.message`: only with content capture on. */
  keepErrorText?: boolean;
  /** 1 for the first export; more for an amendment, with the figures it replaces. */
  revision?: number;
  previous?: TurnRevisionFigures;
}

/** Whether the run itself has ended: its last attempt, as the bus reports it when the bus saw the run. */
export function hasEnded(turn: OpenTurn): boolean {
  const attempt = lastAttempt(turn);
  return attempt !== undefined && hasAttemptEnded(turn, attempt);
}

/** Whether a call still waits for its end: the bus's end when the bus saw the run. */
export function isPending(turn: OpenTurn, item: ModelCallState | ToolCallState): boolean {
  return turn.busObserved ? !item.busEnded : !item.busEnded && !item.hookEnded;
}

/**
 * What never arrived, in words an operator can search the host's docs for. `awaitingRetry` adds
 * the end the host never confirmed after a failed attempt (it might have run the turn again).
 */
export function listMissing(turn: OpenTurn, awaitingRetry = false): string[] {
  const missing: string[] = [];
  if (!hasEnded(turn)) missing.push(turn.busObserved ? "run.completed" : "agent_end");
  else if (awaitingRetry) missing.push("session.state idle (the host may still have been retrying)");
  for (const call of sortModelCalls(turn)) {
    if (isPending(turn, call)) {
      missing.push(`${turn.busObserved ? "model.call.completed" : "model_call_ended"} ${call.callId}`);
    }
  }
  for (const tool of sortToolCalls(turn)) {
    if (isPending(turn, tool)) {
      const name = turn.busObserved ? "tool.execution.completed" : "after_tool_call";
      missing.push(`${name} ${tool.toolName} ${tool.toolCallId}`);
    }
  }
  return missing;
}

/** The figures of a record that an amendment would replace. */
export function toRevisionFigures(turn: Turn): TurnRevisionFigures {
  return {
    usage: { ...turn.usage },
    cost: { ...turn.cost },
    outcome: turn.outcome,
    modelCalls: turn.modelCalls.length,
    toolCalls: turn.toolCalls.length,
    toolErrors: turn.toolCalls.filter((tool) => tool.outcome === "error").length,
    incomplete: turn.incomplete !== undefined,
  };
}

/** Builds the turn record. */
export function toTurn(turn: OpenTurn, options: FinalizeOptions = {}): Turn {
  const { pricing } = options;
  const view = viewAttempts(turn);
  const attempts = view.attempts;
  const callStates = sortModelCalls(turn, view);
  const modelCalls = callStates.map((call) => toModelCall(turn, call, view, pricing, options.keepErrorText));
  const toolCalls = sortToolCalls(turn).map((tool) => toToolCall(tool, options.keepErrorText));
  modelCalls.forEach((call, index) => {
    const input = index === 0 ? turn.promptContent : undefined;
    const output = index === modelCalls.length - 1 ? turn.outputContent : undefined;
    const content = contentOf(input, output);
    if (content !== undefined) call.content = content;
  });
  const last = attempts.at(-1);
  const totals = resolveTotals(turn, attempts, modelCalls, pricing);
  const resolved = resolveTurnOutcome(turn, callStates, view);
  const times = resolveTimes(turn, attempts, modelCalls, toolCalls);
  const record: Turn = {
    id: turn.runId,
    runId: turn.runId,
    startedAt: times.startedAt,
    endedAt: times.endedAt,
    durationMs: times.durationMs,
    modelCalls,
    toolCalls,
    usage: totals.usage,
    cost: totals.cost,
    usageSource: totals.source,
    outcome: resolved.outcome,
    attempts: Math.max(1, attempts.length),
    revision: Math.max(1, Math.floor(options.revision ?? 1)),
  };
  assign(record, "traceId", turn.traceId);
  assign(record, "spanId", turn.spanId);
  assign(record, "parentSpanId", turn.parentSpanId);
  assign(record, "sessionKey", turn.sessionKey ?? turn.usageSessionKey);
  assign(record, "sessionId", turn.sessionId);
  // a canonical session key names its agent (`agent:<id>:<rest>`): the fallback when no input did
  assign(record, "agentId", turn.agentId ?? agentOfSessionKey(turn.sessionKey));
  assign(record, "channel", turn.channel);
  assign(record, "trigger", turn.trigger);
  // the model that ran last (after a fallback, not the one the turn started with)
  assign(record, "provider", last?.provider ?? turn.provider);
  assign(record, "model", last?.model ?? turn.model);
  assign(record, "hostOutcome", last?.hostOutcome);
  if (resolved.error !== undefined) record.error = toTurnError(resolved.error, options.keepErrorText);
  if (turn.fallbacks.length > 0) {
    record.fallbacks = turn.fallbacks.map(({ at: _at, ...fallback }) => withoutUndefined(fallback));
  }
  assign(record, "incomplete", options.incomplete);
  assign(record, "previous", options.previous);
  const context = turn.modelUsage?.context;
  if (context !== undefined && (context.limit !== undefined || context.used !== undefined)) {
    record.context = context;
  }
  return record;
}

function toTurnError(
  error: NonNullable<ReturnType<typeof resolveTurnOutcome>["error"]>,
  keepText = false,
): TurnError {
  const status = readErrorStatus(error.message);
  const category = toSafeCategory(error.category);
  const detail: TurnError = { reason: toFailureReason(status, category), source: error.source };
  if (category !== undefined) detail.category = category;
  if (status !== undefined) detail.status = status;
  if (keepText) assign(detail, "message", toErrorText(error.message, MAX_MESSAGE_LENGTH));
  if (keepText) assign(detail, "diagnostic", toErrorText(error.message, MAX_MESSAGE_LENGTH));
  return detail;
}

/**
 * Start, end and duration. The turn spans every attempt and every call: its start is the first
 * attempt's, its end the last attempt's, and it never starts after or ends before a child.
 */
function resolveTimes(
  turn: OpenTurn,
  attempts: readonly AttemptState[],
  calls: readonly ModelCall[],
  tools: readonly ToolCall[],
): { startedAt: number; endedAt: number; durationMs: number } {
  let start: number | undefined;
  let end: number | undefined;
  const widen = (from: number | undefined, to: number | undefined) => {
    if (from !== undefined && (start === undefined || from < start)) start = from;
    if (to !== undefined && (end === undefined || to > end)) end = to;
  };
  for (const attempt of attempts) {
    widen(attempt.runStartedAt ?? attempt.harnessStartedAt, attempt.runEndedAt ?? attempt.harnessEndedAt);
  }
  const runStart = start;
  for (const child of [...calls, ...tools]) widen(child.startedAt, child.endedAt);
  const startedAt = start ?? turn.earliestEventAt ?? turn.openedAt;
  const endedAt = Math.max(startedAt, end ?? turn.latestEventAt ?? turn.lastActivityAt);
  const only = attempts.length === 1 ? attempts[0] : undefined;
  // one attempt whose span holds its children: the host's own duration; otherwise the span we drew
  const hostDuration =
    only?.runDurationMs !== undefined && runStart === startedAt ? only.runDurationMs : undefined;
  return { startedAt, endedAt, durationMs: hostDuration ?? endedAt - startedAt };
}

/**
 * The turn's totals, best source first: the gateway's own `model.usage` (one per turn, over every
 * attempt); then `llm_output` summed over the attempts (each reports its own calls, the same
 * figures from the hooks when the bus is off); then the sum of the model calls.
 */
function resolveTotals(
  turn: OpenTurn,
  attempts: readonly AttemptState[],
  calls: readonly ModelCall[],
  pricing: PriceTable | undefined,
): { usage: Usage; cost: Cost; source: Turn["usageSource"] } {
  const priced = { provider: turn.provider, model: turn.model, pricing };
  const callsCost = (): Cost => combineCosts(calls.map((call) => call.cost));
  if (turn.modelUsage !== undefined) {
    const usage = turn.modelUsage.usage;
    let cost = resolveCost({ usage, hostCostUsd: turn.modelUsage.costUsd, ...priced });
    if (cost.source === "unknown" && calls.length > 0) cost = callsCost();
    return { usage, cost, source: "model.usage" };
  }
  const reported = attempts.filter((attempt) => attempt.llmOutput?.usage !== undefined);
  if (reported.length > 0) {
    let usage = zeroUsage();
    const costs: Cost[] = [];
    for (const attempt of reported) {
      const part = attempt.llmOutput?.usage ?? zeroUsage();
      usage = addUsage(usage, part);
      costs.push(
        resolveCost({
          usage: part,
          hostCostUsd: attempt.llmOutput?.costUsd,
          provider: attempt.provider ?? turn.provider,
          model: attempt.model ?? turn.model,
          pricing,
        }),
      );
    }
    let cost = combineCosts(costs);
    if (cost.source === "unknown" && calls.length > 0) cost = callsCost();
    return { usage, cost, source: "llm_output" };
  }
  const measured = [...turn.modelCalls.values()].filter((call) => call.usage !== undefined);
  if (measured.length > 0) {
    const usage = measured.reduce((sum, call) => addUsage(sum, call.usage ?? zeroUsage()), zeroUsage());
    return { usage, cost: callsCost(), source: "model.calls" };
  }
  return { usage: zeroUsage(), cost: { ...UNKNOWN_COST }, source: "none" };
}

function toModelCall(
  turn: OpenTurn,
  call: ModelCallState,
  view: AttemptView,
  pricing: PriceTable | undefined,
  keepText = false,
): ModelCall {
  const attempt = view.of(call.attempt);
  const record: ModelCall = {
    callId: call.callId,
    attempt: Math.max(1, view.attempts.indexOf(attempt) + 1),
    usage: call.usage ?? zeroUsage(),
    cost: resolveCost({
      usage: call.usage,
      hostCostUsd: call.hostCostUsd,
      provider: call.provider ?? attempt.provider ?? turn.provider,
      model: call.model ?? attempt.model ?? turn.model,
      pricing,
    }),
    outcome: call.outcome,
  };
  assign(record, "provider", call.provider);
  assign(record, "model", call.model);
  assign(record, "api", call.api);
  const times = timesOf(call);
  assign(record, "startedAt", times.startedAt);
  assign(record, "endedAt", times.endedAt);
  assign(record, "durationMs", call.durationMs);
  assign(record, "timeToFirstByteMs", call.timeToFirstByteMs);
  assign(record, "errorCategory", call.errorCategory);
  assign(record, "failureKind", call.failureKind);
  if (call.outcome === "error") {
    // the attempt's last assistant message names the status of its last failed call
    const text = isLastFailure(turn, view, call) ? errorEvidence(attempt)?.errorMessage : undefined;
    const status = readErrorStatus(text);
    assign(record, "errorStatus", status);
    if (keepText) assign(record, "errorDiagnostic", toErrorText(text, MAX_MESSAGE_LENGTH));
    record.errorReason = toFailureReason(status, call.errorCategory ?? call.failureKind);
  }
  assign(record, "spanId", call.spanId);
  assign(record, "parentSpanId", call.parentSpanId);
  assign(record, "requestBytes", call.requestBytes);
  assign(record, "responseBytes", call.responseBytes);
  return record;
}

/** Whether no later call of the same attempt failed after this one. */
function isLastFailure(turn: OpenTurn, view: AttemptView, call: ModelCallState): boolean {
  const attempt = view.of(call.attempt);
  for (const other of turn.modelCalls.values()) {
    if (other !== call && view.of(other.attempt) === attempt && other.outcome === "error") {
      if (other.sequence > call.sequence) return false;
    }
  }
  return true;
}

function toToolCall(tool: ToolCallState, keepText = false): ToolCall {
  const record: ToolCall = { toolCallId: tool.toolCallId, toolName: tool.toolName, outcome: tool.outcome };
  assign(record, "toolSource", tool.toolSource);
  assign(record, "toolOwner", tool.toolOwner);
  const times = timesOf(tool);
  assign(record, "startedAt", times.startedAt);
  assign(record, "endedAt", times.endedAt);
  assign(record, "durationMs", tool.durationMs);
  assign(record, "errorCategory", tool.errorCategory);
  if (keepText && (tool.outcome === "error" || tool.outcome === "blocked"))
    assign(record, "errorDiagnostic", toErrorText(tool.errorText, MAX_MESSAGE_LENGTH));
  assign(record, "spanId", tool.spanId);
  assign(record, "parentSpanId", tool.parentSpanId);
  const content = contentOf(tool.inputContent, tool.outputContent);
  if (content !== undefined) record.content = content;
  return record;
}

/**
 * Start and end: the bus's host timestamps when it gave them (a start derived from the end and the
 * duration otherwise), the hooks' receive times only when the bus gave nothing — never mixed by
 * arrival order.
 */
function timesOf(item: ModelCallState | ToolCallState): { startedAt?: number; endedAt?: number } {
  const derivedStart =
    item.endedAt !== undefined && item.durationMs !== undefined ? item.endedAt - item.durationMs : undefined;
  if (item.startedAt !== undefined || item.endedAt !== undefined) {
    return { startedAt: item.startedAt ?? derivedStart, endedAt: item.endedAt };
  }
  return { startedAt: item.hookStartedAt, endedAt: item.hookEndedAt };
}

/**
 * Model calls in the host's order: by attempt (in start order), then `:model:N`, then start time,
 * then id — arrival-independent.
 */
function sortModelCalls(turn: OpenTurn, view: AttemptView = viewAttempts(turn)): ModelCallState[] {
  const order = new Map(view.attempts.map((attempt, index) => [attempt, index]));
  const rank = (call: ModelCallState) => order.get(view.of(call.attempt)) ?? 0;
  return [...turn.modelCalls.values()].sort(
    (left, right) =>
      rank(left) - rank(right) ||
      left.sequence - right.sequence ||
      startOf(left) - startOf(right) ||
      compareText(left.callId, right.callId),
  );
}

function sortToolCalls(turn: OpenTurn): ToolCallState[] {
  return [...turn.toolCalls.values()].sort(
    (left, right) => startOf(left) - startOf(right) || compareText(left.toolCallId, right.toolCallId),
  );
}

function contentOf(input: string | undefined, output: string | undefined): ModelCall["content"] {
  if (input === undefined && output === undefined) return undefined;
  const content: NonNullable<ModelCall["content"]> = {};
  if (input !== undefined) content.input = input;
  if (output !== undefined) content.output = output;
  return content;
}

function startOf(item: ModelCallState | ToolCallState): number {
  return timesOf(item).startedAt ?? Number.POSITIVE_INFINITY;
}

function compareText(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

/** Sets an optional field only when it has a value, so records carry no `undefined` keys. */
function assign<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}

function agentOfSessionKey(sessionKey: string | undefined): string | undefined {
  if (typeof sessionKey !== "string") return undefined;
  const match = /^agent:([^:]{1,128}):./.exec(sessionKey);
  return match?.[1];
}
