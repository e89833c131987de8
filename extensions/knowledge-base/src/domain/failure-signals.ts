/**
 * The failures in what the pack sees, as signals for the fingerprint, each with the key that makes
 * its occurrence idempotent: a turn redelivered after a crash, or amended by late input, yields the
 * same keys, so it is counted once.
 *
 * From a turn: every failed model call (a retried 429 is a recurring issue even when the retry
 * succeeded), a failed turn none of whose model calls failed (a harness error), every failed or
 * blocked tool call, and an incomplete turn. From the bus: tool loops and stuck or stalled sessions.
 * From the pack's own health, once a minute: exports retried, dropped or dead-lettered, an export
 * paused on a refused credential, and input an extension dropped because its queue was full.
 */
import type { OperationalEvent, Turn } from "@clawscope/kit";
import type { FailureSignal } from "./fingerprint.js";

/** One failure ready to be fingerprinted, with where and when it happened. */
export interface FailureObservation {
  /** Idempotency key: the same failure seen again has the same key. */
  key: string;
  ts: number;
  signal: FailureSignal;
  agent?: string;
  channel?: string;
  traceId?: string;
  turnId?: string;
  /** The session, raw; hash it before it is stored. */
  session?: string;
}

/** The failures of one assembled turn. */
export function toTurnFailures(turn: Turn): FailureObservation[] {
  const observations: FailureObservation[] = [];
  const where = {
    ...(turn.agentId ? { agent: turn.agentId } : {}),
    ...(turn.channel ? { channel: turn.channel } : {}),
    ...(turn.traceId ? { traceId: turn.traceId } : {}),
    turnId: turn.id,
    ...(turn.sessionKey ? { session: turn.sessionKey } : {}),
  };
  let failedCalls = 0;
  for (const call of turn.modelCalls) {
    if (call.outcome !== "error") continue;
    failedCalls += 1;
    observations.push({
      key: `${turn.id}:call:${call.callId}:${call.attempt}`,
      ts: call.endedAt ?? call.startedAt ?? turn.endedAt,
      signal: {
        kind: "provider_error",
        ...optional("category", call.errorCategory ?? call.failureKind),
        ...optional("status", call.errorStatus),
        ...optional("provider", call.provider ?? turn.provider),
        ...optional("model", call.model ?? turn.model),
        ...optional("message", call.errorDiagnostic),
      },
      ...where,
    });
  }
  if (turn.outcome === "error" && failedCalls === 0) {
    observations.push({
      key: `${turn.id}:turn`,
      ts: turn.endedAt,
      signal: {
        kind: "provider_error",
        ...optional("category", turn.error?.category),
        ...optional("status", turn.error?.status),
        ...optional("provider", turn.provider),
        ...optional("model", turn.model),
        // without the host's text, the fixed reason still tells causes apart
        ...optional("message", turn.error?.diagnostic ?? turn.error?.reason),
      },
      ...where,
    });
  }
  for (const tool of turn.toolCalls) {
    if (tool.outcome !== "error" && tool.outcome !== "blocked") continue;
    observations.push({
      key: `${turn.id}:tool:${tool.toolCallId}`,
      ts: tool.endedAt ?? tool.startedAt ?? turn.endedAt,
      signal: {
        kind: tool.outcome === "blocked" ? "tool_blocked" : "tool_error",
        tool: tool.toolName,
        ...optional("category", tool.errorCategory),
        ...optional("message", tool.errorDiagnostic),
      },
      ...where,
    });
  }
  if (turn.incomplete) {
    observations.push({
      key: `${turn.id}:incomplete`,
      ts: turn.endedAt,
      signal: {
        kind: "turn_incomplete",
        category: turn.incomplete.reason,
        ...optional("provider", turn.provider),
        ...optional("model", turn.model),
        // what never arrived, by event type: the call ids in the names are the turn's own
        message: `missing ${[...new Set(turn.incomplete.missing.map((name) => name.split(" ")[0]))].sort().join(", ")}`,
      },
      ...where,
    });
  }
  return observations;
}

