/**
 * A turn as metric recordings: pure values with bounded labels, for the transport's private
 * meter. Every turn counts, sampled out or not: sampling applies to traces and logs only.
 */
import { type ModelCall, type Turn, toTurnAmendment, type Usage } from "@clawscope/kit";
import { toLabelValue } from "./metric-labels.js";
import { METRICS, type MetricRecording } from "./metric-names.js";

const TOKEN_TYPES = [
  ["input", "input"],
  ["output", "output"],
  ["cache_read", "cacheRead"],
  ["cache_write", "cacheWrite"],
] as const satisfies ReadonlyArray<readonly [string, keyof Usage]>;

/**
 * The recordings for one turn: `openclaw.tokens` per token type, `openclaw.cost.usd` (priced
 * turns only), `openclaw.run.duration_ms`, `openclaw.context.tokens`, and per model call
 * `gen_ai.client.token.usage` and `gen_ai.client.operation.duration` (plus one `invoke_agent`
 * duration for the turn). Zero token counts are left out; labels never hold ids.
 */
export function toMetricRecordings(turn: Turn): MetricRecording[] {
  if (turn.revision > 1) return toAmendmentRecordings(turn);
  const model = toModelLabels(turn);
  const known = turn.cost.source !== "unknown" && isNonNegative(turn.cost.usd);
  const recordings = toSpendRecordings(
    turn,
    turn.usage,
    known ? (turn.cost.usd ?? undefined) : undefined,
    turn.cost.source,
  );
  if (isNonNegative(turn.durationMs)) {
    const outcome = turn.incomplete ? "incomplete" : turn.outcome;
    recordings.push({
      name: METRICS.runDuration.name,
      value: turn.durationMs,
      attributes: { "openclaw.outcome": toLabelValue(outcome), ...model },
    });
    recordings.push({
      name: METRICS.genAiOperationDuration.name,
      value: turn.durationMs / 1000,
      attributes: toGenAiLabels(
        "invoke_agent",
        turn.provider,
        turn.model,
        turn.outcome === "error" ? (turn.error?.category ?? "_OTHER") : undefined,
      ),
    });
  }
  for (const [which, value] of [
    ["used", turn.context?.used],
    ["limit", turn.context?.limit],
  ] as const) {
    if (!isNonNegative(value)) continue;
    recordings.push({
      name: METRICS.contextTokens.name,
      value,
      attributes: { "openclaw.context": which, ...model },
    });
  }
  recordings.push(...toModelCallRecordings(turn));
  return recordings;
}

/**
 * An amended turn was counted once already: only what the amendment adds — tokens, cost, and the
 * tokens and duration of calls it adds. Counters cannot go down; a change that is not an addition
 * keeps the earlier figures (the service counts those).
 */
function toAmendmentRecordings(turn: Turn): MetricRecording[] {
  const amendment = toTurnAmendment(turn);
  if (amendment === undefined) return [];
  const recordings = toSpendRecordings(turn, amendment.usage, amendment.costUsd, amendment.costSource);
  recordings.push(
    ...toModelCallRecordings({ ...turn, modelCalls: amendment.modelCalls, usage: amendment.usage }),
  );
  return recordings;
}

function toModelLabels(turn: Turn): Record<string, string> {
  return {
    "openclaw.provider": toLabelValue(turn.provider),
    "openclaw.model": toLabelValue(turn.model),
    "openclaw.channel": toLabelValue(turn.channel),
  };
}

/** `openclaw.tokens` per token type (zero counts left out) and `openclaw.cost.usd` when a figure is known. */
function toSpendRecordings(
  turn: Turn,
  usage: Usage,
  costUsd: number | undefined,
  costSource: string,
): MetricRecording[] {
  const recordings: MetricRecording[] = [];
  const model = toModelLabels(turn);
  const agent = toLabelValue(turn.agentId);
  for (const [tokenType, field] of TOKEN_TYPES) {
    const value = usage[field];
    if (!isPositive(value)) continue;
    recordings.push({
      name: METRICS.tokens.name,
      value,
      attributes: { "openclaw.token.type": tokenType, ...model, "openclaw.agent": agent },
    });
  }
  if (isNonNegative(costUsd)) {
    recordings.push({
      name: METRICS.costUsd.name,
      value: costUsd,
      attributes: { ...model, "openclaw.agent": agent, "openclaw.cost.source": costSource },
    });
  }
  return recordings;
}

/**
 * Per model call: tokens (input with cache, output) and duration. When the calls carry no usage
 * but the turn does (the bus was silent and the figures came from `llm_output`), the turn's
 * totals are recorded once as one `chat` operation instead, so the totals still add up.
 */
function toModelCallRecordings(turn: Turn): MetricRecording[] {
  const recordings: MetricRecording[] = [];
  const finished = turn.modelCalls.filter((call) => call.outcome !== "pending");
  const callsHaveUsage = finished.some((call) => hasUsage(call.usage));
  for (const call of finished) {
    const provider = call.provider ?? turn.provider;
    const model = call.model ?? turn.model;
    if (hasUsage(call.usage)) recordings.push(...toTokenUsage(call.usage, provider, model));
    if (isNonNegative(call.durationMs)) {
      recordings.push({
        name: METRICS.genAiOperationDuration.name,
        value: call.durationMs / 1000,
        attributes: toGenAiLabels("chat", provider, model, errorType(call)),
      });
    }
  }
  if (!callsHaveUsage && hasUsage(turn.usage)) {
    recordings.push(...toTokenUsage(turn.usage, turn.provider, turn.model));
  }
  return recordings;
}

function toTokenUsage(
  usage: Usage,
  provider: string | undefined,
  model: string | undefined,
): MetricRecording[] {
  const input = usage.input + usage.cacheRead + usage.cacheWrite;
  const recordings: MetricRecording[] = [];
  for (const [tokenType, value] of [
    ["input", input],
    ["output", usage.output],
  ] as const) {
    if (!isNonNegative(value)) continue;
    recordings.push({
      name: METRICS.genAiTokenUsage.name,
      value,
      attributes: { "gen_ai.token.type": tokenType, ...toGenAiLabels("chat", provider, model, undefined) },
    });
  }
  return recordings;
}

function toGenAiLabels(
  operation: string,
  provider: string | undefined,
  model: string | undefined,
  errorTypeValue: string | undefined,
): Record<string, string> {
  const labels: Record<string, string> = {
    "gen_ai.operation.name": operation,
    "gen_ai.provider.name": toLabelValue(provider),
    "gen_ai.request.model": toLabelValue(model),
  };
  if (errorTypeValue !== undefined) labels["error.type"] = toLabelValue(errorTypeValue);
  return labels;
}

function errorType(call: ModelCall): string | undefined {
  return call.outcome === "error" ? (call.errorCategory ?? call.failureKind ?? "_OTHER") : undefined;
}

function hasUsage(usage: Usage): boolean {
  return usage.total > 0 || usage.input + usage.output + usage.cacheRead + usage.cacheWrite > 0;
}

function isPositive(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value > 0;
}

function isNonNegative(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}
