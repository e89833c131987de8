/**
 * The mutable state of a turn still being assembled, and how bus events and hooks fill it in.
 * Everything stored is extracted (strings cut, numbers checked); raw host objects are never kept.
 *
 * A turn is one run id, but the host may run it several times: a retried provider call (429, 5xx)
 * or a fallback to another model re-emits `run.started` … `run.completed` under the same run id and
 * call ids. Each of those is an {@link AttemptState}; model calls belong to an attempt.
 */
import { readField, readPath, readString } from "../events/read-event.js";
import type { Usage } from "./turn.js";
import type { EventIdentity } from "./turn-event-record.js";

/** How a content value is handed to the capture function (undefined: capture is off). */
export type ContentCapture = ((value: unknown, kind: ContentKind) => string | undefined) | undefined;
/** What a captured content value is. */
export type ContentKind = "model-input" | "model-output" | "tool-input" | "tool-output";

/** Where each end of a call or tool was seen: the bus and the hooks report them independently. */
interface LifecycleFlags {
  busStarted: boolean;
  busEnded: boolean;
  hookStarted: boolean;
  hookEnded: boolean;
  /** Receive times of the hooks: used only when the bus gave no host timestamp (clocks differ). */
  hookStartedAt?: number;
  hookEndedAt?: number;
}

/** A model call being assembled: one host call id within one attempt. */
export interface ModelCallState extends LifecycleFlags {
  callId: string;
  attempt: AttemptState;
  /** N of `<runId>:model:N`, the host's own order of calls; Infinity when the id has no such suffix. */
  sequence: number;
  provider?: string;
  model?: string;
  api?: string;
  startedAt?: number;
  endedAt?: number;
  durationMs?: number;
  timeToFirstByteMs?: number;
  requestBytes?: number;
  responseBytes?: number;
  spanId?: string;
  parentSpanId?: string;
  usage?: Usage;
  hostCostUsd?: number;
  outcome: "success" | "error" | "pending";
  errorCategory?: string;
  failureKind?: string;
}

/** A tool execution being assembled. */
export interface ToolCallState extends LifecycleFlags {
  toolCallId: string;
  toolName: string;
  toolSource?: string;
  toolOwner?: string;
  startedAt?: number;
  endedAt?: number;
  durationMs?: number;
  outcome: "success" | "error" | "blocked" | "pending";
  errorCategory?: string;
  /** The hook's error text, raw (bounded); redacted when the turn is finalized. */
  errorText?: string;
  spanId?: string;
  parentSpanId?: string;
  inputContent?: string;
  outputContent?: string;
}

/** What the last assistant message said about how the run ended. */
export interface AssistantEvidence {
  stopReason?: string;
  errorMessage?: string;
  errorType?: string;
}

/** One run of the turn by the host: the first try, a retry, or a fallback to another model. */
export interface AttemptState {
  /** Creation order; attempts are numbered by start time when the turn is closed. */
  created: number;
  /** The host's span of this attempt's harness run, and of its `run.*` span. */
  harnessSpanId?: string;
  runSpanId?: string;
  runStarted: boolean;
  runCompleted: boolean;
  harnessStarted: boolean;
  harnessEnded: boolean;
  /** `llm_output` or `agent_end` seen: the end as the hooks report it. */
  hookEnded: boolean;
  /** `llm_input` seen: the start as the hooks report it. */
  hookStarted: boolean;
  /** Receive time of the attempt's first hook: orders attempts the bus never reported. */
  hookStartedAt?: number;
  runStartedAt?: number;
  harnessStartedAt?: number;
  runEndedAt?: number;
  harnessEndedAt?: number;
  runDurationMs?: number;
  earliestEventAt?: number;
  hostOutcome?: string;
  hostErrorCategory?: string;
  harnessOutcome?: string;
  /** `harness.run.completed.itemLifecycle.startedCount`: how many tool items the harness ran. */
  harnessItemsStarted?: number;
  harnessError?: { category?: string; phase?: string };
  llmOutput?: { usage?: Usage; costUsd?: number; lastAssistant?: AssistantEvidence };
  agentEnd?: { success?: boolean; error?: string; durationMs?: number; lastAssistant?: AssistantEvidence };
  provider?: string;
  model?: string;
}

