/**
 * One turn's contribution to the minute rollups, as a record of its own: its id is the turn's id,
 * so a turn written twice (a batch re-sent after a crash, a retry) is one record, and an amended
 * turn (a late `model.usage`, a retry's outcome) replaces what it contributed. The rollups are sums
 * over these records, so they count every turn exactly once.
 */
import type { Turn } from "@clawscope/kit";
import { toLatencyBucket } from "./latency-histogram.js";

export const MINUTE_MS = 60_000;

/** The dimensions a rollup is grouped by; `null` when the turn did not say. */
export const ROLLUP_DIMENSIONS = ["agent", "provider", "model", "channel", "outcome"] as const;
export type RollupDimension = (typeof ROLLUP_DIMENSIONS)[number];

/** The figures a rollup sums. */
export const ROLLUP_FIGURES = [
  "turns",
  "modelCalls",
  "failedModelCalls",
  "toolCalls",
  "toolFailures",
  "inputTokens",
  "outputTokens",
  "cacheReadTokens",
  "cacheWriteTokens",
  "costProviderUsd",
  "costEstimatedUsd",
  "costUnknownTurns",
  "durationMs",
] as const;
export type RollupFigure = (typeof ROLLUP_FIGURES)[number];

/** A turn's record in `turn_facts`. */
export type TurnFact = {
  id: string;
  /** The start of the minute the turn ended in (epoch ms, UTC). */
  ts: number;
  endedAt: number;
  gateway: string;
  /** The latency bucket of the turn's duration (see `latency-histogram.ts`); null when unknown. */
  latencyBucket: number | null;
  revision: number;
  /** The turn's tool calls (at most 32): name, duration and whether it failed or was blocked. */
  tools?: { name: string; ms: number; failed: boolean }[];
  /** The categories of the turn's failures (at most 16): failed model calls, then failed tools (`tool:<category>`). */
  errors?: string[];
} & Record<RollupDimension, string | null> &
  Record<RollupFigure, number>;

/** The start of the UTC minute holding `at`. */
export function toMinute(at: number): number {
  return Math.floor(at / MINUTE_MS) * MINUTE_MS;
}

/** Maps an assembled turn to its fact record. */
export function toTurnFact(turn: Turn, gateway: string): TurnFact {
  const source = turn.cost.source;
  const usd = typeof turn.cost.usd === "number" && Number.isFinite(turn.cost.usd) ? turn.cost.usd : 0;
  const endedAt = Number.isFinite(turn.endedAt) ? turn.endedAt : turn.startedAt;
  let failedModelCalls = 0;
  for (const call of turn.modelCalls) if (call.outcome === "error") failedModelCalls += 1;
  let toolFailures = 0;
  for (const tool of turn.toolCalls)
    if (tool.outcome === "error" || tool.outcome === "blocked") toolFailures += 1;
  return {
    id: turn.id,
    ts: toMinute(endedAt),
    endedAt,
    gateway,
    agent: turn.agentId ?? null,
    provider: turn.provider ?? null,
    model: turn.model ?? null,
    channel: turn.channel ?? null,
    outcome: turn.outcome,
    turns: 1,
    modelCalls: turn.modelCalls.length,
    failedModelCalls,
    toolCalls: turn.toolCalls.length,
    toolFailures,
    inputTokens: count(turn.usage.input),
    outputTokens: count(turn.usage.output),
    cacheReadTokens: count(turn.usage.cacheRead),
    cacheWriteTokens: count(turn.usage.cacheWrite),
    // provenance kept apart: an unknown cost is counted as a turn, never summed as a silent zero
    costProviderUsd: source === "provider" ? usd : 0,
    costEstimatedUsd: source === "estimated" ? usd : 0,
    costUnknownTurns: source === "unknown" || turn.cost.usd === null ? 1 : 0,
    durationMs: count(turn.durationMs),
    latencyBucket: toLatencyBucket(turn.durationMs) ?? null,
    revision: turn.revision,
    tools: turn.toolCalls.slice(0, MAX_TOOLS).map((tool) => ({
      name: tool.toolName.slice(0, MAX_NAME_CHARS),
      ms: count(tool.durationMs ?? 0),
      failed: tool.outcome === "error" || tool.outcome === "blocked",
    })),
    errors: [
      ...turn.modelCalls
        .filter((call) => call.outcome === "error")
        .map((call) => call.errorCategory ?? call.failureKind ?? "unknown"),
      ...turn.toolCalls
        .filter((tool) => tool.outcome === "error" || tool.outcome === "blocked")
        .map((tool) => `tool:${tool.outcome === "blocked" ? "blocked" : (tool.errorCategory ?? "error")}`),
    ]
      .slice(0, MAX_ERRORS)
      .map((category) => category.slice(0, MAX_NAME_CHARS)),
  };
}

const MAX_TOOLS = 32;
const MAX_ERRORS = 16;
const MAX_NAME_CHARS = 100;

function count(value: number): number {
  return Number.isFinite(value) && value > 0 ? value : 0;
}
