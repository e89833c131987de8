/**
 * The normalized records every extension maps from: a Turn (one agent run) with its model calls,
 * tool calls, usage, cost and outcome. Pure data; JSON-serializable, so it can be spooled.
 */

/** Where a cost figure came from. Never a silent zero: no figure at all is `unknown`. */
export type CostSource = "provider" | "estimated" | "unknown";

/** A cost in US dollars with its provenance. `usd` is null when the source is `unknown`. */
export interface Cost {
  usd: number | null;
  source: CostSource;
}

/** Token counts. `input` excludes cache reads and writes, as the host reports it. */
export interface Usage {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  /** Reasoning tokens when a provider reports them separately (already inside `output`). */
  reasoning?: number;
  total: number;
}

/** How a turn ended, after recovering provider failures the host reports as completed runs. */
export type TurnOutcome = "success" | "error" | "aborted" | "blocked" | "unknown";

/** One provider request inside a turn (`<runId>:model:N`). */
export interface ModelCall {
  /** The host's call id; a retried run repeats it, so `attempt` tells the requests apart. */
  callId: string;
  /** Which run of the turn made the call (1 for the first; retries and fallbacks count up). */
  attempt: number;
  provider?: string;
  model?: string;
  api?: string;
  startedAt?: number;
  endedAt?: number;
  durationMs?: number;
  timeToFirstByteMs?: number;
  usage: Usage;
  cost: Cost;
  outcome: "success" | "error" | "pending";
  errorCategory?: string;
  failureKind?: string;
  /** The provider's HTTP status of a failed call, when the host's message gives it. */
  errorStatus?: number;
  /** A fixed, content-free description of the failure (safe to export with content capture off). */
  errorReason?: string;
  /**
   * The provider's error text for this call, redacted and bounded, for analysis inside the gateway
   * only (the knowledge base groups failures by it); exporters never send it.
   */
  errorDiagnostic?: string;
  /** Span ids the host assigned; extensions may reuse them to keep the host's trace shape. */
  spanId?: string;
  parentSpanId?: string;
  requestBytes?: number;
  responseBytes?: number;
  /** Prompt and completion text, only when content capture is on (already redacted and bounded). */
  content?: { input?: string; output?: string };
}

/** One tool execution inside a turn. */
export interface ToolCall {
  toolCallId: string;
  toolName: string;
  toolSource?: string;
  toolOwner?: string;
  startedAt?: number;
  endedAt?: number;
  durationMs?: number;
  outcome: "success" | "error" | "blocked" | "pending";
  errorCategory?: string;
  /**
   * The tool's error text, redacted (secrets, personal data) and bounded, for analysis inside the
   * gateway only (the knowledge base groups failures by it); exporters never send it.
   */
  errorDiagnostic?: string;
  spanId?: string;
  parentSpanId?: string;
  /** Tool input and output, only when content capture is on (already redacted and bounded). */
  content?: { input?: string; output?: string };
}

/** How a turn failed. Only `message` can hold the host's text, and only when content capture is on. */
export interface TurnError {
  category?: string;
  /** The provider's HTTP status, when the host's message gives it. */
  status?: number;
  /** A fixed, content-free line (`the provider rate-limited the request (HTTP 429)`): always safe to export. */
  reason: string;
  /** The host's own text, redacted and bounded; present only when content capture is on. */
  message?: string;
  /**
   * The same text, redacted and bounded, for analysis inside the gateway (the knowledge base groups
   * failures by it); exporters never send it. Kept only with content capture on, like `message`.
   */
  diagnostic?: string;
  /** Which input said so (`model.call.error`, `llm_output`, …). */
  source: string;
}

/** A fallback from one model to another that the host made during the turn (`model.failover`). */
export interface ModelFallback {
  fromProvider?: string;
  fromModel?: string;
  toProvider?: string;
  toModel?: string;
  reason?: string;
}

/** The figures of the revision of a turn an amendment replaces, so counters can add the difference. */
export interface TurnRevisionFigures {
  usage: Usage;
  cost: Cost;
  outcome: TurnOutcome;
  modelCalls: number;
  toolCalls: number;
  toolErrors: number;
  incomplete: boolean;
}

/** Why a turn was closed before everything arrived, and what never came. */
export interface TurnIncomplete {
  reason: "timeout" | "evicted" | "shutdown";
  /** Human-readable names of what never arrived, e.g. `run.completed`, `model.call.completed mock:model:2`. */
  missing: string[];
}

/** One agent run, assembled from the bus and the hooks. `id` is stable: backends de-duplicate on it. */
export interface Turn {
  id: string;
  runId: string;
  traceId?: string;
  /** The run's own span id as the host reported it on run.started/run.completed. */
  spanId?: string;
  parentSpanId?: string;
  sessionKey?: string;
  sessionId?: string;
  agentId?: string;
  channel?: string;
  trigger?: string;
  provider?: string;
  model?: string;
  startedAt: number;
  endedAt: number;
  durationMs: number;
  modelCalls: ModelCall[];
  toolCalls: ToolCall[];
  /** The turn's totals; equal to the host's own `model.usage` when it was emitted. */
  usage: Usage;
  cost: Cost;
  /** Which figures `usage` and `cost` come from (`llm_output`: the run aggregate, when the bus was silent). */
  usageSource: "model.usage" | "llm_output" | "model.calls" | "none";
  outcome: TurnOutcome;
  /** What the host itself said (`run.completed.outcome`), which can be `completed` for a failed turn. */
  hostOutcome?: string;
  error?: TurnError;
  /** How many times the host ran the turn (retries of a failed provider call, fallbacks): 1 normally. */
  attempts: number;
  /** Fallbacks to other models, in order (`model.failover`). */
  fallbacks?: ModelFallback[];
  incomplete?: TurnIncomplete;
  /**
   * 1 for the first export of a turn. Input that arrived after the turn was exported reopens it: the
   * amended turn is exported again under the same ids with `revision` counting up, and `previous`
   * holds the figures it replaces.
   */
  revision: number;
  previous?: TurnRevisionFigures;
  context?: { limit?: number; used?: number };
  /** Who sent the message that started the turn, when the channel says (`message_received.senderId`); raw, hash before export. */
  senderId?: string;
}

/** A session's running totals. */
export interface SessionRollup {
  sessionKey: string;
  sessionId?: string;
  agentId?: string;
  channel?: string;
  turns: number;
  usage: Usage;
  costUsd: number;
  /** Turns whose cost was `unknown` (so `costUsd` is a lower bound when this is non-zero). */
  turnsWithUnknownCost: number;
  outcomes: Record<TurnOutcome, number>;
  firstSeenAt: number;
  lastSeenAt: number;
}
