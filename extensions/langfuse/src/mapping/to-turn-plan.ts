/**
 * A turn as the plan of one Langfuse trace: an `agent` root named after agent and channel, a
 * `generation` per model call and a `tool` (or `retriever`) observation per tool call, with the
 * trace-level fields (name, session, user, tags, metadata) the SDK propagates to every span. Pure:
 * the same turn gives the same plan, ids included; the transport turns it into spans with the SDK.
 */
import {
  type ModelCall,
  type ToolCall,
  type Turn,
  toCallFailureText,
  toErrorText,
  toTurnFailureText,
} from "@clawscope/kit";
import type { LangfuseObservationAttributes, LangfuseObservationType } from "@langfuse/tracing";
import { toTurnObservationIds } from "./ids.js";
import type { ModelParameterLookup } from "./model-parameters.js";
import { toToolObservationType } from "./tool-kind.js";
import { toCostDetails, toUsageDetails } from "./usage-details.js";

/** Options of {@link toTurnPlan}. */
export interface TurnPlanOptions {
  /** Keyed hash of ids (the start context's `hashId`): raw session and user ids never leave. */
  hashId: (id: string | undefined) => string | undefined;
  /** Put captured content on observations. The kit fills `content` only when capture is on. */
  captureContent: boolean;
  environment?: string;
  release?: string;
  /** Model parameters the gateway's config declares (see `createModelParameterLookup`). */
  modelParameters?: ModelParameterLookup;
}

/** One observation to create: an OTel span the SDK's attribute helpers will describe. */
export interface ObservationPlan {
  spanId: string;
  /** Absent on the root. */
  parentSpanId?: string;
  name: string;
  type: LangfuseObservationType;
  startTimeMs: number;
  endTimeMs: number;
  /** What `createObservationAttributes(type, attributes)` encodes. */
  attributes: LangfuseObservationAttributes;
  /** Set when the observation failed: the OTel span status message (Langfuse reads the level first). */
  errorMessage?: string;
}

/** One turn's trace. */
export interface TurnPlan {
  turnId: string;
  traceId: string;
  /** The trace's name, also the root observation's: `<agent> · <channel>`. */
  traceName: string;
  /** Hashed (unless raw ids are on); absent when the turn has none or it is too long to propagate. */
  sessionId?: string;
  userId?: string;
  tags: string[];
  /** `langfuse.trace.metadata.*`: strings of at most 200 characters, as the SDK propagates them. */
  metadata: Record<string, string>;
  /** Root first, then model calls, then tool calls. */
  observations: ObservationPlan[];
}

/** The SDK drops propagated strings (session, user, tags, metadata values) longer than this. */
export const MAX_PROPAGATED_CHARS = 200;
/** Longest status message: enough for a category and a failure kind. */
const MAX_STATUS_CHARS = 256;

/** Maps a turn to its trace plan. Never throws on a well-typed turn. */
export function toTurnPlan(turn: Turn, options: TurnPlanOptions): TurnPlan {
  const ids = toTurnObservationIds(turn);
  const traceName = toTraceName(turn);
  const turnStart = finite(turn.startedAt, 0);
  const turnEnd = Math.max(turnStart, finite(turn.endedAt, turnStart));
  const clamp = (start: number, end: number) => {
    // children stay inside the root, or the trace view draws them past its end
    const startTimeMs = Math.min(Math.max(start, turnStart), turnEnd);
    return { startTimeMs, endTimeMs: Math.min(Math.max(end, startTimeMs), turnEnd) };
  };
  const observations: ObservationPlan[] = [
    {
      spanId: ids.rootSpanId,
      name: traceName,
      type: "agent",
      startTimeMs: turnStart,
      endTimeMs: turnEnd,
      ...toRootAttributes(turn, options),
    },
  ];
  const totalsCarrier = toTotalsCarrier(turn);
  turn.modelCalls.forEach((call, index) => {
    const [start, end] = callTimes(call, turnStart, turnEnd);
    observations.push({
      spanId: ids.modelCallSpanIds[index] ?? "",
      parentSpanId: ids.rootSpanId,
      name: toGenerationName(call.model ?? turn.model),
      type: "generation",
      ...clamp(start, end),
      ...toGenerationAttributes(call, turn, options, index === totalsCarrier),
    });
  });
  turn.toolCalls.forEach((call, index) => {
    const [start, end] = callTimes(call, turnStart, turnEnd);
    observations.push({
      spanId: ids.toolCallSpanIds[index] ?? "",
      parentSpanId: ids.rootSpanId,
      name: String(call.toolName || "tool").slice(0, MAX_PROPAGATED_CHARS),
      type: toToolObservationType(call.toolName),
      ...clamp(start, end),
      ...toToolAttributes(call, options),
    });
  });
  return {
    turnId: turn.id,
    traceId: ids.traceId,
    traceName,
    ...defined({
      sessionId: propagated(options.hashId(turn.sessionKey ?? turn.sessionId)),
      userId: propagated(options.hashId(turn.senderId)),
    }),
    tags: toTags(turn, options),
    metadata: toTraceMetadata(turn),
    observations,
  };
}

