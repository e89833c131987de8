/**
 * The host's operational events — sessions, messages, queue lanes, webhooks, tool loops, blocked
 * tools, large payloads and gateway health — read once, field by field, into a typed union. The
 * runtime does this before any extension sees an event, so an extension's `onEvent` receives an
 * {@link OperationalEvent} and never parses the host's payload again.
 *
 * A field the host's type marks as required that is missing or of the wrong kind makes the whole
 * event malformed (`undefined`); optional fields that are malformed are left out. Strings are bounded
 * (names and ids longer than their bound are refused, error and reason text is cut), numbers must be finite and non-negative, the trace context
 * must be W3C hex (lower-cased). Ids of sessions, messages and chats stay raw: extensions hash them
 * with the start context's `hashId`. Text that came from the host (`error`, `reason`) is bounded
 * here and redacted by whoever exports or stores it.
 */
import { readCount, readField, readId, readNumber, readString, readText } from "./read-event.js";

/** Fields every operational event carries. */
export interface OperationalEventBase {
  /** Host time of the event (epoch ms). */
  ts: number;
  /** Process-local sequence number; part of the event's identity when present. */
  seq?: number;
  /** The host's W3C trace context (32 and 16 lower-case hex digits), when it attached one. */
  trace?: { traceId: string; spanId?: string };
  /** `sessionKey`, else `sessionId`, raw (hash it before it leaves the process). */
  session?: string;
}

/** A stuck, stalled or long-running session, as the host's liveness check reports it. */
interface SessionAttention {
  state: string;
  ageMs: number;
  classification?: string;
  queueDepth?: number;
  reason?: string;
  activeWorkKind?: string;
  activeToolName?: string;
  lastProgressAgeMs?: number;
}

/** One operational event, by `type`. */
export type OperationalEvent = OperationalEventBase &
  (
    | { type: "webhook.received"; channel: string; updateType?: string; chatId?: string }
    | {
        type: "webhook.processed";
        channel: string;
        updateType?: string;
        chatId?: string;
        durationMs?: number;
      }
    | { type: "webhook.error"; channel: string; updateType?: string; chatId?: string; error: string }
    | { type: "message.received"; source: string; channel?: string; messageId?: string; chatId?: string }
    | { type: "message.queued"; source: string; channel?: string; queueDepth?: number }
    | {
        type: "message.processed";
        channel: string;
        outcome: string;
        messageId?: string;
        chatId?: string;
        durationMs?: number;
        reason?: string;
        error?: string;
      }
    | { type: "queue.lane.enqueue"; lane: string; queueSize: number }
    | { type: "queue.lane.dequeue"; lane: string; queueSize: number; waitMs: number }
    | { type: "session.state"; state: string; prevState?: string; reason?: string; queueDepth?: number }
    | ({ type: "session.stuck" } & SessionAttention)
    | ({ type: "session.stalled" } & SessionAttention)
    | ({ type: "session.long_running" } & SessionAttention)
    | {
        type: "tool.loop";
        toolName: string;
        count?: number;
        detector?: string;
        level?: string;
        action?: string;
        pairedToolName?: string;
      }
    | {
        type: "tool.execution.blocked";
        toolName: string;
        runId?: string;
        toolCallId?: string;
        deniedReason?: string;
        reason?: string;
      }
    | {
        type: "payload.large";
        surface: string;
        action: string;
        bytes?: number;
        limitBytes?: number;
        count?: number;
        channel?: string;
        pluginId?: string;
        reason?: string;
      }
    | {
        type: "diagnostic.heartbeat";
        active: number;
        waiting: number;
        queued: number;
        webhooks?: { received: number; processed: number; errors: number };
      }
    | {
        type: "diagnostic.async_queue.dropped";
        droppedEvents: number;
        queueLength?: number;
        maxQueueLength?: number;
      }
    | {
        type: "diagnostic.memory.pressure";
        level: string;
        reason: string;
        rssBytes?: number;
        heapUsedBytes?: number;
        thresholdBytes?: number;
      }
    | {
        type: "diagnostic.liveness.warning";
        reasons: string[];
        intervalMs?: number;
        eventLoopDelayP99Ms?: number;
        eventLoopDelayMaxMs?: number;
        eventLoopUtilization?: number;
      }
    | {
        type: "telemetry.exporter";
        exporter: string;
        signal: string;
        status: string;
        reason?: string;
        errorCategory?: string;
      }
  );

/** An operational event type name. */
export type OperationalEventType = OperationalEvent["type"];

/** The operational event of one type name. */
export type OperationalEventOf<T extends OperationalEventType> = Extract<OperationalEvent, { type: T }>;

/** Every type {@link readOperationalEvent} reads; an extension subscribes to a subset of these. */
export const OPERATIONAL_EVENT_TYPES = [
  "webhook.received",
  "webhook.processed",
  "webhook.error",
  "message.received",
  "message.queued",
  "message.processed",
  "queue.lane.enqueue",
  "queue.lane.dequeue",
  "session.state",
  "session.stuck",
  "session.stalled",
  "session.long_running",
  "tool.loop",
  "tool.execution.blocked",
  "payload.large",
  "diagnostic.heartbeat",
  "diagnostic.async_queue.dropped",
  "diagnostic.memory.pressure",
  "diagnostic.liveness.warning",
  "telemetry.exporter",
] as const satisfies readonly OperationalEventType[];

