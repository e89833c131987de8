/** How one accepted bus event changes an open turn. `model.usage` is joined by the assembler first. */

import type { TurnEvent } from "../events/read-event.js";
import { readField, readNumber, readString } from "../events/read-event.js";
import { type AttemptKey, type AttemptStart, attemptFor } from "./attempts.js";
import {
  type AttemptState,
  fillIdentity,
  modelCallFor,
  noteTimestamp,
  type OpenTurn,
  readCount,
  readSpan,
  type TurnLimits,
  toolCallFor,
} from "./open-turn.js";
import { normalizeUsage, readUsageCost } from "./usage.js";

/** Applies a validated bus event to its turn. */
export function applyBusEvent(turn: OpenTurn, event: TurnEvent, limits: TurnLimits): void {
  const ts = readNumber(event, "ts");
  turn.busObserved = true;
  switch (event.type) {
    case "model.usage":
      noteTimestamp(turn, ts, undefined);
      applyModelUsage(turn, event);
      return;
    case "model.failover":
      noteTimestamp(turn, ts, undefined);
      applyFailover(turn, event, ts);
      return;
    case "session.state":
      // the host's own "this run is over"; joined by trace, so it needs no attempt
      return;
  }
  const span = readSpan(event);
  const { key, start } = attemptKeyOf(event.type, span);
  const attempt = attemptFor(turn, key, start, limits.maxAttempts);
  noteTimestamp(turn, ts, attempt);
  switch (event.type) {
    case "run.started":
    case "run.completed": {
      // run.* carry the canonical session key and the run's own span
      fillIdentity(turn, event, true);
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
      attempt.runDurationMs = readCount(event, "durationMs") ?? attempt.runDurationMs;
      attempt.hostOutcome = readString(event, "outcome", 64) ?? attempt.hostOutcome;
      attempt.hostErrorCategory = readString(event, "errorCategory", 128) ?? attempt.hostErrorCategory;
      return;
    }
    case "harness.run.started":
      fillIdentity(turn, event);
      noteModel(attempt, event);
      attempt.harnessStarted = true;
      attempt.harnessStartedAt = minimum(attempt.harnessStartedAt, ts);
      return;
    case "harness.run.completed":
    case "harness.run.error":
      fillIdentity(turn, event);
      attempt.harnessEnded = true;
      attempt.harnessEndedAt = maximum(attempt.harnessEndedAt, ts);
      if (event.type === "harness.run.completed") {
        attempt.harnessOutcome = readString(event, "outcome", 64) ?? attempt.harnessOutcome;
        attempt.harnessItemsStarted = readCount(readField(event, "itemLifecycle"), "startedCount");
      } else {
        attempt.harnessError = {
          category: readString(event, "errorCategory", 128),
          phase: readString(event, "phase", 64),
        };
      }
      return;
    case "context.assembled":
      fillIdentity(turn, event);
      return;
    case "model.call.started":
    case "model.call.completed":
    case "model.call.error":
      fillIdentity(turn, event);
      applyModelCallEvent(turn, attempt, event, ts, limits);
      return;
    case "tool.execution.started":
    case "tool.execution.completed":
    case "tool.execution.error":
    case "tool.execution.blocked":
      fillIdentity(turn, event);
      applyToolEvent(turn, event, ts, limits);
      return;
  }
}

/**
 * The span ids an event names its attempt by: harness events their own span; `run.*` their own
 * span and their parent (the harness); calls, tools and context their parent (the run span).
 */
function attemptKeyOf(
  type: TurnEvent["type"],
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
  event: TurnEvent,
  ts: number | undefined,
  limits: TurnLimits,
): void {
  const span = readSpan(event);
  const call = modelCallFor(turn, attempt, readString(event, "callId", 512) ?? "", span.spanId, limits);
  if (call === undefined) return;
  call.provider = readString(event, "provider") ?? call.provider;
  call.model = readString(event, "model") ?? call.model;
  call.api = readString(event, "api", 64) ?? call.api;
  call.spanId = span.spanId ?? call.spanId;
  call.parentSpanId = span.parentSpanId ?? call.parentSpanId;
  if (event.type === "model.call.started") {
    call.busStarted = true;
    call.startedAt = ts ?? call.startedAt;
    return;
  }
  call.busEnded = true;
  call.endedAt = ts ?? call.endedAt;
  call.durationMs = readCount(event, "durationMs") ?? call.durationMs;
  call.timeToFirstByteMs = readCount(event, "timeToFirstByteMs") ?? call.timeToFirstByteMs;
  call.requestBytes = readCount(event, "requestPayloadBytes") ?? call.requestBytes;
  call.responseBytes = readCount(event, "responseStreamBytes") ?? call.responseBytes;
  const rawUsage = readField(event, "usage");
  call.usage = normalizeUsage(rawUsage) ?? call.usage;
  call.hostCostUsd = readUsageCost(rawUsage) ?? call.hostCostUsd;
  if (event.type === "model.call.completed") {
    call.outcome = "success";
    return;
  }
  call.outcome = "error";
  call.errorCategory = readString(event, "errorCategory", 128) ?? call.errorCategory;
  call.failureKind = readString(event, "failureKind", 64) ?? call.failureKind;
}