/** A model fallback the host reported for the turn (`model.failover`). */
export interface FallbackState {
  fromProvider?: string;
  fromModel?: string;
  toProvider?: string;
  toModel?: string;
  reason?: string;
  at?: number;
}

/** A turn being assembled. */
export interface OpenTurn {
  runId: string;
  openedAt: number;
  lastActivityAt: number;
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  sessionKey?: string;
  /** `model.usage`'s session key, which over HTTP is the raw header value: used only as a fallback. */
  usageSessionKey?: string;
  sessionId?: string;
  agentId?: string;
  channel?: string;
  trigger?: string;
  provider?: string;
  model?: string;
  earliestEventAt?: number;
  latestEventAt?: number;
  /** Any bus event seen for this run: then the bus's own end events are awaited. */
  busObserved: boolean;
  /** Every run of the turn by the host, in the order they were first heard of. */
  attempts: AttemptState[];
  /** Receive time of the current attempt's end, while it stays the latest. */
  endSeenAt?: number;
  /** Receive time of the host's own "the run is over" (`session.state` idle for the trace). */
  endMarkerAt?: number;
  fallbacks: FallbackState[];
  modelCalls: Map<string, ModelCallState>;
  toolCalls: Map<string, ToolCallState>;
  unnamedTools: number;
  modelUsage?: { usage: Usage; costUsd?: number; context?: { limit?: number; used?: number } };
  promptContent?: string;
  outputContent?: string;
}

/** Per-turn caps; what goes over them is counted, not stored. */
export interface TurnLimits {
  maxModelCalls: number;
  maxToolCalls: number;
  maxAttempts: number;
  onDroppedModelCall: () => void;
  onDroppedToolCall: () => void;
}

/** Longest error message kept (provider error bodies can be large). */
export const MAX_MESSAGE_LENGTH = 500;

/** A fresh open turn. */
export function createOpenTurn(runId: string, now: number): OpenTurn {
  return {
    runId,
    openedAt: now,
    lastActivityAt: now,
    busObserved: false,
    attempts: [],
    fallbacks: [],
    modelCalls: new Map(),
    toolCalls: new Map(),
    unnamedTools: 0,
  };
}

/** A fresh attempt. */
export function createAttempt(created: number): AttemptState {
  return {
    created,
    runStarted: false,
    runCompleted: false,
    harnessStarted: false,
    harnessEnded: false,
    hookEnded: false,
    hookStarted: false,
  };
}

/** Fills the turn's identity from any event or hook context: first value wins, except `run.*`. */
export function fillIdentity(turn: OpenTurn, identity: EventIdentity, authoritative = false): void {
  for (const key of [
    "sessionKey",
    "sessionId",
    "agentId",
    "channel",
    "trigger",
    "provider",
    "model",
  ] as const) {
    const value = identity[key];
    if (value !== undefined && (authoritative || turn[key] === undefined)) turn[key] = value;
  }
  if (identity.traceId !== undefined && turn.traceId === undefined) turn.traceId = identity.traceId;
}

/** Records a host timestamp (`ts`) so start and end do not depend on arrival order. */
export function noteTimestamp(
  turn: OpenTurn,
  ts: number | undefined,
  attempt: AttemptState | undefined,
): void {
  if (ts === undefined) return;
  if (turn.earliestEventAt === undefined || ts < turn.earliestEventAt) turn.earliestEventAt = ts;
  if (turn.latestEventAt === undefined || ts > turn.latestEventAt) turn.latestEventAt = ts;
  if (attempt !== undefined && (attempt.earliestEventAt === undefined || ts < attempt.earliestEventAt)) {
    attempt.earliestEventAt = ts;
  }
}

