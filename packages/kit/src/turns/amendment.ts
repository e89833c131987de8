/**
 * What an amended turn (`revision > 1`) adds to counters that already counted its earlier
 * revision. Backends that upsert by id take the whole amended turn again; counters (metrics) can
 * only add, so they take the difference — and say so when a figure went down instead.
 */
import { roundUsd } from "./cost.js";
import type { CostSource, ModelCall, ToolCall, Turn, Usage } from "./turn.js";
import { subtractUsage } from "./usage.js";

/** The difference an amendment makes, as additions. */
export interface TurnAmendment {
  /** Tokens added, per bucket (never negative). */
  usage: Usage;
  /** Dollars added, when both revisions' costs are known; undefined otherwise. */
  costUsd?: number;
  costSource: CostSource;
  /** Model and tool calls beyond the earlier revision's count. */
  modelCalls: ModelCall[];
  toolCalls: ToolCall[];
  /** Tool failures beyond the earlier revision's count. */
  toolErrors: number;
  /**
   * False when the change is not a pure addition (a figure went down, the outcome or the cost's
   * provenance changed): counters then keep the earlier figures for those, and the caller counts it.
   */
  additive: boolean;
}

/** The additions of an amendment; undefined for a first export (or a record without its previous figures). */
export function toTurnAmendment(turn: Turn): TurnAmendment | undefined {
  const previous = turn.revision > 1 ? turn.previous : undefined;
  if (previous === undefined) return undefined;
  const usage = subtractUsage(turn.usage, previous.usage);
  const shrank = subtractUsage(previous.usage, turn.usage);
  const tokensWentDown = shrank.input + shrank.output + shrank.cacheRead + shrank.cacheWrite > 0;
  const known = (cost: Turn["cost"]) => cost.source !== "unknown" && typeof cost.usd === "number";
  // a cost unknown before and known now adds all of it (counters counted none of it)
  const costDelta = known(turn.cost)
    ? roundUsd((turn.cost.usd ?? 0) - (known(previous.cost) ? (previous.cost.usd ?? 0) : 0))
    : undefined;
  const toolErrors = turn.toolCalls.filter((tool) => tool.outcome === "error").length;
  const amendment: TurnAmendment = {
    usage,
    costSource: turn.cost.source,
    modelCalls: turn.modelCalls.slice(previous.modelCalls),
    toolCalls: turn.toolCalls.slice(previous.toolCalls),
    toolErrors: Math.max(0, toolErrors - previous.toolErrors),
    additive:
      !tokensWentDown &&
      turn.outcome === previous.outcome &&
      turn.cost.source === previous.cost.source &&
      (costDelta === undefined || costDelta >= 0) &&
      turn.modelCalls.length >= previous.modelCalls &&
      turn.toolCalls.length >= previous.toolCalls &&
      toolErrors >= previous.toolErrors,
  };
  if (costDelta !== undefined && costDelta > 0) amendment.costUsd = costDelta;
  return amendment;
}