/** The bus events the analyzer reads besides turns. */
export const FAILURE_EVENT_TYPES = ["tool.loop", "session.stuck", "session.stalled"] as const;

/** The failure an operational event reports, or undefined when it reports none. */
export function toEventFailure(event: OperationalEvent): FailureObservation | undefined {
  const base = {
    ts: event.ts,
    ...(event.trace?.traceId ? { traceId: event.trace.traceId } : {}),
    ...(event.session ? { session: event.session } : {}),
  };
  const identity = `${event.type}:${event.session ?? "-"}:${event.ts}:${event.seq ?? "-"}`;
  if (event.type === "tool.loop") {
    return {
      key: identity,
      ...base,
      signal: {
        kind: "tool_loop",
        tool: event.toolName,
        ...optional("category", event.detector),
        message: [event.level, event.action].filter(Boolean).join(" "),
      },
    };
  }
  if (event.type === "session.stuck" || event.type === "session.stalled") {
    return {
      key: identity,
      ...base,
      signal: {
        kind: "session_stuck",
        category: event.type === "session.stuck" ? "stuck" : "stalled",
        ...optional("tool", event.activeToolName),
        message: [event.classification, event.activeWorkKind, event.reason].filter(Boolean).join(" "),
      },
    };
  }
  return undefined;
}

/** What the kit reports about one running extension, as read for the pack's own failures. */
export interface PackHealthView {
  pluginId: string;
  startedAt?: number;
  events: { overflowed: number };
  turns: { late: number };
  export: { retried: number; dropped: number; deadLettered: number; authPaused: boolean };
  lastError?: { message: string; at: number };
}

/** The counters read last time, by extension; `toPackFailures` updates it. */
export type PackCounters = Map<
  string,
  { retried: number; dropped: number; deadLettered: number; lost: number }
>;

/**
 * The pack's own failures since the previous look: per extension, one export failure when its
 * exports were retried, dropped or dead-lettered or are paused on a refused credential, and one
 * dropped-input failure when its input queue overflowed or late input was dropped. Keys carry the
 * counters, so looking again after a reload of this extension counts nothing twice.
 */
export function toPackFailures(
  views: readonly PackHealthView[],
  previous: PackCounters,
  now: number,
): FailureObservation[] {
  const observations: FailureObservation[] = [];
  for (const view of views) {
    const counters = {
      retried: view.export.retried,
      dropped: view.export.dropped,
      deadLettered: view.export.deadLettered,
      lost: view.events.overflowed + view.turns.late,
    };
    const before = previous.get(view.pluginId) ?? { retried: 0, dropped: 0, deadLettered: 0, lost: 0 };
    previous.set(view.pluginId, counters);
    const process = `${view.pluginId}:${view.startedAt ?? 0}`;
    // the last error names the cause when it is recent (the extension's error, secrets already out)
    const recentError =
      view.lastError && now - view.lastError.at <= 5 * 60_000 ? view.lastError.message : undefined;
    const category =
      counters.dropped > before.dropped
        ? "dropped"
        : counters.deadLettered > before.deadLettered
          ? "dead_lettered"
          : view.export.authPaused
            ? "auth"
            : counters.retried > before.retried
              ? "retried"
              : undefined;
    if (category)
      observations.push({
        key: `export:${process}:${counters.retried}:${counters.dropped}:${counters.deadLettered}:${category}`,
        ts: now,
        signal: {
          kind: "export_failure",
          category,
          tool: view.pluginId,
          message: recentError ?? `${view.pluginId} exports ${category.replace("_", "-")}`,
        },
      });
    if (counters.lost > before.lost)
      observations.push({
        key: `dropped:${process}:${counters.lost}`,
        ts: now,
        signal: {
          kind: "turn_incomplete",
          category: "input_dropped",
          tool: view.pluginId,
          message: `${view.pluginId} dropped input: its queue was full or the input came after its turn closed`,
        },
      });
  }
  return observations;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined || value === null || value === "" ? {} : { [key]: value }) as { [P in K]?: V };
}
