/**
 * Scores as score bodies (the OpenAPI `CreateScoreRequest`, which is also the body of an ingestion `score-create` event): the outcome of every
 * sent turn, a tool loop, and a stuck or stalled session. Every score has a stable id derived from
 * what it is about, so a re-sent score updates the first one instead of adding a second. Pure.
 */
import {
  readNumber,
  readPath,
  readString,
  type ToolCall,
  type Turn,
  toErrorText,
  toTurnFailureText,
} from "@clawscope/kit";
import { toStableUuid } from "./ids.js";

/** One score request body. */
export interface ScoreBody {
  id: string;
  name: string;
  /** Numbers for BOOLEAN (0 or 1) and NUMERIC, strings for CATEGORICAL. */
  value: number | string;
  dataType: "BOOLEAN" | "CATEGORICAL" | "NUMERIC";
  traceId?: string;
  sessionId?: string;
  environment?: string;
  comment?: string;
  metadata?: Record<string, string | number>;
}

/** The score names we send. */
export const SCORE_NAMES = {
  outcome: "turn.outcome",
  toolLoop: "tool.loop",
  sessionStuck: "session.stuck",
} as const;

/** A tool repeated within one turn, found in its tool calls or reported by the host. */
export interface ToolLoop {
  toolName: string;
  count: number;
  source: "turn" | "host";
  /** The host's detector (`generic_repeat`, `ping_pong`...), when the host reported it. */
  detector?: string;
}

/** Longest text put in a score comment or metadata value. */
const MAX_TEXT_CHARS = 200;
/** One hour: a session's stuck score is sent at most once per session and hour. */
export const SESSION_SCORE_WINDOW_MS = 3_600_000;

/**
 * The longest run of consecutive calls of one tool, when it reaches `threshold`. Calls are taken in
 * start order (the order the host reported them when times are missing).
 */
export function detectToolLoop(toolCalls: readonly ToolCall[], threshold: number): ToolLoop | undefined {
  if (!Array.isArray(toolCalls) || toolCalls.length === 0) return undefined;
  const ordered = toolCalls
    .map((call, index) => ({ call, index }))
    .sort(
      (left, right) =>
        (left.call.startedAt ?? Number.POSITIVE_INFINITY) -
          (right.call.startedAt ?? Number.POSITIVE_INFINITY) || left.index - right.index,
    );
  let best: ToolLoop | undefined;
  let name: string | undefined;
  let run = 0;
  for (const { call } of ordered) {
    run = call.toolName === name ? run + 1 : 1;
    name = call.toolName;
    if (run >= Math.max(2, threshold) && (!best || run > best.count)) {
      best = { toolName: String(name).slice(0, MAX_TEXT_CHARS), count: run, source: "turn" };
    }
  }
  return best;
}

/** Options of {@link toTurnScores}. */
export interface TurnScoreOptions {
  environment?: string;
  toolLoop?: ToolLoop;
}

/** The scores of one sent turn: its outcome, and a tool loop when one was found. */
export function toTurnScores(
  turn: Pick<Turn, "id" | "outcome" | "error" | "incomplete" | "modelCalls">,
  traceId: string,
  options: TurnScoreOptions = {},
): ScoreBody[] {
  const scores: ScoreBody[] = [
    withDefined({
      id: toStableUuid("score", turn.id, SCORE_NAMES.outcome),
      traceId,
      name: SCORE_NAMES.outcome,
      value: turn.outcome,
      dataType: "CATEGORICAL" as const,
      environment: options.environment,
      comment: toOutcomeComment(turn),
    }),
  ];
  const loop = options.toolLoop;
  if (loop) {
    scores.push(
      withDefined({
        id: toStableUuid("score", turn.id, SCORE_NAMES.toolLoop),
        traceId,
        name: SCORE_NAMES.toolLoop,
        value: 1,
        dataType: "BOOLEAN" as const,
        environment: options.environment,
        comment: `${loop.toolName} called ${loop.count} times in a row`.slice(0, MAX_TEXT_CHARS),
        metadata: compact({
          tool_name: loop.toolName,
          count: loop.count,
          source: loop.source,
          detector: loop.detector,
        }),
      }),
    );
  }
  return scores;
}

