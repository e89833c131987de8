/**
 * Spans (and, for failures, log records) for the host's operational events that have a duration
 * or mark a problem: processed messages, processed and failed webhooks, stuck and stalled sessions.
 * Each event is its own small trace; ids come from the event's identity, so a re-sent export
 * de-duplicates. Session, message and chat ids appear only hashed.
 */

import type { OperationalEvent } from "@clawscope/kit";
import type { Attributes, LogRecordData, SpanRecord, TurnExport } from "@clawscope/kit/otlp";
import { isValidSpanId, isValidTraceId, toEventIds } from "./ids.js";
import { definedAttributes, toErrorMessage } from "./turn-attributes.js";

/** Options of {@link toEventSpans} and {@link toEventExport}. */
export interface EventSpanOptions {
  /** Keyed hash of ids (the start context's `hashId`). */
  hashId: (id: string | undefined) => string | undefined;
}

/** The spans for one host event: one span, or none for events without a span. */
export function toEventSpans(event: OperationalEvent, options: EventSpanOptions): SpanRecord[] {
  const span = toEventSpan(event, options);
  return span === undefined ? [] : [span];
}

/**
 * Everything one raw host event exports — its span and, for webhook errors, failed messages and
 * stuck or stalled sessions, a correlated log record — or `undefined` when it exports nothing.
 * `id` is stable per event (the pipeline de-duplicates on it).
 */
export function toEventExport(event: OperationalEvent, options: EventSpanOptions): TurnExport | undefined {
  const span = toEventSpan(event, options);
  if (span === undefined) return undefined;
  const log = toEventLog(event, span);
  return { id: `event:${span.traceId}${span.spanId}`, spans: [span], logs: log ? [log] : [] };
}

function toEventSpan(event: OperationalEvent, options: EventSpanOptions): SpanRecord | undefined {
  const hash = (id: string | undefined) => (id === undefined ? undefined : options.hashId(id));
  switch (event.type) {
    case "message.processed": {
      const failed = event.outcome === "error";
      const error = toErrorMessage(event.error);
      return toSpan(event, `message ${event.channel}`, "consumer", event.durationMs, {
        attributes: definedAttributes({
          "openclaw.channel": event.channel,
          "openclaw.outcome": event.outcome,
          "openclaw.reason": event.reason,
          "openclaw.error": error,
          "gen_ai.conversation.id": hash(event.session),
          "messaging.message.id": hash(event.messageId),
          "openclaw.chat.id": hash(event.chatId),
        }),
        status: failed ? { code: "error", ...(error ? { message: error } : {}) } : { code: "unset" },
      });
    }
    case "webhook.processed":
    case "webhook.error": {
      const error = event.type === "webhook.error" ? toErrorMessage(event.error) : undefined;
      return toSpan(
        event,
        `webhook ${event.channel}`,
        "server",
        event.type === "webhook.processed" ? event.durationMs : 0,
        {
          attributes: definedAttributes({
            "openclaw.channel": event.channel,
            "openclaw.webhook": event.updateType,
            "openclaw.error": error,
            "openclaw.chat.id": hash(event.chatId),
          }),
          status:
            event.type === "webhook.error"
              ? { code: "error", ...(error ? { message: error } : {}) }
              : { code: "unset" },
        },
      );
    }
    case "session.stuck":
    case "session.stalled":
      return toSpan(event, `openclaw.${event.type}`, "internal", 0, {
        attributes: definedAttributes({
          "openclaw.state": event.state,
          "openclaw.ageMs": event.ageMs,
          "openclaw.queueDepth": event.queueDepth,
          "openclaw.reason": event.reason,
          "openclaw.session.classification": event.classification,
          "openclaw.active_work_kind": event.activeWorkKind,
          "openclaw.last_progress_age_ms": event.lastProgressAgeMs,
          "gen_ai.tool.name": event.activeToolName,
          "gen_ai.conversation.id": hash(event.session),
        }),
        status: { code: "unset" },
      });
    default:
      return undefined;
  }
}

function toSpan(
  event: OperationalEvent,
  name: string,
  kind: SpanRecord["kind"],
  durationMs: number | undefined,
  content: { attributes: Attributes; status: SpanRecord["status"] },
): SpanRecord {
  const ids = toEventIds(eventKey(event));
  // the host stamps `ts` when the work ended; the span covers the duration before it
  const start = Math.max(0, event.ts - (durationMs ?? 0));
  const span: SpanRecord = {
    traceId: ids.traceId,
    spanId: ids.spanId,
    name,
    kind,
    startTimeMs: start,
    endTimeMs: event.ts,
    attributes: content.attributes,
    status: content.status,
  };
  if (event.trace && isValidTraceId(event.trace.traceId)) {
    span.attributes["openclaw.trace_id"] = event.trace.traceId;
    if (isValidSpanId(event.trace.spanId)) {
      span.links = [
        {
          traceId: event.trace.traceId,
          spanId: event.trace.spanId,
          attributes: { "openclaw.link.type": "host_event" },
        },
      ];
    }
  }
  return span;
}

/** What makes an event itself: type, the most specific id it has, its time and sequence number. */
function eventKey(event: OperationalEvent): string {
  const identity =
    ("messageId" in event ? event.messageId : undefined) ??
    ("session" in event ? event.session : undefined) ??
    ("chatId" in event ? event.chatId : undefined) ??
    ("channel" in event ? event.channel : undefined) ??
    "";
  return `${event.type}|${identity}|${event.ts}|${event.seq ?? ""}`;
}

function toEventLog(event: OperationalEvent, span: SpanRecord): LogRecordData | undefined {
  const correlation = { traceId: span.traceId, spanId: span.spanId, timeMs: event.ts };
  const error =
    typeof span.attributes["openclaw.error"] === "string" ? span.attributes["openclaw.error"] : undefined;
  const attributes = (eventName: string, extra: Attributes = {}): Attributes => ({
    "event.name": eventName,
    ...extra,
    ...(error ? { "exception.message": error } : {}),
  });
  switch (event.type) {
    case "webhook.error":
      return {
        ...correlation,
        severity: "ERROR",
        body: `webhook failed: ${event.channel}${event.updateType ? ` ${event.updateType}` : ""}`,
        attributes: attributes(
          "openclaw.webhook.error",
          definedAttributes({
            "openclaw.channel": event.channel,
            "openclaw.webhook": event.updateType,
          }),
        ),
      };
    case "message.processed":
      if (event.outcome !== "error") return undefined;
      return {
        ...correlation,
        severity: "ERROR",
        body: `message processing failed: ${event.channel}${event.reason ? ` (${event.reason})` : ""}`,
        attributes: attributes(
          "openclaw.message.error",
          definedAttributes({
            "openclaw.channel": event.channel,
            "gen_ai.conversation.id": span.attributes["gen_ai.conversation.id"],
          }),
        ),
      };
    case "session.stuck":
    case "session.stalled":
      return {
        ...correlation,
        severity: "WARN",
        body: `${event.type === "session.stuck" ? "session stuck" : "session stalled"}: ${event.state} for ${Math.round(event.ageMs)} ms`,
        attributes: attributes(
          `openclaw.${event.type}`,
          definedAttributes({
            "openclaw.state": event.state,
            "openclaw.ageMs": event.ageMs,
            "openclaw.session.classification": event.classification,
            "gen_ai.conversation.id": span.attributes["gen_ai.conversation.id"],
          }),
        ),
      };
    default:
      return undefined;
  }
}
