/**
 * The host's operational events this extension maps (webhooks, messages, queue lanes, session
 * state and liveness, heartbeat), checked field by field into plain records. Anything else, or a
 * required field missing or of the wrong type, reads as `undefined`: the mappers then emit nothing.
 */
import { readCount, readField, readId, readNumber, readText } from "./read-fields.js";

/** Fields every operational event carries. */
interface EventBase {
  ts: number;
  /** Process-local sequence number; part of the event's identity when present. */
  seq?: number;
  /** The host's W3C trace context, when it attached one. */
  trace?: { traceId: string; spanId?: string };
}

/** Where an event came from: channel plus the per-type fields. */
export type OperationalEvent = EventBase &
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
    | { type: "message.queued"; channel?: string; source: string; queueDepth?: number; session?: string }
    | {
        type: "message.processed";
        channel: string;
        outcome: string;
        messageId?: string;
        chatId?: string;
        session?: string;
        durationMs?: number;
        reason?: string;
        error?: string;
      }
    | { type: "queue.lane.enqueue"; lane: string; queueSize: number }
    | { type: "queue.lane.dequeue"; lane: string; queueSize: number; waitMs: number }
    | { type: "session.state"; state: string; prevState?: string; reason?: string; session?: string }
    | {
        type: "session.stuck" | "session.stalled";
        state: string;
        ageMs: number;
        session?: string;
        queueDepth?: number;
        reason?: string;
        classification?: string;
        activeWorkKind?: string;
        activeToolName?: string;
        lastProgressAgeMs?: number;
      }
    | {
        type: "diagnostic.heartbeat";
        active: number;
        waiting: number;
        queued: number;
        webhooks?: { received: number; processed: number; errors: number };
      }
  );

/** Operational event type names this extension reads. */
export type OperationalEventType = OperationalEvent["type"];

/** The event types {@link readOperationalEvent} understands (subscribe to these). */
export const OTEL_OPERATIONAL_EVENT_TYPES = [
  "webhook.received",
  "webhook.processed",
  "webhook.error",
  "message.queued",
  "message.processed",
  "queue.lane.enqueue",
  "queue.lane.dequeue",
  "session.state",
  "session.stuck",
  "session.stalled",
  "diagnostic.heartbeat",
] as const satisfies readonly OperationalEventType[];

/** Longest error text kept from an event (it is redacted and cut again before export). */
const MAX_ERROR_CHARS = 4096;

/**
 * Reads a raw host event into an {@link OperationalEvent}, or `undefined` when it is not one of
 * {@link OTEL_OPERATIONAL_EVENT_TYPES} or lacks a field the host's type marks as required.
 * The session is `sessionKey ?? sessionId`, still raw: callers hash it.
 */
export function readOperationalEvent(raw: unknown): OperationalEvent | undefined {
  const type = readText(raw, "type", 64);
  const ts = readCount(raw, "ts");
  if (type === undefined || ts === undefined) return undefined;
  const base: EventBase = { ts };
  const seq = readCount(raw, "seq");
  if (seq !== undefined) base.seq = seq;
  const trace = readTrace(raw);
  if (trace) base.trace = trace;
  const session = readText(raw, "sessionKey") ?? readText(raw, "sessionId");
  const optional = <Value>(key: string, value: Value | undefined) =>
    value === undefined ? {} : { [key]: value };

  switch (type) {
    case "webhook.received":
    case "webhook.processed":
    case "webhook.error": {
      const channel = readText(raw, "channel", 128);
      if (channel === undefined) return undefined;
      const common = {
        ...base,
        channel,
        ...optional("updateType", readText(raw, "updateType", 128)),
        ...optional("chatId", readId(raw, "chatId")),
      };
      if (type === "webhook.received") return { ...common, type };
      if (type === "webhook.processed") {
        return { ...common, type, ...optional("durationMs", readCount(raw, "durationMs")) };
      }
      const error = readText(raw, "error", MAX_ERROR_CHARS);
      return error === undefined ? undefined : { ...common, type, error };
    }
    case "message.queued": {
      const source = readText(raw, "source", 128);
      if (source === undefined) return undefined;
      return {
        ...base,
        type,
        source,
        ...optional("channel", readText(raw, "channel", 128)),
        ...optional("queueDepth", readCount(raw, "queueDepth")),
        ...optional("session", session),
      };
    }
    case "message.processed": {
      const channel = readText(raw, "channel", 128);
      const outcome = readText(raw, "outcome", 64);
      if (channel === undefined || outcome === undefined) return undefined;
      return {
        ...base,
        type,
        channel,
        outcome,
        ...optional("messageId", readId(raw, "messageId")),
        ...optional("chatId", readId(raw, "chatId")),
        ...optional("session", session),
        ...optional("durationMs", readCount(raw, "durationMs")),
        ...optional("reason", readText(raw, "reason", 256)),
        ...optional("error", readText(raw, "error", MAX_ERROR_CHARS)),
      };
    }
    case "queue.lane.enqueue":
    case "queue.lane.dequeue": {
      const lane = readText(raw, "lane");
      const queueSize = readCount(raw, "queueSize");
      if (lane === undefined || queueSize === undefined) return undefined;
      if (type === "queue.lane.enqueue") return { ...base, type, lane, queueSize };
      const waitMs = readCount(raw, "waitMs");
      return waitMs === undefined ? undefined : { ...base, type, lane, queueSize, waitMs };
    }
    case "session.state": {
      const state = readText(raw, "state", 64);
      if (state === undefined) return undefined;
      return {
        ...base,
        type,
        state,
        ...optional("prevState", readText(raw, "prevState", 64)),
        ...optional("reason", readText(raw, "reason", 256)),
        ...optional("session", session),
      };
    }
    case "session.stuck":
    case "session.stalled": {
      const state = readText(raw, "state", 64);
      const ageMs = readCount(raw, "ageMs");
      if (state === undefined || ageMs === undefined) return undefined;
      return {
        ...base,
        type,
        state,
        ageMs,
        ...optional("session", session),
        ...optional("queueDepth", readCount(raw, "queueDepth")),
        ...optional("reason", readText(raw, "reason", 256)),
        ...optional("classification", readText(raw, "classification", 64)),
        ...optional("activeWorkKind", readText(raw, "activeWorkKind", 64)),
        ...optional("activeToolName", readText(raw, "activeToolName", 128)),
        ...optional("lastProgressAgeMs", readCount(raw, "lastProgressAgeMs")),
      };
    }
    case "diagnostic.heartbeat": {
      const active = readCount(raw, "active");
      const waiting = readCount(raw, "waiting");
      const queued = readCount(raw, "queued");
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
    default:
      return undefined;
  }
}

function readTrace(raw: unknown): EventBase["trace"] | undefined {
  const trace = readField(raw, "trace");
  const traceId = readText(trace, "traceId", 64);
  if (traceId === undefined) return undefined;
  const spanId = readText(trace, "spanId", 32);
  return spanId === undefined ? { traceId } : { traceId, spanId };
}
