/**
 * Turns and operational events → one batch of MLflow metric points per flush interval. Pure: no
 * timers, no I/O; the service calls `flush(step, now)` on its interval. Counters are per-interval
 * sums, so summing a key's history gives the run total (tokens and cost match the gateway exactly).
 * Memory stays bounded: per-model and per-channel keys are capped for the whole run (overflow goes
 * to `_other` and is counted), latency samples are capped per interval.
 */
import { type OperationalEvent, type Turn, toTurnAmendment } from "@clawscope/kit";
import {
  METRIC_KEYS,
  OVERFLOW_LABEL,
  REQUESTS_BY_CHANNEL_PREFIX,
  REQUESTS_BY_MODEL_PREFIX,
  toMetricLabel,
} from "./metric-keys.js";
import { createSampleList, type SampleList, toPercentile } from "./percentiles.js";

/** One metric point as MLflow's log-batch takes it. */
export interface MetricPoint {
  key: string;
  value: number;
  /** Epoch ms: the time of the interval's latest event. */
  timestamp: number;
  /** The flush interval's index since the run started. */
  step: number;
}

/** Options of {@link createMetricAggregator}. */
export interface MetricAggregatorOptions {
  /** Distinct model labels (and, separately, channel labels) kept per run (default 50). */
  maxLabels?: number;
  /** Latency samples kept per distribution per interval (default 10 000). */
  maxSamples?: number;
}

/** What {@link createMetricAggregator} returns. */
export interface MetricAggregator {
  recordTurn(turn: Turn): void;
  /** An operational event (`queue.lane.dequeue`, `session.stuck`); any other type is ignored. */
  recordEvent(event: OperationalEvent): void;
  /** True when the current interval holds something to flush. */
  hasData(): boolean;
  /** The interval's points (empty when nothing happened) and a fresh interval. */
  flush(step: number, nowMs: number): MetricPoint[];
  stats(): { labels: { model: number; channel: number }; droppedLabels: number };
}

interface Interval {
  counters: Map<string, number>;
  turnLatency: SampleList;
  modelLatency: SampleList;
  firstToken: SampleList;
  queueWait: SampleList;
  lastEventAt: number | undefined;
  recorded: number;
}

const OUTCOME_PREFIX = "outcomes.";

