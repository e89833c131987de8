/**
 * The metrics this extension exports: name, instrument, unit, description and the only labels
 * each may carry. Names and label keys follow the official `diagnostics-otel` plugin (so existing
 * dashboards read both) except where issue 3 names its own (`openclaw.token.type`,
 * `openclaw.cost.source`); `gen_ai.*` metrics follow the GenAI semantic conventions.
 */

/** One metric's definition. */
export interface MetricDefinition {
  name: string;
  /** Counters only go up (values ≥ 0); histograms record one observation per value. */
  kind: "counter" | "histogram";
  unit: string;
  description: string;
  /** The only label keys this metric may carry; a recording has these or a subset (values bounded). */
  labels: readonly string[];
  /** Explicit histogram bucket boundaries (same shape as the transport's metric table). */
  boundaries?: readonly number[];
}

const MODEL_LABELS = ["openclaw.provider", "openclaw.model", "openclaw.channel"] as const;
const GEN_AI_LABELS = ["gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model"] as const;
const WEBHOOK_LABELS = ["openclaw.channel", "openclaw.webhook"] as const;

/** Milliseconds from 5 ms to 10 minutes. */
const DURATION_MS_BUCKETS = [
  5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000,
];
/** The GenAI conventions' advice for `gen_ai.client.operation.duration` (seconds). */
const DURATION_S_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];
/** The GenAI conventions' advice for `gen_ai.client.token.usage` (powers of 4). */
const TOKEN_BUCKETS = [
  1, 4, 16, 64, 256, 1_024, 4_096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216, 67_108_864,
];
const DEPTH_BUCKETS = [0, 1, 2, 5, 10, 20, 50, 100, 250, 1_000];

/** Every metric, by name. */
export const METRICS = {
  tokens: {
    name: "openclaw.tokens",
    kind: "counter",
    unit: "{token}",
    description:
      "Tokens used by turns, by type (input excludes cache reads and writes, as the gateway counts).",
    labels: ["openclaw.token.type", ...MODEL_LABELS, "openclaw.agent"],
  },
  costUsd: {
    name: "openclaw.cost.usd",
    kind: "counter",
    unit: "{USD}",
    description:
      "Cost of turns in US dollars; only provider-reported or estimated costs, never unknown ones.",
    labels: [...MODEL_LABELS, "openclaw.agent", "openclaw.cost.source"],
  },
  runDuration: {
    name: "openclaw.run.duration_ms",
    kind: "histogram",
    unit: "ms",
    description: "Duration of turns (agent runs); outcome `incomplete` for turns closed before they ended.",
    labels: ["openclaw.outcome", ...MODEL_LABELS],
    boundaries: DURATION_MS_BUCKETS,
  },
  contextTokens: {
    name: "openclaw.context.tokens",
    kind: "histogram",
    unit: "{token}",
    description: "Context window per turn: `openclaw.context` = used (prompt size) or limit.",
    labels: ["openclaw.context", ...MODEL_LABELS],
    boundaries: TOKEN_BUCKETS,
  },
  webhookReceived: {
    name: "openclaw.webhook.received",
    kind: "counter",
    unit: "{webhook}",
    description: "Webhook updates received by channels.",
    labels: WEBHOOK_LABELS,
  },
  webhookError: {
    name: "openclaw.webhook.error",
    kind: "counter",
    unit: "{webhook}",
    description: "Webhook updates whose processing failed.",
    labels: WEBHOOK_LABELS,
  },
  webhookDuration: {
    name: "openclaw.webhook.duration_ms",
    kind: "histogram",
    unit: "ms",
    description: "Time to process a webhook update.",
    labels: WEBHOOK_LABELS,
    boundaries: DURATION_MS_BUCKETS,
  },
  messageQueued: {
    name: "openclaw.message.queued",
    kind: "counter",
    unit: "{message}",
    description: "Inbound messages queued for a session.",
    labels: ["openclaw.channel", "openclaw.source"],
  },
  messageProcessed: {
    name: "openclaw.message.processed",
    kind: "counter",
    unit: "{message}",
    description: "Inbound messages processed, by outcome (completed, skipped, error).",
    labels: ["openclaw.channel", "openclaw.outcome"],
  },
  messageDuration: {
    name: "openclaw.message.duration_ms",
    kind: "histogram",
    unit: "ms",
    description: "Time from receiving an inbound message to finishing it.",
    labels: ["openclaw.channel", "openclaw.outcome"],
    boundaries: DURATION_MS_BUCKETS,
  },
  queueDepth: {
    name: "openclaw.queue.depth",
    kind: "histogram",
    unit: "{item}",
    description:
      "Queue depth seen at lane enqueue/dequeue (`openclaw.lane`) and at heartbeats (`openclaw.channel` = heartbeat).",
    labels: ["openclaw.lane", "openclaw.channel"],
    boundaries: DEPTH_BUCKETS,
  },
  queueWait: {
    name: "openclaw.queue.wait_ms",
    kind: "histogram",
    unit: "ms",
    description: "Time work waited in a lane before it started.",
    labels: ["openclaw.lane"],
    boundaries: DURATION_MS_BUCKETS,
  },
  sessionState: {
    name: "openclaw.session.state",
    kind: "counter",
    unit: "{transition}",
    description: "Session state transitions (idle, processing, waiting) by reason.",
    labels: ["openclaw.state", "openclaw.reason"],
  },
  sessionStuck: {
    name: "openclaw.session.stuck",
    kind: "counter",
    unit: "{session}",
    description: "Sessions the gateway found stuck (stale bookkeeping it then recovers).",
    labels: ["openclaw.state"],
  },
  sessionStuckAge: {
    name: "openclaw.session.stuck_age_ms",
    kind: "histogram",
    unit: "ms",
    description: "How long a stuck session had been in its state.",
    labels: ["openclaw.state"],
    boundaries: DURATION_MS_BUCKETS,
  },
  genAiTokenUsage: {
    name: "gen_ai.client.token.usage",
    kind: "histogram",
    unit: "{token}",
    description: "Tokens per model request (GenAI conventions; input includes cached tokens).",
    labels: ["gen_ai.token.type", ...GEN_AI_LABELS],
    boundaries: TOKEN_BUCKETS,
  },
  genAiOperationDuration: {
    name: "gen_ai.client.operation.duration",
    kind: "histogram",
    unit: "s",
    description: "Duration of model requests (`chat`) and whole turns (`invoke_agent`), GenAI conventions.",
    labels: [...GEN_AI_LABELS, "error.type"],
    boundaries: DURATION_S_BUCKETS,
  },
} as const satisfies Record<string, MetricDefinition>;

/** A metric's key in {@link METRICS}. */
export type MetricKey = keyof typeof METRICS;
/** A metric's name. */
export type MetricName = (typeof METRICS)[MetricKey]["name"];

/** Every definition, in a stable order. */
export const METRIC_DEFINITIONS: readonly MetricDefinition[] = Object.values(METRICS);

const BY_NAME: ReadonlyMap<string, MetricDefinition> = new Map(
  METRIC_DEFINITIONS.map((definition) => [definition.name, definition]),
);

/** The definition of a metric name, or undefined. */
export function findMetricDefinition(name: string): MetricDefinition | undefined {
  return BY_NAME.get(name);
}

/** One value to add to a counter or record in a histogram, with its (bounded) labels. */
export interface MetricRecording {
  name: MetricName;
  value: number;
  attributes: Record<string, string>;
}
