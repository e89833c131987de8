/**
 * How one turn event changes an open turn. The event was read once into a {@link TurnEventRecord}
 * (`readTurnEvent`); this only decides, field by field, what the record changes. `model.usage` is
 * joined to its turn by the assembler first.
 */
import { type AttemptKey, type AttemptStart, attemptFor } from "./attempts.js";
import {
  type AttemptState,
  fillIdentity,
  modelCallFor,
  noteTimestamp,
  type OpenTurn,
  type TurnLimits,
  toolCallFor,
} from "./open-turn.js";
import type { TurnEventRecord } from "./turn-event-record.js";

/** Applies a turn event's record to its turn. */
export function applyBusEvent(turn: OpenTurn, event: TurnEventRecord, limits: TurnLimits): void {
  const { ts, span } = event;
  turn.busObserved = true;
  switch (event.type) {
    case "model.usage":
      noteTimestamp(turn, ts, undefined);
      applyModelUsage(turn, event);
      return;
    case "model.failover":
      noteTimestamp(turn, ts, undefined);
      applyFailover(turn, event);
      return;
    case "session.state":
      // the host's own "this run is over"; joined by trace, so it needs no attempt
      return;
  }
  const { key, start } = attemptKeyOf(event.type, span);
  const attempt = attemptFor(turn, key, start, limits.maxAttempts);
  noteTimestamp(turn, ts, attempt);
  switch (event.type) {
    case "run.started":
    case "run.completed": {
      // run.* carry the canonical session key and the run's own span
      fillIdentity(turn, event.identity, true);
      noteModel(attempt, event);
      turn.spanId ??= span.spanId;
      turn.parentSpanId ??= span.parentSpanId;
      if (event.type === "run.started") {
        attempt.runStarted = true;
        attempt.runStartedAt = minimum(attempt.runStartedAt, ts);
        return;
      }
      attempt.runCompleted = true;
      attempt.runEndedAt = maximum(attempt.runEndedAt, ts);
      attempt.runDurationMs = event.durationMs ?? attempt.runDurationMs;
      attempt.hostOutcome = event.outcome ?? attempt.hostOutcome;
      attempt.hostErrorCategory = event.errorCategory ?? attempt.hostErrorCategory;
      return;
    }
    case "harness.run.started":
      fillIdentity(turn, event.identity);
      noteModel(attempt, event);
      attempt.harnessStarted = true;
      attempt.harnessStartedAt = minimum(attempt.harnessStartedAt, ts);
      return;
    case "harness.run.completed":
    case "harness.run.error":
      fillIdentity(turn, event.identity);
      attempt.harnessEnded = true;
      attempt.harnessEndedAt = maximum(attempt.harnessEndedAt, ts);
      if (event.type === "harness.run.completed") {
        attempt.harnessOutcome = event.outcome ?? attempt.harnessOutcome;
        attempt.harnessItemsStarted = event.itemsStarted;
      } else {
        attempt.harnessError = { category: event.errorCategory, phase: event.phase };
      }
      return;
    case "context.assembled":
      fillIdentity(turn, event.identity);
      return;
    case "model.call.started":
    case "model.call.completed":
    case "model.call.error":
      fillIdentity(turn, event.identity);
      applyModelCallEvent(turn, attempt, event, limits);
      return;
    case "tool.execution.started":
    case "tool.execution.completed":
    case "tool.execution.error":
    case "tool.execution.blocked":
      fillIdentity(turn, event.identity);
      applyToolEvent(turn, event, limits);
      return;
  }
}

/**
 * The span ids an event names its attempt by: harness events their own span; `run.*` their own
 * span and their parent (the harness); calls, tools and context their parent (the run span).
 */
function attemptKeyOf(
  type: TurnEventRecord["type"],
  span: { spanId?: string; parentSpanId?: string },
): { key: AttemptKey; start: AttemptStart } {
  switch (type) {
    case "harness.run.started":
      return { key: { harnessSpanId: span.spanId }, start: "harness" };
    case "harness.run.completed":
    case "harness.run.error":
      return { key: { harnessSpanId: span.spanId }, start: undefined };
    case "run.started":
      return { key: { runSpanId: span.spanId, harnessSpanId: span.parentSpanId, link: true }, start: "run" };
    case "run.completed":
      return {
        key: { runSpanId: span.spanId, harnessSpanId: span.parentSpanId, link: true },
        start: undefined,
      };
    default:
      return { key: { runSpanId: span.parentSpanId }, start: undefined };
  }
}

