/**
 * Metric keys this extension logs. Every counter is a per-interval sum (not cumulative), so the
 * SUM of a key's history over the run equals the gateway's own total for the run.
 */

/** Keys of the per-interval counters and distributions. */
export const METRIC_KEYS = {
  tokensInput: "tokens.input",
  tokensOutput: "tokens.output",
  tokensCacheRead: "tokens.cache_read",
  tokensCacheWrite: "tokens.cache_write",
  costUsd: "cost_usd",
  costUnknownTurns: "cost.unknown_turns",
  turns: "turns",
  /** Turns exported again after late input: their counters add only the difference. */
  amendedTurns: "turns.amended",
  amendmentsNotAdditive: "turns.amended_not_additive",
  modelCalls: "model_calls",
  toolCalls: "tool_calls",
  toolErrors: "tool_errors",
  queueDequeues: "queue.dequeues",
  stuckSessions: "sessions.stuck",
  droppedKeys: "clawscope.metric_keys_dropped",
  droppedSamples: "clawscope.latency_samples_dropped",
} as const;

/** Prefixes of the bounded per-model and per-channel request counters. */
export const REQUESTS_BY_MODEL_PREFIX = "requests.model.";
export const REQUESTS_BY_CHANNEL_PREFIX = "requests.channel.";
/** The key that takes the counts of labels beyond the cap. */
export const OVERFLOW_LABEL = "_other";

const MAX_LABEL_CHARS = 100;

/**
 * A label (model id, channel name) as a key segment MLflow accepts: characters outside
 * `[\w.\- :]` (including `/`, which MLflow would treat as a path) become `_`, cut to 100 chars.
 */
export function toMetricLabel(label: unknown): string {
  if (typeof label !== "string" || label.trim() === "") return "unknown";
  const cleaned = label
    .trim()
    .replace(/[^\w.\- :]/g, "_")
    .slice(0, MAX_LABEL_CHARS);
  return cleaned === OVERFLOW_LABEL ? "_other_" : cleaned;
}
