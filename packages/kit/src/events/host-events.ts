/**
 * Typed views of what the OpenClaw host hands the pack: diagnostic bus events (types taken from
 * `openclaw/plugin-sdk/diagnostic-runtime`) and the plugin hooks we consume (structural views, since
 * the SDK does not export them by name). Everything arriving from the host is `unknown` until
 * `readHostEvent` has checked it.
 */
import type { DiagnosticEventMetadata, DiagnosticEventPayload } from "openclaw/plugin-sdk/diagnostic-runtime";

/** Any diagnostic event the host emits, as the SDK types it. */
export type HostDiagnosticEvent = DiagnosticEventPayload;
/** The metadata the internal bus passes beside each event (`trusted`, `internal`). */
export type HostEventMetadata = DiagnosticEventMetadata;
/** Every diagnostic event type name the SDK knows. */
export type HostEventType = HostDiagnosticEvent["type"];
/** The SDK's event type for one type name. */
export type HostEventOf<T extends HostEventType> = Extract<HostDiagnosticEvent, { type: T }>;

/** W3C trace context the host attaches to every event of a run. */
export interface HostTraceContext {
  traceId: string;
  spanId?: string;
  parentSpanId?: string;
  traceFlags?: string;
}

/** Token usage as the host reports it on `model.call.completed` and `model.usage`. */
export interface HostUsage {
  input?: number;
  output?: number;
  cacheRead?: number;
  cacheWrite?: number;
  promptTokens?: number;
  total?: number;
  cost?: { total?: number };
}

/** The diagnostic event types the turn assembler reads. */
export const TURN_EVENT_TYPES = [
  "run.started",
  "run.completed",
  "harness.run.started",
  "harness.run.completed",
  "harness.run.error",
  "model.call.started",
  "model.call.completed",
  "model.call.error",
  "model.usage",
  "tool.execution.started",
  "tool.execution.completed",
  "tool.execution.error",
  "tool.execution.blocked",
  "context.assembled",
  // joined by trace: a fallback to another model, and the host's own "the run is over"
  "model.failover",
  "session.state",
] as const satisfies readonly HostEventType[];

/** Hook names the pack subscribes to. `conversation` hooks need `allowConversationAccess`. */
export const PACK_HOOKS = {
  plain: [
    "model_call_started",
    "model_call_ended",
    "before_tool_call",
    "after_tool_call",
    "message_received",
  ],
  conversation: ["llm_output", "agent_end"],
} as const;

/** A hook the pack consumes. */
export type PackHookName = (typeof PACK_HOOKS)["plain"][number] | (typeof PACK_HOOKS)["conversation"][number];

/** The context object the host passes as the second hook argument (fields vary per hook). */
export interface HostHookContext {
  runId?: string;
  trace?: HostTraceContext;
  agentId?: string;
  sessionKey?: string;
  sessionId?: string;
  channel?: string;
  trigger?: string;
  toolCallId?: string;
  toolName?: string;
}

/** A hook invocation as the pack records it: name, payload, context, and when it arrived. */
export interface HostHookCall {
  name: PackHookName;
  event: unknown;
  context: unknown;
  receivedAt: number;
}