/** Creates the aggregator of one run. */
export function createMetricAggregator(options: MetricAggregatorOptions = {}): MetricAggregator {
  const maxLabels = Math.max(1, options.maxLabels ?? 50);
  const maxSamples = Math.max(1, options.maxSamples ?? 10_000);
  const labels = { model: new Set<string>(), channel: new Set<string>() };
  let droppedLabels = 0;
  let interval = newInterval();

  function newInterval(): Interval {
    return {
      counters: new Map(),
      turnLatency: createSampleList(maxSamples),
      modelLatency: createSampleList(maxSamples),
      firstToken: createSampleList(maxSamples),
      queueWait: createSampleList(maxSamples),
      lastEventAt: undefined,
      recorded: 0,
    };
  }
  const add = (key: string, value: unknown) => {
    if (typeof value !== "number" || !Number.isFinite(value) || value === 0) return;
    interval.counters.set(key, (interval.counters.get(key) ?? 0) + value);
  };
  const seen = (timeMs: unknown) => {
    interval.recorded += 1;
    if (typeof timeMs === "number" && Number.isFinite(timeMs) && timeMs > 0)
      interval.lastEventAt = Math.max(interval.lastEventAt ?? 0, timeMs);
  };
  // a label beyond the run's cap counts under `_other`, so totals stay whole while keys stay bounded
  const labelled = (kind: "model" | "channel", raw: unknown): string => {
    const label = toMetricLabel(raw);
    const set = labels[kind];
    if (set.has(label)) return label;
    if (set.size < maxLabels) {
      set.add(label);
      return label;
    }
    droppedLabels += 1;
    add(METRIC_KEYS.droppedKeys, 1);
    return OVERFLOW_LABEL;
  };

  /** An amended turn, counted once already: only what the amendment adds (counters never go down). */
  function recordAmendment(turn: Turn): void {
    const amendment = toTurnAmendment(turn);
    if (amendment === undefined) return;
    seen(turn.endedAt);
    add(METRIC_KEYS.amendedTurns, 1);
    if (!amendment.additive) add(METRIC_KEYS.amendmentsNotAdditive, 1);
    add(METRIC_KEYS.tokensInput, amendment.usage.input);
    add(METRIC_KEYS.tokensOutput, amendment.usage.output);
    add(METRIC_KEYS.tokensCacheRead, amendment.usage.cacheRead);
    add(METRIC_KEYS.tokensCacheWrite, amendment.usage.cacheWrite);
    add(METRIC_KEYS.costUsd, amendment.costUsd);
    for (const call of amendment.modelCalls) {
      add(METRIC_KEYS.modelCalls, 1);
      add(`${REQUESTS_BY_MODEL_PREFIX}${labelled("model", call?.model ?? turn.model)}`, 1);
      interval.modelLatency.add(call?.durationMs);
      interval.firstToken.add(call?.timeToFirstByteMs);
    }
    add(METRIC_KEYS.toolCalls, amendment.toolCalls.length);
    add(METRIC_KEYS.toolErrors, amendment.toolErrors);
  }

  return {
    recordTurn(turn) {
      if (typeof turn !== "object" || turn === null) return;
      if (turn.revision > 1) return recordAmendment(turn);
      seen(turn.endedAt);
      const usage = turn.usage ?? ({} as Partial<Turn["usage"]>);
      add(METRIC_KEYS.tokensInput, usage.input);
      add(METRIC_KEYS.tokensOutput, usage.output);
      add(METRIC_KEYS.tokensCacheRead, usage.cacheRead);
      add(METRIC_KEYS.tokensCacheWrite, usage.cacheWrite);
      const cost = turn.cost;
      if (cost && cost.source !== "unknown" && typeof cost.usd === "number" && Number.isFinite(cost.usd))
        add(METRIC_KEYS.costUsd, cost.usd);
      else add(METRIC_KEYS.costUnknownTurns, 1);
      add(METRIC_KEYS.turns, 1);
      add(`${OUTCOME_PREFIX}${turn.incomplete ? "incomplete" : toOutcome(turn.outcome)}`, 1);
      interval.turnLatency.add(turn.durationMs);
      add(`${REQUESTS_BY_CHANNEL_PREFIX}${labelled("channel", turn.channel)}`, 1);
      const modelCalls = Array.isArray(turn.modelCalls) ? turn.modelCalls : [];
      for (const call of modelCalls) {
        add(METRIC_KEYS.modelCalls, 1);
        add(`${REQUESTS_BY_MODEL_PREFIX}${labelled("model", call?.model ?? turn.model)}`, 1);
        interval.modelLatency.add(call?.durationMs);
        interval.firstToken.add(call?.timeToFirstByteMs);
      }
      const toolCalls = Array.isArray(turn.toolCalls) ? turn.toolCalls : [];
      for (const tool of toolCalls) {
        add(METRIC_KEYS.toolCalls, 1);
        if (tool?.outcome === "error") add(METRIC_KEYS.toolErrors, 1);
      }
    },
    recordEvent(event) {
      if (event.type === "queue.lane.dequeue") {
        seen(event.ts);
        add(METRIC_KEYS.queueDequeues, 1);
        interval.queueWait.add(event.waitMs);
      } else if (event.type === "session.stuck") {
        seen(event.ts);
        add(METRIC_KEYS.stuckSessions, 1);
      }
    },
    hasData: () => interval.recorded > 0 || interval.counters.size > 0,
    flush(step, nowMs) {
      const current = interval;
      interval = newInterval();
      if (current.recorded === 0 && current.counters.size === 0) return [];
      const timestamp = current.lastEventAt ?? nowMs;
      const points: MetricPoint[] = [];
      for (const [key, value] of current.counters) points.push({ key, value, timestamp, step });
      const distributions: [string, SampleList, number[]][] = [
        ["turn_latency_ms", current.turnLatency, [50, 95, 99]],
        ["model_call.latency_ms", current.modelLatency, [50, 95]],
        ["model_call.ttft_ms", current.firstToken, [50, 95]],
        ["queue.wait_ms", current.queueWait, [50, 95]],
      ];
      let droppedSamples = 0;
      for (const [name, samples, percentiles] of distributions) {
        droppedSamples += samples.dropped;
        const sorted = samples.sorted();
        for (const p of percentiles) {
          const value = toPercentile(sorted, p);
          if (value !== undefined) points.push({ key: `${name}.p${p}`, value, timestamp, step });
        }
      }
      if (droppedSamples > 0)
        points.push({ key: METRIC_KEYS.droppedSamples, value: droppedSamples, timestamp, step });
      return points;
    },
    stats: () => ({
      labels: { model: labels.model.size, channel: labels.channel.size },
      droppedLabels,
    }),
  };
}

const OUTCOMES = new Set(["success", "error", "aborted", "blocked"]);
function toOutcome(outcome: unknown): string {
  return typeof outcome === "string" && OUTCOMES.has(outcome) ? outcome : "unknown";
}