/** `chat <model>`, the GenAI conventions' span name for a chat call. */
function toGenerationName(model: string | undefined): string {
  return (model ? `chat ${model}` : "chat").slice(0, MAX_PROPAGATED_CHARS);
}

/** `<agent> · <channel>`, or the agent alone when the turn names no channel. */
export function toTraceName(turn: Pick<Turn, "agentId" | "channel">): string {
  const agent = turn.agentId || "agent";
  const name = turn.channel ? `${agent} · ${turn.channel}` : agent;
  return name.slice(0, MAX_PROPAGATED_CHARS);
}

function toRootAttributes(
  turn: Turn,
  options: TurnPlanOptions,
): Pick<ObservationPlan, "attributes" | "errorMessage"> {
  const attributes: LangfuseObservationAttributes = {
    metadata: defined({
      run_id: turn.runId,
      trigger: turn.trigger,
      model_calls: turn.modelCalls.length,
      tool_calls: turn.toolCalls.length,
      attempts: turn.attempts > 1 ? turn.attempts : undefined,
      http_status: turn.outcome === "error" ? turn.error?.status : undefined,
      context_limit: turn.context?.limit,
      context_used: turn.context?.used,
    }),
  };
  if (options.captureContent) {
    const input = turn.modelCalls.find((call) => call.content?.input !== undefined)?.content?.input;
    const output = [...turn.modelCalls].reverse().find((call) => call.content?.output !== undefined)
      ?.content?.output;
    if (input !== undefined) attributes.input = input;
    if (output !== undefined) attributes.output = output;
  }
  if (turn.outcome === "error") {
    // the fixed reason (or, with content capture on, the provider's own redacted line) says more than the category
    const message = status(["error", turn.error?.category, toErrorText(toTurnFailureText(turn))]);
    return { attributes: { ...attributes, level: "ERROR", statusMessage: message }, errorMessage: message };
  }
  if (turn.outcome === "aborted" || turn.outcome === "blocked") {
    return { attributes: { ...attributes, level: "WARNING", statusMessage: turn.outcome } };
  }
  if (turn.incomplete) {
    const message = status(["incomplete", turn.incomplete.reason]);
    return { attributes: { ...attributes, level: "WARNING", statusMessage: message } };
  }
  return { attributes };
}

/**
 * The model call whose generation carries the run's totals: the last one, when the bus was silent
 * and the host reported figures only for the whole run (`llm_output`), none for its calls. Langfuse
 * totals a trace from its observations, so without this the trace would show no tokens and no cost.
 */
function toTotalsCarrier(turn: Turn): number {
  if (turn.usageSource !== "llm_output") return -1;
  const counted = (usage: ModelCall["usage"], cost: ModelCall["cost"]) =>
    toUsageDetails(usage) !== undefined || toCostDetails(cost) !== undefined;
  if (turn.modelCalls.some((call) => counted(call.usage, call.cost))) return -1;
  return counted(turn.usage, turn.cost) ? turn.modelCalls.length - 1 : -1;
}

function toGenerationAttributes(
  call: ModelCall,
  turn: Turn,
  options: TurnPlanOptions,
  carriesTurnTotals: boolean,
): Pick<ObservationPlan, "attributes" | "errorMessage"> {
  const provider = call.provider ?? turn.provider;
  const model = call.model ?? turn.model;
  const start = call.startedAt;
  const firstByte = call.timeToFirstByteMs;
  const attributes: LangfuseObservationAttributes = defined({
    model,
    usageDetails: toUsageDetails(carriesTurnTotals ? turn.usage : call.usage),
    costDetails: toCostDetails(carriesTurnTotals ? turn.cost : call.cost),
    modelParameters: options.modelParameters?.(provider, model),
    completionStartTime:
      isNumber(start) && isNumber(firstByte) && firstByte >= 0 ? new Date(start + firstByte) : undefined,
    metadata: defined({
      provider,
      api: call.api,
      cost_source: (carriesTurnTotals ? turn.cost : call.cost)?.source ?? "unknown",
      // the figures are the whole run's, reported once at its end, not this call's own
      usage_scope: carriesTurnTotals ? "turn" : undefined,
      time_to_first_byte_ms: call.timeToFirstByteMs,
      request_bytes: call.requestBytes,
      response_bytes: call.responseBytes,
      error_category: call.errorCategory,
      failure_kind: call.failureKind,
      http_status: call.errorStatus,
      attempt: call.attempt > 1 ? call.attempt : undefined,
    }),
  });
  if (options.captureContent && call.content) {
    if (call.content.input !== undefined) attributes.input = call.content.input;
    if (call.content.output !== undefined) attributes.output = call.content.output;
  }
  if (call.outcome === "error") {
    const message = status([
      call.errorCategory ?? "provider error",
      toErrorText(toCallFailureText(call, turn)),
    ]);
    return { attributes: { ...attributes, level: "ERROR", statusMessage: message }, errorMessage: message };
  }
  if (call.outcome === "pending") {
    return {
      attributes: {
        ...attributes,
        level: "WARNING",
        statusMessage: "no completion event before the turn closed",
      },
    };
  }
  return { attributes };
}

