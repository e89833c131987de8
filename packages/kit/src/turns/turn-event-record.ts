/**
 * A turn event read once: every field the assembler uses, taken from the host's payload in one
 * pass into a plain record, before anything changes state. Applying it (`applyBusEvent`) then only
 * decides; it never goes back to the payload. Strings are cut to their bound, counts are finite and
 * non-negative, a field of the wrong kind reads as absent.
 */
import type { TurnEvent } from "../events/read-event.js";
import { MAX_ID_LENGTH, readCount, readField, readNumber, readString } from "../events/read-event.js";
import type { Usage } from "./turn.js";
import { normalizeUsage, readUsageCost } from "./usage.js";

/** Who and where a run is, as an event or a hook context names it. */
export interface EventIdentity {
  sessionKey?: string;
  sessionId?: string;
  agentId?: string;
  channel?: string;
  trigger?: string;
  /** `provider`, else `modelProviderId`. */
  provider?: string;
  /** `model`, else `modelId`. */
  model?: string;
  traceId?: string;
}

/** One turn event's facts. Fields absent from a type's payload are undefined. */
export interface TurnEventRecord {
  type: TurnEvent["type"];
  ts?: number;
  runId?: string;
  /** The host's trace id, for joining events that name their run by trace only. */
  traceId?: string;
  span: { spanId?: string; parentSpanId?: string };
  identity: EventIdentity;
  /** `provider` and `model` as the event itself names them (no `modelProviderId` fallback). */
  provider?: string;
  model?: string;
  durationMs?: number;
  outcome?: string;
  errorCategory?: string;
  /** harness.run.error */
  phase?: string;
  /** harness.run.completed: items the harness started. */
  itemsStarted?: number;
  /** model.call.* */
  callId?: string;
  api?: string;
  timeToFirstByteMs?: number;
  requestBytes?: number;
  responseBytes?: number;
  usage?: Usage;
  /** model.call.*: the cost in the call's usage; model.usage: `costUsd`. */
  costUsd?: number;
  failureKind?: string;
  /** model.usage */
  context?: { limit?: number; used?: number };
  /** tool.execution.* */
  toolName?: string;
  toolCallId?: string;
  toolSource?: string;
  toolOwner?: string;
  deniedReason?: string;
  /** model.failover */
  fallback?: {
    fromProvider?: string;
    fromModel?: string;
    toProvider?: string;
    toModel?: string;
    reason?: string;
  };
  /** session.state */
  state?: string;
}

/** Reads the identity fields of an event or a hook context. */
export function readIdentity(source: unknown): EventIdentity {
  return {
    sessionKey: readString(source, "sessionKey"),
    sessionId: readString(source, "sessionId"),
    agentId: readString(source, "agentId"),
    channel: readString(source, "channel"),
    trigger: readString(source, "trigger"),
    provider: readString(source, "provider") ?? readString(source, "modelProviderId"),
    model: readString(source, "model") ?? readString(source, "modelId"),
    traceId: readString(readField(source, "trace"), "traceId", 128),
  };
}

/** Reads an accepted turn event into its record. Never throws on a payload `readHostEvent` accepted. */
export function readTurnEvent(event: TurnEvent): TurnEventRecord {
  const trace = readField(event, "trace");
  const record: TurnEventRecord = {
    type: event.type,
    ts: readNumber(event, "ts"),
    runId: readString(event, "runId", MAX_ID_LENGTH),
    traceId: readString(trace, "traceId", MAX_ID_LENGTH),
    span: { spanId: readString(trace, "spanId", 64), parentSpanId: readString(trace, "parentSpanId", 64) },
    identity: readIdentity(event),
  };
  switch (event.type) {
    case "run.started":
    case "run.completed":
    case "harness.run.started":
    case "harness.run.completed":
    case "harness.run.error":
      record.provider = readString(event, "provider");
      record.model = readString(event, "model");
      record.durationMs = readCount(event, "durationMs");
      record.outcome = readString(event, "outcome", 64);
      record.errorCategory = readString(event, "errorCategory", 128);
      record.phase = readString(event, "phase", 64);
      record.itemsStarted = readCount(readField(event, "itemLifecycle"), "startedCount");
      break;
    case "model.call.started":
    case "model.call.completed":
    case "model.call.error": {
      const usage = readField(event, "usage");
      record.callId = readString(event, "callId", 512) ?? "";
      record.provider = readString(event, "provider");
      record.model = readString(event, "model");
      record.api = readString(event, "api", 64);
      record.durationMs = readCount(event, "durationMs");
      record.timeToFirstByteMs = readCount(event, "timeToFirstByteMs");
      record.requestBytes = readCount(event, "requestPayloadBytes");
      record.responseBytes = readCount(event, "responseStreamBytes");
      record.usage = normalizeUsage(usage);
      record.costUsd = readUsageCost(usage);
      record.errorCategory = readString(event, "errorCategory", 128);
      record.failureKind = readString(event, "failureKind", 64);
      break;
    }
    case "tool.execution.started":
    case "tool.execution.completed":
    case "tool.execution.error":
    case "tool.execution.blocked":
      record.toolName = readString(event, "toolName") ?? "unknown";
      record.toolCallId = readString(event, "toolCallId", 512);
      record.toolSource = readString(event, "toolSource", 64);
      record.toolOwner = readString(event, "toolOwner");
      record.durationMs = readCount(event, "durationMs");
      record.errorCategory = readString(event, "errorCategory", 128);
      record.deniedReason = readString(event, "deniedReason", 128);
      break;
    case "model.usage": {
      const context = readField(event, "context");
      record.provider = readString(event, "provider");
      record.model = readString(event, "model");
      record.usage = normalizeUsage(readField(event, "usage"));
      record.costUsd = readCount(event, "costUsd");
      record.context =
        context !== null && typeof context === "object"
          ? { limit: readCount(context, "limit"), used: readCount(context, "used") }
          : undefined;
      break;
    }
    case "model.failover":
      record.fallback = {
        fromProvider: readString(event, "fromProvider"),
        fromModel: readString(event, "fromModel"),
        toProvider: readString(event, "toProvider"),
        toModel: readString(event, "toModel"),
        reason: readString(event, "reason", 64),
      };
      break;
    case "session.state":
      record.state = readString(event, "state", 32);
      break;
  }
  return record;
}