const KNOWN_TYPES: ReadonlySet<string> = new Set(OPERATIONAL_EVENT_TYPES);

/** Whether `type` is one {@link readOperationalEvent} reads. */
export function isOperationalEventType(type: string): type is OperationalEventType {
  return KNOWN_TYPES.has(type);
}

/** Longest error or reason text kept from an event (it is redacted and cut again before export). */
const MAX_ERROR_CHARS = 4096;
const NAME = 128;
const SHORT = 64;
const REASON = 256;
const TRACE_ID = /^[0-9a-f]{32}$/i;
const SPAN_ID = /^[0-9a-f]{16}$/i;

/**
 * Reads a raw host event into an {@link OperationalEvent}, or `undefined` when its type is not one
 * of {@link OPERATIONAL_EVENT_TYPES} or a required field is missing or malformed. Never throws.
 */
export function readOperationalEvent(raw: unknown): OperationalEvent | undefined {
  try {
    return read(raw);
  } catch {
    return undefined;
  }
}

function read(raw: unknown): OperationalEvent | undefined {
  const type = readText(raw, "type", SHORT);
  const ts = readCount(raw, "ts");
  if (type === undefined || ts === undefined || !KNOWN_TYPES.has(type)) return undefined;
  const base: OperationalEventBase = { ts };
  const seq = readCount(raw, "seq");
  if (seq !== undefined) base.seq = seq;
  const trace = readTrace(raw);
  if (trace) base.trace = trace;
  const session = readText(raw, "sessionKey") ?? readText(raw, "sessionId");
  if (session !== undefined) base.session = session;
  const text = (key: string, max = NAME) => readText(raw, key, max);
  // free text (errors, reasons) is cut to its bound; names and ids longer than theirs are refused
  const prose = (key: string, max = REASON) => readString(raw, key, max);
  const count = (key: string) => readCount(raw, key);

  switch (type) {
    case "webhook.received":
    case "webhook.processed":
    case "webhook.error": {
      const channel = text("channel");
      if (channel === undefined) return undefined;
      const common = {
        ...base,
        channel,
        ...opt("updateType", text("updateType")),
        ...opt("chatId", readId(raw, "chatId")),
      };
      if (type === "webhook.received") return { ...common, type };
      if (type === "webhook.processed") return { ...common, type, ...opt("durationMs", count("durationMs")) };
      const error = prose("error", MAX_ERROR_CHARS);
      return error === undefined ? undefined : { ...common, type, error };
    }
    case "message.received":
    case "message.queued": {
      const source = text("source");
      if (source === undefined) return undefined;
      const common = { ...base, source, ...opt("channel", text("channel")) };
      if (type === "message.queued") return { ...common, type, ...opt("queueDepth", count("queueDepth")) };
      return {
        ...common,
        type,
        ...opt("messageId", readId(raw, "messageId")),
        ...opt("chatId", readId(raw, "chatId")),
      };
    }
    case "message.processed": {
      const channel = text("channel");
      const outcome = text("outcome", SHORT);
      if (channel === undefined || outcome === undefined) return undefined;
      return {
        ...base,
        type,
        channel,
        outcome,
        ...opt("messageId", readId(raw, "messageId")),
        ...opt("chatId", readId(raw, "chatId")),
        ...opt("durationMs", count("durationMs")),
        ...opt("reason", prose("reason")),
        ...opt("error", prose("error", MAX_ERROR_CHARS)),
      };
    }
    case "queue.lane.enqueue":
    case "queue.lane.dequeue": {
      const lane = text("lane");
      const queueSize = count("queueSize");
      if (lane === undefined || queueSize === undefined) return undefined;
      if (type === "queue.lane.enqueue") return { ...base, type, lane, queueSize };
      const waitMs = count("waitMs");
      return waitMs === undefined ? undefined : { ...base, type, lane, queueSize, waitMs };
    }
    case "session.state": {
      const state = text("state", SHORT);
      if (state === undefined) return undefined;
      return {
        ...base,
        type,
        state,
        ...opt("prevState", text("prevState", SHORT)),
        ...opt("reason", prose("reason")),
        ...opt("queueDepth", count("queueDepth")),
      };
    }
    case "session.stuck":
    case "session.stalled":
    case "session.long_running": {
      const state = text("state", SHORT);
      const ageMs = count("ageMs");
      if (state === undefined || ageMs === undefined) return undefined;
      return {
        ...base,
        type,
        state,
        ageMs,
        ...opt("classification", text("classification", SHORT)),
        ...opt("queueDepth", count("queueDepth")),
        ...opt("reason", prose("reason")),
        ...opt("activeWorkKind", text("activeWorkKind", SHORT)),
        ...opt("activeToolName", text("activeToolName")),
        ...opt("lastProgressAgeMs", count("lastProgressAgeMs")),
      };
    }
    case "tool.loop": {
      const toolName = text("toolName");
      if (toolName === undefined) return undefined;
      const loops = count("count");
      return {
        ...base,
        type,
        toolName,
        ...opt("count", loops !== undefined && loops > 0 ? Math.round(loops) : undefined),
        ...opt("detector", text("detector", SHORT)),
        ...opt("level", text("level", SHORT)),
        ...opt("action", text("action", SHORT)),
        ...opt("pairedToolName", text("pairedToolName")),
      };
    }
    case "tool.execution.blocked": {
      const toolName = text("toolName");
      if (toolName === undefined) return undefined;
      return {
        ...base,
        type,
        toolName,
        ...opt("runId", text("runId")),
        ...opt("toolCallId", text("toolCallId")),
        ...opt("deniedReason", prose("deniedReason")),
        ...opt("reason", prose("reason")),
      };
    }
    case "payload.large": {
      const surface = text("surface");
      const action = text("action", SHORT);
      if (surface === undefined || action === undefined) return undefined;
      return {
        ...base,
        type,
        surface,
        action,
        ...opt("bytes", count("bytes")),
        ...opt("limitBytes", count("limitBytes")),
        ...opt("count", count("count")),
        ...opt("channel", text("channel")),
        ...opt("pluginId", text("pluginId")),
        ...opt("reason", prose("reason")),
      };
    }
    case "diagnostic.heartbeat": {
      const active = count("active");
      const waiting = count("waiting");
      const queued = count("queued");
      if (active === undefined || waiting === undefined || queued === undefined) return undefined;
      const webhooks = readField(raw, "webhooks");
      const received = readNumber(webhooks, "received");
      const processed = readNumber(webhooks, "processed");
      const errors = readNumber(webhooks, "errors");
      const counts =
        received !== undefined && processed !== undefined && errors !== undefined
          ? { webhooks: { received, processed, errors } }
          : {};
      return { ...base, type, active, waiting, queued, ...counts };
    }
    case "diagnostic.async_queue.dropped": {
      const droppedEvents = count("droppedEvents");
      if (droppedEvents === undefined) return undefined;
      return {
        ...base,
        type,
        droppedEvents,
        ...opt("queueLength", count("queueLength")),
        ...opt("maxQueueLength", count("maxQueueLength")),
      };
    }
    case "diagnostic.memory.pressure": {
      const level = text("level", SHORT);
      const reason = text("reason", SHORT);
      if (level === undefined || reason === undefined) return undefined;
      const memory = readField(raw, "memory");
      return {
        ...base,
        type,
        level,
        reason,
        ...opt("rssBytes", readCount(memory, "rssBytes")),
        ...opt("heapUsedBytes", readCount(memory, "heapUsedBytes")),
        ...opt("thresholdBytes", count("thresholdBytes")),
      };
    }
    case "diagnostic.liveness.warning": {
      const reasons = readReasons(readField(raw, "reasons"));
      if (reasons === undefined) return undefined;
      return {
        ...base,
        type,
        reasons,
        ...opt("intervalMs", count("intervalMs")),
        ...opt("eventLoopDelayP99Ms", count("eventLoopDelayP99Ms")),
        ...opt("eventLoopDelayMaxMs", count("eventLoopDelayMaxMs")),
        ...opt("eventLoopUtilization", count("eventLoopUtilization")),
      };
    }
    case "telemetry.exporter": {
      const exporter = text("exporter");
      const signal = text("signal", SHORT);
      const status = text("status", SHORT);
      if (exporter === undefined || signal === undefined || status === undefined) return undefined;
      return {
        ...base,
        type,
        exporter,
        signal,
        status,
        ...opt("reason", text("reason", SHORT)),
        ...opt("errorCategory", text("errorCategory", SHORT)),
      };
    }
    default:
      return undefined;
  }
}

/** `{ [key]: value }` when the value is defined, else `{}` (so optional fields stay absent). */
function opt<Key extends string, Value>(key: Key, value: Value | undefined): { [K in Key]?: Value } {
  return (value === undefined ? {} : { [key]: value }) as { [K in Key]?: Value };
}

function readTrace(raw: unknown): OperationalEventBase["trace"] | undefined {
  const trace = readField(raw, "trace");
  const traceId = readText(trace, "traceId", 32);
  if (traceId === undefined || !TRACE_ID.test(traceId)) return undefined;
  const spanId = readText(trace, "spanId", 16);
  return spanId !== undefined && SPAN_ID.test(spanId)
    ? { traceId: traceId.toLowerCase(), spanId: spanId.toLowerCase() }
    : { traceId: traceId.toLowerCase() };
}

function readReasons(value: unknown): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const reasons: string[] = [];
  for (const reason of value.slice(0, 8)) {
    if (typeof reason === "string" && reason.length > 0 && reason.length <= SHORT) reasons.push(reason);
  }
  return reasons.length > 0 ? reasons : undefined;
}
