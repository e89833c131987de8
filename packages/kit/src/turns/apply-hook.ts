/**
 * Plugin hooks as turn input. They also fire when diagnostics are off, so a turn can be assembled
 * from hooks alone; when the bus is on, they add what it lacks (errors' text, content).
 */
import { MAX_ID_LENGTH, readCount, readField, readString } from "../events/read-event.js";
import { type AttemptKey, type AttemptStart, attemptFor } from "./attempts.js";
import {
  type ContentCapture,
  fillIdentity,
  findLastMessage,
  MAX_MESSAGE_LENGTH,
  modelCallFor,
  type OpenTurn,
  readAssistantEvidence,
  readSpan,
  type TurnLimits,
  toolCallFor,
} from "./open-turn.js";
import { readIdentity } from "./turn-event-record.js";
import { normalizeUsage, readUsageCost } from "./usage.js";

/** Hooks the assembler reads. `llm_input` is optional: it only supplies the prompt for capture. */
export const ASSEMBLER_HOOKS: ReadonlySet<string> = new Set([
  "model_call_started",
  "model_call_ended",
  "before_tool_call",
  "after_tool_call",
  "llm_input",
  "llm_output",
  "agent_end",
]);

/** A hook call checked for the ids it is joined on. */
export type ReadHookResult = { ok: true; runId: string; traceId?: string } | { ok: false; error: string };

/** Checks a hook's payload and context for the fields the assembler joins on. Never throws. */
export function readHook(name: string, event: unknown, context: unknown): ReadHookResult {
  try {
    if (event === null || typeof event !== "object")
      return { ok: false, error: `${name}: event is not an object` };
    const runId =
      readString(event, "runId", MAX_ID_LENGTH + 1) ?? readString(context, "runId", MAX_ID_LENGTH + 1);
    if (runId === undefined) return { ok: false, error: `${name}: "runId" missing in event and context` };
    if (runId.length > MAX_ID_LENGTH)
      return { ok: false, error: `${name}: "runId" longer than ${MAX_ID_LENGTH}` };
    if (name.startsWith("model_call_") && readString(event, "callId", MAX_ID_LENGTH) === undefined) {
      return { ok: false, error: `${name}: "callId" missing` };
    }
    if (name.endsWith("_tool_call") && toolNameOf(event, context) === undefined) {
      return { ok: false, error: `${name}: "toolName" missing in event and context` };
    }
    return { ok: true, runId, traceId: readString(readField(context, "trace"), "traceId", 128) };
  } catch {
    return { ok: false, error: `${name}: hook payload could not be read` };
  }
}