function applyToolEvent(turn: OpenTurn, event: TurnEvent, ts: number | undefined, limits: TurnLimits): void {
  const toolName = readString(event, "toolName") ?? "unknown";
  const isEnd = event.type !== "tool.execution.started";
  const tool = toolCallFor(turn, toolName, readString(event, "toolCallId", 512), isEnd, limits);
  if (tool === undefined) return;
  tool.toolSource = readString(event, "toolSource", 64) ?? tool.toolSource;
  tool.toolOwner = readString(event, "toolOwner") ?? tool.toolOwner;
  const span = readSpan(event);
  tool.spanId = span.spanId ?? tool.spanId;
  tool.parentSpanId = span.parentSpanId ?? tool.parentSpanId;
  if (!isEnd) {
    tool.busStarted = true;
    tool.startedAt = ts ?? tool.startedAt;
    return;
  }
  tool.busEnded = true;
  tool.endedAt = ts ?? tool.endedAt;
  tool.durationMs = readCount(event, "durationMs") ?? tool.durationMs;
  if (event.type === "tool.execution.completed") tool.outcome = "success";
  if (event.type === "tool.execution.error") {
    tool.outcome = "error";
    tool.errorCategory = readString(event, "errorCategory", 128) ?? tool.errorCategory;
  }
  if (event.type === "tool.execution.blocked") {
    tool.outcome = "blocked";
    tool.errorCategory = readString(event, "deniedReason", 128) ?? tool.errorCategory;
  }
}

/** The run's totals as the gateway computed them. Its session key may be a raw header value. */
function applyModelUsage(turn: OpenTurn, event: TurnEvent): void {
  const usage = normalizeUsage(readField(event, "usage"));
  if (usage === undefined) return;
  const context = readField(event, "context");
  turn.modelUsage = {
    usage,
    costUsd: readCount(event, "costUsd"),
    context:
      context !== null && typeof context === "object"
        ? { limit: readCount(context, "limit"), used: readCount(context, "used") }
        : undefined,
  };
  turn.usageSessionKey = readString(event, "sessionKey") ?? turn.usageSessionKey;
  // the rest of its identity only fills gaps: sessionKey must not override the canonical one
  for (const key of ["sessionId", "agentId", "channel", "provider", "model"] as const) {
    if (turn[key] === undefined) turn[key] = readString(event, key);
  }
}

/** A fallback from one model to another (`model.failover`), kept in order, at most 16 per turn. */
function applyFailover(turn: OpenTurn, event: TurnEvent, ts: number | undefined): void {
  if (turn.fallbacks.length >= 16) return;
  const at = ts;
  if (turn.fallbacks.some((fallback) => fallback.at !== undefined && fallback.at === at)) return;
  turn.fallbacks.push({
    fromProvider: readString(event, "fromProvider"),
    fromModel: readString(event, "fromModel"),
    toProvider: readString(event, "toProvider"),
    toModel: readString(event, "toModel"),
    reason: readString(event, "reason", 64),
    at,
  });
}

/** The model an attempt ran (a fallback attempt names another one than the first). */
function noteModel(attempt: AttemptState, event: TurnEvent): void {
  attempt.provider = readString(event, "provider") ?? attempt.provider;
  attempt.model = readString(event, "model") ?? attempt.model;
}

function minimum(current: number | undefined, value: number | undefined): number | undefined {
  if (value === undefined) return current;
  return current === undefined ? value : Math.min(current, value);
}

function maximum(current: number | undefined, value: number | undefined): number | undefined {
  if (value === undefined) return current;
  return current === undefined ? value : Math.max(current, value);
}
