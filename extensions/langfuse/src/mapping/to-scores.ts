/**
 * Scores as score bodies (the OpenAPI `CreateScoreRequest`, which is also the body of an ingestion `score-create` event): the outcome of every
 * sent turn, a tool loop, and a stuck or stalled session. Every score has a stable id derived from
 * what it is about, so a re-sent score updates the first one instead of adding a second. Pure.
 */
import {
  type OperationalEvent,
  type OperationalEventOf,
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

/** A host event that becomes a session-level score: a stuck or stalled session, or a tool loop. */
export type SessionSignal = OperationalEventOf<"session.stuck" | "session.stalled" | "tool.loop">;

/** The event types {@link toSessionScore} scores. */
export const SESSION_SIGNAL_TYPES = ["session.stuck", "session.stalled", "tool.loop"] as const;

/** Whether an operational event is one {@link toSessionScore} scores. */
export function isSessionSignal(event: OperationalEvent): event is SessionSignal {
  return event.type === "session.stuck" || event.type === "session.stalled" || event.type === "tool.loop";
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
  if (!sessionId || !signal.session) return undefined;
  const name = signal.type === "tool.loop" ? SCORE_NAMES.toolLoop : SCORE_NAMES.sessionStuck;
  const hour = Math.floor(signal.ts / SESSION_SCORE_WINDOW_MS);
  const details =
    signal.type === "tool.loop"
      ? {
          comment: `${signal.toolName} repeated${signal.count ? ` ${signal.count} times` : ""} (host tool.loop)`,
          tool_name: signal.toolName.slice(0, MAX_TEXT_CHARS),
          count: signal.count,
          detector: signal.detector,
        }
      : {
          comment: `${signal.type}${signal.classification ? `: ${signal.classification}` : ""}`,
          classification: signal.classification,
          state: signal.state,
          age_ms: Math.round(signal.ageMs),
        };
  const { comment, ...metadata } = details;
  return withDefined({
    id: toStableUuid("score", "session", signal.session, name, String(hour)),
    sessionId,
    name,
    value: 1,
    dataType: "BOOLEAN" as const,
    environment: options.environment,
    comment: comment.slice(0, MAX_TEXT_CHARS),
    metadata: compact({ event: signal.type, ...metadata }),
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
