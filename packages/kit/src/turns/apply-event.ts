/** How one accepted bus event changes an open turn. `model.usage` is joined by the assembler first. */

import type { TurnEvent } from "../events/read-event.js";
import { readField, readNumber, readString } from "../events/read-event.js";
import {
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
  noteTimestamp(turn, ts);
  switch (event.type) {
    case "run.started":
    case "run.completed": {
      // run.* carry the canonical session key and the run's own span
      fillIdentity(turn, event, true);
      const span = readSpan(event);
      turn.spanId = span.spanId ?? turn.spanId;
      turn.parentSpanId = span.parentSpanId ?? turn.parentSpanId;
      if (event.type === "run.started") {
        turn.runStarted = true;
        turn.runStartedAt = ts ?? turn.runStartedAt;
        return;
      }
      turn.runCompleted = true;
      turn.runEndedAt = ts ?? turn.runEndedAt;
      turn.runDurationMs = readCount(event, "durationMs") ?? turn.runDurationMs;
      turn.hostOutcome = readString(event, "outcome", 64) ?? turn.hostOutcome;
      turn.hostErrorCategory = readString(event, "errorCategory", 128) ?? turn.hostErrorCategory;
      return;
    }
    case "harness.run.started":
      fillIdentity(turn, event);
      turn.harnessStartedAt = ts ?? turn.harnessStartedAt;
      return;
    case "harness.run.completed":
    case "harness.run.error":
      fillIdentity(turn, event);
      turn.harnessEnded = true;
      turn.harnessEndedAt = ts ?? turn.harnessEndedAt;
      if (event.type === "harness.run.completed") {
        turn.harnessOutcome = readString(event, "outcome", 64) ?? turn.harnessOutcome;
        turn.harnessItemsStarted = readCount(readField(event, "itemLifecycle"), "startedCount");
      } else {
        turn.harnessError = {
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
      applyModelCallEvent(turn, event, ts, limits);
      return;
    case "tool.execution.started":
    case "tool.execution.completed":
    case "tool.execution.error":
    case "tool.execution.blocked":
      fillIdentity(turn, event);
      applyToolEvent(turn, event, ts, limits);
      return;
    case "model.usage":
      applyModelUsage(turn, event);
      return;
  }
}

function applyModelCallEvent(
  turn: OpenTurn,
  event: TurnEvent,
  ts: number | undefined,
  limits: TurnLimits,
): void {
  const call = modelCallFor(turn, readString(event, "callId", 512) ?? "", limits);
  if (call === undefined) return;
  call.provider = readString(event, "provider") ?? call.provider;
  call.model = readString(event, "model") ?? call.model;
  call.api = readString(event, "api", 64) ?? call.api;
  const span = readSpan(event);
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
