/** Turns an open turn into the immutable {@link Turn} record, and says what it still waits for. */
import { combineCosts, type PriceTable, resolveCost, UNKNOWN_COST } from "./cost.js";
import type { ModelCallState, OpenTurn, ToolCallState } from "./open-turn.js";
import { resolveTurnOutcome } from "./outcome.js";
import type { Cost, ModelCall, ToolCall, Turn, TurnIncomplete, Usage } from "./turn.js";
import { addUsage, zeroUsage } from "./usage.js";

/** Whether the run itself has ended (the bus's end when the bus saw the run, else the hooks'). */
export function hasEnded(turn: OpenTurn): boolean {
  return turn.runCompleted || turn.harnessEnded || (!turn.busObserved && turn.hookEnded);
}

/** Whether a call still waits for its end: the bus's end when the bus saw the run. */
export function isPending(turn: OpenTurn, item: ModelCallState | ToolCallState): boolean {
  return turn.busObserved ? !item.busEnded : !item.busEnded && !item.hookEnded;
}

/** What never arrived, in words an operator can search the host's docs for. */
export function listMissing(turn: OpenTurn): string[] {
  const missing: string[] = [];
  if (!hasEnded(turn)) missing.push(turn.busObserved ? "run.completed" : "agent_end");
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

/** Builds the turn record. `incomplete` is set by the caller when the turn was closed early. */
export function toTurn(turn: OpenTurn, pricing: PriceTable | undefined, incomplete?: TurnIncomplete): Turn {
  const callStates = sortModelCalls(turn);
  const modelCalls = callStates.map((call) => toModelCall(turn, call, pricing));
  const toolCalls = sortToolCalls(turn).map(toToolCall);
  modelCalls.forEach((call, index) => {
    const input = index === 0 ? turn.promptContent : undefined;
    const output = index === modelCalls.length - 1 ? turn.outputContent : undefined;
    const content = contentOf(input, output);
    if (content !== undefined) call.content = content;
  });
  const totals = resolveTotals(turn, modelCalls, pricing);
  const resolved = resolveTurnOutcome(turn, callStates);
  const startedAt = turn.runStartedAt ?? turn.harnessStartedAt ?? turn.earliestEventAt ?? turn.openedAt;
  const endedAt = Math.max(
    startedAt,
    turn.runEndedAt ?? turn.harnessEndedAt ?? turn.latestEventAt ?? turn.lastActivityAt,
  );
  const record: Turn = {
    id: turn.runId,
    runId: turn.runId,
    startedAt,
    endedAt,
    durationMs: turn.runDurationMs ?? endedAt - startedAt,
    modelCalls,
    toolCalls,
    usage: totals.usage,
    cost: totals.cost,
    usageSource: totals.source,
    outcome: resolved.outcome,
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
  assign(record, "provider", turn.provider);
  assign(record, "model", turn.model);
  assign(record, "hostOutcome", turn.hostOutcome);
  assign(record, "error", resolved.error);
  assign(record, "incomplete", incomplete);
  const context = turn.modelUsage?.context;
  if (context !== undefined && (context.limit !== undefined || context.used !== undefined)) {
    record.context = context;
  }
  return record;
}

/**
 * The turn's totals, best source first: the gateway's own `model.usage`; then `llm_output`'s
 * run aggregate (the same figures, from the hooks, when the bus is off); then the sum of the
 * model calls.
 */
function resolveTotals(
  turn: OpenTurn,
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
  const aggregate = turn.llmOutput?.usage;
  if (aggregate !== undefined) {
    let cost = resolveCost({ usage: aggregate, hostCostUsd: turn.llmOutput?.costUsd, ...priced });
    if (cost.source === "unknown" && calls.length > 0) cost = callsCost();
    return { usage: aggregate, cost, source: "llm_output" };
  }
  const measured = [...turn.modelCalls.values()].filter((call) => call.usage !== undefined);
  if (measured.length > 0) {
    const usage = measured.reduce((sum, call) => addUsage(sum, call.usage ?? zeroUsage()), zeroUsage());
    return { usage, cost: callsCost(), source: "model.calls" };
  }
  return { usage: zeroUsage(), cost: { ...UNKNOWN_COST }, source: "none" };
}

function toModelCall(turn: OpenTurn, call: ModelCallState, pricing: PriceTable | undefined): ModelCall {
  const record: ModelCall = {
    callId: call.callId,
    usage: call.usage ?? zeroUsage(),
    cost: resolveCost({
      usage: call.usage,
      hostCostUsd: call.hostCostUsd,
      provider: call.provider ?? turn.provider,
      model: call.model ?? turn.model,
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
  assign(record, "spanId", call.spanId);
  assign(record, "parentSpanId", call.parentSpanId);
  assign(record, "requestBytes", call.requestBytes);
  assign(record, "responseBytes", call.responseBytes);
  return record;
}

function toToolCall(tool: ToolCallState): ToolCall {
  const record: ToolCall = { toolCallId: tool.toolCallId, toolName: tool.toolName, outcome: tool.outcome };
  assign(record, "toolSource", tool.toolSource);
  assign(record, "toolOwner", tool.toolOwner);
  const times = timesOf(tool);
  assign(record, "startedAt", times.startedAt);
  assign(record, "endedAt", times.endedAt);
  assign(record, "durationMs", tool.durationMs);
  assign(record, "errorCategory", tool.errorCategory);
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

/** Model calls in the host's order (`:model:N`), then by start time, then by id: arrival-independent. */
function sortModelCalls(turn: OpenTurn): ModelCallState[] {
  return [...turn.modelCalls.values()].sort(
    (left, right) =>
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

function agentOfSessionKey(sessionKey: string | undefined): string | undefined {
  if (typeof sessionKey !== "string") return undefined;
  const match = /^agent:([^:]{1,128}):./.exec(sessionKey);
  return match?.[1];
}