/** Applies a checked hook to its turn. Hooks carry no host timestamp: `now` stands in. */
export function applyHook(
  turn: OpenTurn,
  name: string,
  event: unknown,
  context: unknown,
  now: number,
  limits: TurnLimits,
  capture: ContentCapture,
): void {
  fillIdentity(turn, readIdentity(context));
  const { key, start } = attemptKeyOf(name, context);
  const attempt = attemptFor(turn, key, start, limits.maxAttempts);
  if (attempt.hookStartedAt === undefined || now < attempt.hookStartedAt) attempt.hookStartedAt = now;
  switch (name) {
    case "model_call_started":
    case "model_call_ended": {
      const callId = readString(event, "callId", MAX_ID_LENGTH) ?? "";
      const call = modelCallFor(turn, attempt, callId, readSpan(context).spanId, limits);
      if (call === undefined) return;
      call.provider ??= readString(event, "provider");
      call.model ??= readString(event, "model");
      call.api ??= readString(event, "api", 64);
      if (name === "model_call_started") {
        call.hookStarted = true;
        call.hookStartedAt ??= now;
        return;
      }
      call.hookEnded = true;
      call.hookEndedAt ??= now;
      call.durationMs ??= readCount(event, "durationMs");
      call.timeToFirstByteMs ??= readCount(event, "timeToFirstByteMs");
      call.requestBytes ??= readCount(event, "requestPayloadBytes");
      call.responseBytes ??= readCount(event, "responseStreamBytes");
      // the bus's own end event is authoritative when it came first
      if (!call.busEnded) {
        const outcome = readString(event, "outcome", 64);
        if (outcome === "error") {
          call.outcome = "error";
          call.errorCategory ??= readString(event, "errorCategory", 128);
          call.failureKind ??= readString(event, "failureKind", 64);
        } else if (outcome !== undefined) {
          call.outcome = "success";
        }
      }
      return;
    }
    case "before_tool_call":
    case "after_tool_call": {
      const toolCallId =
        readString(event, "toolCallId", MAX_ID_LENGTH) ?? readString(context, "toolCallId", MAX_ID_LENGTH);
      const isEnd = name === "after_tool_call";
      const tool = toolCallFor(turn, toolNameOf(event, context) ?? "unknown", toolCallId, isEnd, limits);
      if (tool === undefined) return;
      if (capture !== undefined && tool.inputContent === undefined) {
        tool.inputContent = capture(readField(event, "params"), "tool-input");
      }
      if (!isEnd) {
        tool.hookStarted = true;
        tool.hookStartedAt ??= now;
        return;
      }
      tool.hookEnded = true;
      tool.hookEndedAt ??= now;
      tool.durationMs ??= readCount(event, "durationMs");
      const error = readField(event, "error");
      if (!tool.busEnded) tool.outcome = error !== undefined && error !== null ? "error" : "success";
      if (tool.outcome === "error" && tool.errorCategory === undefined && typeof error === "string") {
        tool.errorCategory = "error";
      }
      if (tool.errorText === undefined) tool.errorText = toRawErrorText(error);
      if (capture !== undefined) {
        tool.outputContent = capture(
          error !== undefined && error !== null ? error : readField(event, "result"),
          "tool-output",
        );
      }
      return;
    }
    case "llm_input":
      attempt.hookStarted = true;
      if (capture !== undefined) turn.promptContent ??= capture(readField(event, "prompt"), "model-input");
      return;
    case "llm_output": {
      attempt.hookEnded = true;
      const rawUsage = readField(event, "usage");
      const lastAssistant = readField(event, "lastAssistant");
      // once per attempt: its own calls' usage (a retried run sums them, as model.usage does)
      attempt.llmOutput = {
        usage: normalizeUsage(rawUsage),
        costUsd: readUsageCost(rawUsage),
        lastAssistant: readAssistantEvidence(lastAssistant),
      };
      if (capture !== undefined) {
        const content = readField(lastAssistant, "content") ?? readField(event, "assistantTexts");
        turn.outputContent = capture(content, "model-output") ?? turn.outputContent;
      }
      return;
    }
    case "agent_end": {
      attempt.hookEnded = true;
      const messages = readField(event, "messages");
      const success = readField(event, "success");
      const lastAssistant = findLastMessage(messages, "assistant", turn.runId);
      attempt.agentEnd = {
        success: typeof success === "boolean" ? success : undefined,
        error: readString(event, "error", 500),
        durationMs: readCount(event, "durationMs"),
        lastAssistant: readAssistantEvidence(lastAssistant),
      };
      if (capture !== undefined) {
        const lastUser = findLastMessage(messages, "user", turn.runId);
        if (lastUser !== undefined)
          turn.promptContent ??= capture(readField(lastUser, "content"), "model-input");
        if (lastAssistant !== undefined) {
          turn.outputContent ??= capture(readField(lastAssistant, "content"), "model-output");
        }
      }
      return;
    }
  }
}

/**
 * The span ids a hook's context names its attempt by: model-call hooks carry the call's span (its
 * parent is the run span), `before_tool_call` the run span, and the conversation hooks the harness
 * span. `after_tool_call` carries none.
 */
function attemptKeyOf(name: string, context: unknown): { key: AttemptKey; start: AttemptStart } {
  const span = readSpan(context);
  switch (name) {
    case "model_call_started":
    case "model_call_ended":
      return { key: { runSpanId: span.parentSpanId }, start: undefined };
    case "before_tool_call":
      // its context names the run span and, as its parent, the harness span: a link
      return {
        key: { runSpanId: span.spanId, harnessSpanId: span.parentSpanId, link: true },
        start: undefined,
      };
    case "llm_input":
      return { key: { harnessSpanId: span.spanId }, start: "hook" };
    case "llm_output":
    case "agent_end":
      return { key: { harnessSpanId: span.spanId }, start: undefined };
    default:
      return { key: {}, start: undefined };
  }
}

function toolNameOf(event: unknown, context: unknown): string | undefined {
  return readString(event, "toolName") ?? readString(context, "toolName");
}

/** A hook's `error` as text: a string, or an error-like object's `message`; bounded before redaction. */
function toRawErrorText(error: unknown): string | undefined {
  const text =
    typeof error === "string"
      ? error
      : typeof error === "object" &&
          error !== null &&
          typeof (error as { message?: unknown }).message === "string"
        ? (error as { message: string }).message
        : undefined;
  return text === undefined || text === "" ? undefined : text.slice(0, MAX_MESSAGE_LENGTH * 8);
}