/** A host `session.stuck`, `session.stalled` or `tool.loop` event, read defensively. */
export interface SessionSignal {
  kind: "session.stuck" | "session.stalled" | "tool.loop";
  /** The key the turns of this session carry (`sessionKey`, else `sessionId`), raw. */
  sessionKey?: string;
  /** The host's trace id of the run the event belongs to, when it says. */
  hostTraceId?: string;
  /** Host time of the event (epoch ms), or the receive time when the event has none. */
  at: number;
  toolName?: string;
  count?: number;
  detector?: string;
  classification?: string;
  state?: string;
  ageMs?: number;
}

/** Reads one host event; undefined for anything that is not a well-formed signal we score. */
export function readSessionSignal(event: unknown, now: number): SessionSignal | undefined {
  const type = readString(event, "type", 64);
  if (type !== "session.stuck" && type !== "session.stalled" && type !== "tool.loop") return undefined;
  const sessionKey = readString(event, "sessionKey", 512) ?? readString(event, "sessionId", 512);
  const traceId = readPath(event, "trace.traceId");
  const ts = readNumber(event, "ts");
  const signal: SessionSignal = {
    kind: type,
    at: ts !== undefined && ts > 0 ? ts : now,
    ...(sessionKey ? { sessionKey } : {}),
    ...(typeof traceId === "string" && /^[0-9a-f]{32}$/i.test(traceId)
      ? { hostTraceId: traceId.toLowerCase() }
      : {}),
  };
  if (type === "tool.loop") {
    const toolName = readString(event, "toolName", MAX_TEXT_CHARS);
    if (!toolName) return undefined;
    const count = readNumber(event, "count");
    const detector = readString(event, "detector", 64);
    return {
      ...signal,
      toolName,
      ...(count !== undefined && count > 0 ? { count: Math.round(count) } : {}),
      ...(detector ? { detector } : {}),
    };
  }
  const classification = readString(event, "classification", 64);
  const state = readString(event, "state", 64);
  const ageMs = readNumber(event, "ageMs");
  return {
    ...signal,
    ...(classification ? { classification } : {}),
    ...(state ? { state } : {}),
    ...(ageMs !== undefined && ageMs >= 0 ? { ageMs: Math.round(ageMs) } : {}),
  };
}

/**
 * A session-level score for a signal (a stuck or stalled session, or a tool loop the host reported
 * without a run to attach it to). Its id names the session and the hour, so one session gets at
 * most one such score per hour whoever sends it; undefined without a session id.
 */
export function toSessionScore(
  signal: SessionSignal,
  sessionId: string | undefined,
  options: { environment?: string } = {},
): ScoreBody | undefined {
  if (!sessionId || !signal.sessionKey) return undefined;
  const name = signal.kind === "tool.loop" ? SCORE_NAMES.toolLoop : SCORE_NAMES.sessionStuck;
  const hour = Math.floor(signal.at / SESSION_SCORE_WINDOW_MS);
  const comment =
    signal.kind === "tool.loop"
      ? `${signal.toolName} repeated${signal.count ? ` ${signal.count} times` : ""} (host tool.loop)`
      : `${signal.kind}${signal.classification ? `: ${signal.classification}` : ""}`;
  return withDefined({
    id: toStableUuid("score", "session", signal.sessionKey, name, String(hour)),
    sessionId,
    name,
    value: 1,
    dataType: "BOOLEAN" as const,
    environment: options.environment,
    comment: comment.slice(0, MAX_TEXT_CHARS),
    metadata: compact({
      event: signal.kind,
      classification: signal.classification,
      state: signal.state,
      age_ms: signal.ageMs,
      tool_name: signal.toolName,
      count: signal.count,
      detector: signal.detector,
    }),
  });
}

function toOutcomeComment(
  turn: Pick<Turn, "outcome" | "error" | "incomplete" | "modelCalls">,
): string | undefined {
  if (turn.outcome === "error") {
    const parts = [turn.error?.category ?? turn.error?.source, toErrorText(toTurnFailureText(turn))];
    const said = parts.filter((part): part is string => typeof part === "string" && part !== "");
    return said.length > 0 ? `error: ${said.join(": ")}`.slice(0, MAX_TEXT_CHARS) : undefined;
  }
  return turn.incomplete ? `incomplete: ${turn.incomplete.reason}` : undefined;
}

function compact(record: Record<string, string | number | undefined>): Record<string, string | number> {
  const result: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(record)) if (value !== undefined) result[key] = value;
  return result;
}

function withDefined<T extends Record<string, unknown>>(record: T): T {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) if (value !== undefined) result[key] = value;
  return result as T;
}