function toToolAttributes(
  call: ToolCall,
  options: TurnPlanOptions,
): Pick<ObservationPlan, "attributes" | "errorMessage"> {
  const attributes: LangfuseObservationAttributes = {
    metadata: defined({
      tool_call_id: call.toolCallId,
      tool_source: call.toolSource,
      tool_owner: call.toolOwner,
      error_category: call.errorCategory,
    }),
  };
  if (options.captureContent && call.content) {
    if (call.content.input !== undefined) attributes.input = call.content.input;
    if (call.content.output !== undefined) attributes.output = call.content.output;
  }
  if (call.outcome === "error") {
    const message = status([call.errorCategory ?? "tool error"]);
    return { attributes: { ...attributes, level: "ERROR", statusMessage: message }, errorMessage: message };
  }
  if (call.outcome === "blocked") {
    return { attributes: { ...attributes, level: "WARNING", statusMessage: "blocked" } };
  }
  if (call.outcome === "pending") {
    return {
      attributes: { ...attributes, level: "WARNING", statusMessage: "no end event before the turn closed" },
    };
  }
  return { attributes };
}

function toTags(turn: Turn, options: TurnPlanOptions): string[] {
  const tags = [
    turn.agentId ? `agent:${turn.agentId}` : undefined,
    turn.channel ? `channel:${turn.channel}` : undefined,
    options.environment ? `environment:${options.environment}` : undefined,
    options.release ? `release:${options.release}` : undefined,
  ];
  return tags.filter((tag): tag is string => tag !== undefined && tag.length <= MAX_PROPAGATED_CHARS);
}

function toTraceMetadata(turn: Turn): Record<string, string> {
  const metadata = defined({
    outcome: turn.outcome,
    host_outcome: turn.hostOutcome,
    usage_source: turn.usageSource,
    cost_source: turn.cost?.source,
    provider: turn.provider,
    model: turn.model,
    trigger: turn.trigger,
    incomplete_reason: turn.incomplete?.reason,
    incomplete_missing: turn.incomplete?.missing.join(", "),
    openclaw_trace_id: turn.traceId,
  });
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) {
    const text = String(value);
    // a long list is cut rather than dropped (the SDK would drop it): the head still says what was missing
    result[key] = text.length > MAX_PROPAGATED_CHARS ? `${text.slice(0, MAX_PROPAGATED_CHARS - 1)}…` : text;
  }
  return result;
}

/** Start and end of a call: its own times where known, else derived from its duration or the turn. */
function callTimes(
  call: Pick<ModelCall, "startedAt" | "endedAt" | "durationMs">,
  turnStart: number,
  turnEnd: number,
): [number, number] {
  const start = isNumber(call.startedAt)
    ? call.startedAt
    : isNumber(call.endedAt) && isNumber(call.durationMs)
      ? call.endedAt - call.durationMs
      : turnStart;
  const end = isNumber(call.endedAt)
    ? call.endedAt
    : isNumber(call.durationMs)
      ? start + call.durationMs
      : turnEnd;
  return [start, end];
}

function status(parts: Array<string | undefined>): string {
  return parts
    .filter((part): part is string => typeof part === "string" && part !== "")
    .join(": ")
    .slice(0, MAX_STATUS_CHARS);
}

function propagated(value: string | undefined): string | undefined {
  return value !== undefined && value !== "" && value.length <= MAX_PROPAGATED_CHARS ? value : undefined;
}

function isNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

function finite(value: unknown, fallback: number): number {
  return isNumber(value) ? value : fallback;
}

/** Drops undefined values so absent fields stay absent (the SDK would skip them, tests compare exactly). */
function defined<T extends Record<string, unknown>>(
  record: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) if (value !== undefined) result[key] = value;
  return result as { [K in keyof T]?: Exclude<T[K], undefined> };
}
