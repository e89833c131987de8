/**
 * The one gate between raw host events and the turn assembler: checks the fields the assembler
 * relies on and says, in one line, what is wrong with an event it cannot use. Never throws, whatever
 * it is handed (null, frozen objects, getters that throw, proxies, cycles, huge strings).
 */
import { describeError } from "../runtime/describe-error.js";
import { type HostEventOf, TURN_EVENT_TYPES } from "./host-events.js";

/** A diagnostic event type the turn assembler reads. */
export type TurnEventType = (typeof TURN_EVENT_TYPES)[number];
/** A diagnostic event the turn assembler reads, as the SDK types it. */
export type TurnEvent = HostEventOf<TurnEventType>;

/**
 * What {@link readHostEvent} made of a raw value: `accepted` (a turn event with every field the
 * assembler needs), `ignored` (a well-formed event of a type the assembler does not read) or
 * `malformed` (unusable; `error` names the type and the field).
 */
export type ReadHostEventResult =
  | { ok: true; status: "accepted"; event: TurnEvent }
  | { ok: false; status: "ignored"; type: string; reason: string }
  | { ok: false; status: "malformed"; error: string };

/** Ids longer than this are refused: they would make every map keyed on them unbounded. */
export const MAX_ID_LENGTH = 512;

const TURN_TYPES: ReadonlySet<string> = new Set(TURN_EVENT_TYPES);
const TRACE_JOINED_ONLY: ReadonlySet<string> = new Set(["session.state", "model.failover"]);

/** Required string fields per type, besides the type itself. `trace.traceId` is a path. */
const REQUIRED_FIELDS: Record<TurnEventType, readonly string[]> = {
  "run.started": ["runId"],
  "run.completed": ["runId"],
  "harness.run.started": ["runId"],
  "harness.run.completed": ["runId"],
  "harness.run.error": ["runId"],
  "model.call.started": ["runId", "callId"],
  "model.call.completed": ["runId", "callId"],
  "model.call.error": ["runId", "callId"],
  "model.usage": ["trace.traceId"],
  "tool.execution.started": ["toolName"],
  "tool.execution.completed": ["toolName"],
  "tool.execution.error": ["toolName"],
  "tool.execution.blocked": ["toolName"],
  "context.assembled": ["runId"],
  "model.failover": ["trace.traceId"],
  "session.state": ["trace.traceId"],
};

/**
 * Reads a raw diagnostic event. Accepted events are returned as they came (not copied); only the
 * fields named in the result's type are guaranteed — read the others with {@link readString} and
 * {@link readNumber}.
 */
export function readHostEvent(raw: unknown): ReadHostEventResult {
  try {
    if (raw === null || typeof raw !== "object") {
      return malformed(`event is ${describeKind(raw)}, expected an object`);
    }
    const type = readField(raw, "type");
    if (typeof type !== "string") {
      return malformed(`unknown event type: "type" is ${describeKind(type)}, expected a string`);
    }
    if (!TURN_TYPES.has(type)) {
      return { ok: false, status: "ignored", type: clip(type), reason: "not a turn event type" };
    }
    const turnType = type as TurnEventType;
    // public events about sessions need not name a trace; without one they say nothing about a turn
    if (TRACE_JOINED_ONLY.has(turnType) && typeof readPath(raw, "trace.traceId") !== "string") {
      return { ok: false, status: "ignored", type: turnType, reason: "no trace to join a turn by" };
    }
    for (const path of REQUIRED_FIELDS[turnType]) {
      const value = readPath(raw, path);
      if (typeof value !== "string" || value.length === 0) {
        return malformed(`${turnType}: "${path}" is ${describeKind(value)}, expected a non-empty string`);
      }
      if (value.length > MAX_ID_LENGTH) {
        return malformed(`${turnType}: "${path}" is ${value.length} characters, at most ${MAX_ID_LENGTH}`);
      }
    }
    if (turnType === "model.usage") {
      const usage = readField(raw, "usage");
      if (usage === null || typeof usage !== "object") {
        return malformed(`model.usage: "usage" is ${describeKind(usage)}, expected an object`);
      }
    }
    // optional ids the assembler joins on must still be sane when present
    for (const optional of ["runId", "toolCallId"]) {
      const value = readField(raw, optional);
      if (value !== undefined && (typeof value !== "string" || value.length > MAX_ID_LENGTH)) {
        return malformed(`${turnType}: "${optional}" is ${describeKind(value)}, expected a short string`);
      }
    }
    return { ok: true, status: "accepted", event: raw as TurnEvent };
  } catch (error) {
    return malformed(`event could not be read: ${describeError(error)}`);
  }
}

/** Reads `object[key]`, or undefined when the value is not an object or the getter throws. */
export function readField(value: unknown, key: string): unknown {
  if (value === null || typeof value !== "object") return undefined;
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

/** Reads a dotted path (`trace.traceId`), tolerating anything along the way. */
export function readPath(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split(".")) current = readField(current, key);
  return current;
}

/** A non-empty string at `key`, cut to `maxLength` (default 256), or undefined. */
export function readString(value: unknown, key: string, maxLength = 256): string | undefined {
  const field = readField(value, key);
  if (typeof field !== "string" || field.length === 0) return undefined;
  return field.length > maxLength ? field.slice(0, maxLength) : field;
}

/** A finite number at `key`, or undefined. */
export function readNumber(value: unknown, key: string): number | undefined {
  const field = readField(value, key);
  return typeof field === "number" && Number.isFinite(field) ? field : undefined;
}

/** Longest string {@link readText} accepts; longer values are refused, not cut (they are not ours). */
export const MAX_FIELD_CHARS = 512;

/** A non-empty string field of at most `maxChars`, else undefined (never cut). */
export function readText(value: unknown, key: string, maxChars = MAX_FIELD_CHARS): string | undefined {
  const field = readField(value, key);
  return typeof field === "string" && field.length > 0 && field.length <= maxChars ? field : undefined;
}

/** A string or finite-number field as text (chat and message ids come as either), else undefined. */
export function readId(value: unknown, key: string): string | undefined {
  const field = readField(value, key);
  if (typeof field === "number" && Number.isFinite(field)) return String(field);
  return readText(value, key);
}

/** A finite, non-negative number field, else undefined. */
export function readCount(value: unknown, key: string): number | undefined {
  const field = readField(value, key);
  return typeof field === "number" && Number.isFinite(field) && field >= 0 ? field : undefined;
}

/** A short description of a value's kind for error messages; never includes the value itself. */
export function describeKind(value: unknown): string {
  if (value === undefined) return "missing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return value.length === 0 ? "an empty string" : "a string";
  return `a ${typeof value}`;
}

function malformed(error: string): ReadHostEventResult {
  return { ok: false, status: "malformed", error };
}

function clip(text: string, max = 120): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