/**
 * The model call with this id, created if there is room. A retried call repeats its id, so a call is
 * known by its own span when the input names it (bus events and hooks of one call share it), else
 * by its attempt.
 */
export function modelCallFor(
  turn: OpenTurn,
  attempt: AttemptState,
  callId: string,
  callSpanId: string | undefined,
  limits: TurnLimits,
): ModelCallState | undefined {
  const key =
    callSpanId !== undefined
      ? `span\u0000${callSpanId}\u0000${callId}`
      : `attempt\u0000${attempt.created}\u0000${callId}`;
  const existing = turn.modelCalls.get(key);
  if (existing !== undefined) return existing;
  if (turn.modelCalls.size >= limits.maxModelCalls) {
    limits.onDroppedModelCall();
    return undefined;
  }
  const match = /:model:(\d+)$/.exec(callId);
  const call: ModelCallState = {
    callId,
    attempt,
    sequence: match?.[1] !== undefined ? Number(match[1]) : Number.POSITIVE_INFINITY,
    outcome: "pending",
    busStarted: false,
    busEnded: false,
    hookStarted: false,
    hookEnded: false,
  };
  turn.modelCalls.set(key, call);
  return call;
}

/**
 * The tool execution with this id, created if there is room. Without a `toolCallId`, an end is
 * matched to the oldest pending unnamed execution of the same tool.
 */
export function toolCallFor(
  turn: OpenTurn,
  toolName: string,
  toolCallId: string | undefined,
  isEnd: boolean,
  limits: TurnLimits,
): ToolCallState | undefined {
  if (toolCallId !== undefined) {
    const existing = turn.toolCalls.get(toolCallId);
    if (existing !== undefined) return existing;
  } else if (isEnd) {
    for (const tool of turn.toolCalls.values()) {
      if (
        tool.toolName === toolName &&
        tool.toolCallId.startsWith("unnamed:") &&
        tool.outcome === "pending"
      ) {
        return tool;
      }
    }
  }
  if (turn.toolCalls.size >= limits.maxToolCalls) {
    limits.onDroppedToolCall();
    return undefined;
  }
  turn.unnamedTools += toolCallId === undefined ? 1 : 0;
  const id = toolCallId ?? `unnamed:${toolName}:${turn.unnamedTools}`;
  const tool: ToolCallState = {
    toolCallId: id,
    toolName,
    outcome: "pending",
    busStarted: false,
    busEnded: false,
    hookStarted: false,
    hookEnded: false,
  };
  turn.toolCalls.set(id, tool);
  return tool;
}

/** Span ids from an event's `trace`. */
export function readSpan(source: unknown): { spanId?: string; parentSpanId?: string } {
  const trace = readField(source, "trace");
  return { spanId: readString(trace, "spanId", 64), parentSpanId: readString(trace, "parentSpanId", 64) };
}

/** The evidence in an assistant message (`llm_output.lastAssistant`, `agent_end.messages[]`). */
export function readAssistantEvidence(message: unknown): AssistantEvidence | undefined {
  if (message === null || typeof message !== "object") return undefined;
  return {
    stopReason: readString(message, "stopReason", 64),
    errorMessage: readString(message, "errorMessage", MAX_MESSAGE_LENGTH),
    errorType: readString(message, "errorType", 128),
  };
}

/**
 * The last message with this role in a transcript, scanning from the end. Messages another run
 * wrote (tagged `__openclaw.runId`) are skipped, since `agent_end` carries the whole session.
 */
export function findLastMessage(messages: unknown, role: string, runId: string): unknown {
  if (!Array.isArray(messages)) return undefined;
  const stop = Math.max(0, messages.length - 10_000);
  for (let index = messages.length - 1; index >= stop; index -= 1) {
    const message: unknown = messages[index];
    if (readString(message, "role", 64) !== role) continue;
    const owner = readPath(message, "__openclaw.runId");
    if (typeof owner === "string" && owner !== runId) return undefined;
    return message;
  }
  return undefined;
}