function applyModelCallEvent(
  turn: OpenTurn,
  attempt: AttemptState,
  event: TurnEventRecord,
  limits: TurnLimits,
): void {
  const { span, ts } = event;
  const call = modelCallFor(turn, attempt, event.callId ?? "", span.spanId, limits);
  if (call === undefined) return;
  call.provider = event.provider ?? call.provider;
  call.model = event.model ?? call.model;
  call.api = event.api ?? call.api;
  call.spanId = span.spanId ?? call.spanId;
  call.parentSpanId = span.parentSpanId ?? call.parentSpanId;
  if (event.type === "model.call.started") {
    call.busStarted = true;
    call.startedAt = ts ?? call.startedAt;
    return;
  }
  call.busEnded = true;
  call.endedAt = ts ?? call.endedAt;
  call.durationMs = event.durationMs ?? call.durationMs;
  call.timeToFirstByteMs = event.timeToFirstByteMs ?? call.timeToFirstByteMs;
  call.requestBytes = event.requestBytes ?? call.requestBytes;
  call.responseBytes = event.responseBytes ?? call.responseBytes;
  call.usage = event.usage ?? call.usage;
  call.hostCostUsd = event.costUsd ?? call.hostCostUsd;
  if (event.type === "model.call.completed") {
    call.outcome = "success";
    return;
  }
  call.outcome = "error";
  call.errorCategory = event.errorCategory ?? call.errorCategory;
  call.failureKind = event.failureKind ?? call.failureKind;
}

function applyToolEvent(turn: OpenTurn, event: TurnEventRecord, limits: TurnLimits): void {
  const { span, ts } = event;
  const isEnd = event.type !== "tool.execution.started";
  const tool = toolCallFor(turn, event.toolName ?? "unknown", event.toolCallId, isEnd, limits);
  if (tool === undefined) return;
  tool.toolSource = event.toolSource ?? tool.toolSource;
  tool.toolOwner = event.toolOwner ?? tool.toolOwner;
  tool.spanId = span.spanId ?? tool.spanId;
  tool.parentSpanId = span.parentSpanId ?? tool.parentSpanId;
  if (!isEnd) {
    tool.busStarted = true;
    tool.startedAt = ts ?? tool.startedAt;
    return;
  }
  tool.busEnded = true;
  tool.endedAt = ts ?? tool.endedAt;
  tool.durationMs = event.durationMs ?? tool.durationMs;
  if (event.type === "tool.execution.completed") tool.outcome = "success";
  if (event.type === "tool.execution.error") {
    tool.outcome = "error";
    tool.errorCategory = event.errorCategory ?? tool.errorCategory;
  }
  if (event.type === "tool.execution.blocked") {
    tool.outcome = "blocked";
    tool.errorCategory = event.deniedReason ?? tool.errorCategory;
  }
}

/** The run's totals as the gateway computed them. Its session key may be a raw header value. */
function applyModelUsage(turn: OpenTurn, event: TurnEventRecord): void {
  if (event.usage === undefined) return;
  turn.modelUsage = { usage: event.usage, costUsd: event.costUsd, context: event.context };
  turn.usageSessionKey = event.identity.sessionKey ?? turn.usageSessionKey;
  // the rest of its identity only fills gaps: sessionKey must not override the canonical one
  const named = {
    sessionId: event.identity.sessionId,
    agentId: event.identity.agentId,
    channel: event.identity.channel,
    provider: event.provider,
    model: event.model,
  };
  for (const key of ["sessionId", "agentId", "channel", "provider", "model"] as const) {
    if (turn[key] === undefined) turn[key] = named[key];
  }
}

/** A fallback from one model to another (`model.failover`), kept in order, at most 16 per turn. */
function applyFailover(turn: OpenTurn, event: TurnEventRecord): void {
  if (turn.fallbacks.length >= 16) return;
  const at = event.ts;
  if (turn.fallbacks.some((fallback) => fallback.at !== undefined && fallback.at === at)) return;
  turn.fallbacks.push({ ...(event.fallback ?? {}), at });
}

/** The model an attempt ran (a fallback attempt names another one than the first). */
function noteModel(attempt: AttemptState, event: TurnEventRecord): void {
  attempt.provider = event.provider ?? attempt.provider;
  attempt.model = event.model ?? attempt.model;
}

function minimum(current: number | undefined, value: number | undefined): number | undefined {
  if (value === undefined) return current;
  return current === undefined ? value : Math.min(current, value);
}

function maximum(current: number | undefined, value: number | undefined): number | undefined {
  if (value === undefined) return current;
  return current === undefined ? value : Math.max(current, value);
}
