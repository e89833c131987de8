/**
 * Builders of realistic host input for one agent run: diagnostic bus events with their metadata and
 * the matching hook calls, in the order the real gateway delivers them (shapes copied from
 * `captured/e2e-http-2turns`), plus helpers to shuffle, delay and drop them.
 */
import type { CapturedInput } from "./captured.js";

/** One provider request of the run. */
export interface ModelCallSpec {
  usage?: { input: number; output: number; cacheRead?: number; cacheWrite?: number };
  /** The host's cost for the call; `null` leaves it out; default: priced at 3/15 USD per million. */
  costUsd?: number | null;
  /** Makes the call fail like a provider 4xx. */
  error?: { category?: string; failureKind?: string; message?: string };
  durationMs?: number;
}

/** One tool execution, made after the model call at `afterCall` (default 0). */
export interface ToolSpec {
  toolName: string;
  toolCallId?: string;
  params?: unknown;
  result?: unknown;
  /** Makes the tool fail with this message. */
  error?: string;
  afterCall?: number;
}

/** One run of the turn by the host: the first try, a retry after a failure, or a fallback. */
export interface AttemptSpec {
  /** Default: one successful call of 111 input + 22 output tokens. */
  modelCalls?: ModelCallSpec[];
  tools?: ToolSpec[];
  /** The model this attempt ran (a fallback names another); default the turn's. */
  provider?: string;
  model?: string;
  /** Host time between the previous attempt's end and this one's start (default 1000 ms). */
  delayMs?: number;
}

/** What to build. Every field but `runId` has a realistic default. */
export interface TurnSpec {
  runId: string;
  traceId?: string;
  /** The canonical key (`agent:main:<key>`). */
  sessionKey?: string;
  sessionId?: string;
  channel?: string;
  provider?: string;
  model?: string;
  /** Host time (`ts`) of the first event; default 1_795_000_000_000. */
  startTs?: number;
  /** Default: one successful call of 111 input + 22 output tokens. */
  modelCalls?: ModelCallSpec[];
  tools?: ToolSpec[];
  /** Several runs of the turn (retries, fallbacks); replaces `modelCalls` and `tools` when set. */
  attempts?: AttemptSpec[];
  /** Emit the host's end-of-run `session.state` idle (untrusted, before `model.usage`); default true. */
  withEndMarker?: boolean;
  /** `run.completed.outcome`; default `completed` (also for provider failures, as the host does). */
  hostOutcome?: "completed" | "aborted" | "blocked" | "error";
  /** Emit `model.usage`; default: when any call of any attempt succeeded (the host emits none otherwise). */
  withModelUsage?: boolean;
  /** `model.usage.sessionKey` as the raw header value (the HTTP path); default true. */
  rawUsageSessionKey?: boolean;
  /** Emit bus events at all (false: `diagnostics.enabled: false`); default true. */
  withBus?: boolean;
  /** Fire `llm_output` and `agent_end` (false: no conversation access); default true. */
  withConversationHooks?: boolean;
}

/** The built run: every input in delivery order, and the figures the gateway would report. */
export interface BuiltTurn {
  inputs: CapturedInput[];
  events: Array<{ event: Record<string, unknown> & { type: string }; metadata: Record<string, unknown> }>;
  hooks: Array<{ name: string; event: unknown; context: unknown }>;
  callIds: string[];
  toolCallIds: string[];
  traceId: string;
  /** The run's totals over all calls (what `model.usage` says when emitted). */
  totals: {
    input: number;
    output: number;
    cacheRead: number;
    cacheWrite: number;
    total: number;
    costUsd: number;
  };
}

/** Anything with the assembler's input methods. */
export interface HostInputTarget {
  handleEvent(event: unknown, metadata?: unknown): void;
  handleHook(name: string, event: unknown, context: unknown): void;
}

/** Price of the mock model in the captured runs: 3 USD input, 15 USD output per million tokens. */
export function mockModelCost(usage: { input: number; output: number }): number {
  return Math.round(((usage.input * 3 + usage.output * 15) / 1_000_000) * 1e12) / 1e12;
}

/** Builds one run's bus events and hook calls. */
export function buildTurnEvents(spec: TurnSpec): BuiltTurn {
  const runId = spec.runId;
  const traceId = spec.traceId ?? hexOf(runId, 32);
  const sessionKey = spec.sessionKey ?? "agent:main:s1";
  const sessionId = spec.sessionId ?? `session-${hexOf(sessionKey, 8)}`;
  const channel = spec.channel ?? "webchat";
  const withBus = spec.withBus ?? true;
  const withConversation = spec.withConversationHooks ?? true;
  const attempts: AttemptSpec[] = spec.attempts ?? [{ modelCalls: spec.modelCalls, tools: spec.tools }];
  const startTs = spec.startTs ?? 1_795_000_000_000;
  let ts = startTs;
  let spanCounter = 0;
  const span = () => {
    spanCounter += 1;
    return hexOf(`${runId}:span:${spanCounter}`, 16);
  };
  const rootSpan = span();
  const trace = (spanId: string, parentSpanId: string) => ({
    traceId,
    spanId,
    parentSpanId,
    traceFlags: "01",
  });

  const built: BuiltTurn = {
    inputs: [],
    events: [],
    hooks: [],
    callIds: [],
    toolCallIds: [],
    traceId,
    totals: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0, costUsd: 0 },
  };
  const late: CapturedInput[] = [];
  const emit = (event: Record<string, unknown> & { type: string }, deferred = false, trusted = true) => {
    if (!withBus) return;
    ts += 5;
    const full = { ...event, seq: built.events.length + 1, ts };
    const row = { event: full, metadata: { trusted } };
    built.events.push(row);
    (deferred ? late : built.inputs).push({ kind: "event", at: ts, ...row });
  };
  const hook = (name: string, event: unknown, context: unknown) => {
    ts += 5;
    built.hooks.push({ name, event, context });
    built.inputs.push({ kind: "hook", at: ts, name, event, context });
  };
  const hookContext = { runId, agentId: "main", sessionKey, sessionId, channel, trigger: "user" };
  let anySucceeded = false;
  let last = { provider: spec.provider ?? "mock", model: spec.model ?? "mock-model" };

  attempts.forEach((attempt, attemptIndex) => {
    const provider = attempt.provider ?? spec.provider ?? "mock";
    const model = attempt.model ?? spec.model ?? "mock-model";
    last = { provider, model };
    const calls = attempt.modelCalls ?? [{}];
    const harnessSpan = span();
    const runSpan = span();
    const attemptStart = ts;
    const identity = { runId, sessionKey, sessionId, provider, model, trigger: "user", channel };
    const attemptTotals = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0, costUsd: 0 };
    if (attemptIndex > 0) ts += attempt.delayMs ?? 1000;
    emit({
      type: "harness.run.started",
      ...identity,
      harnessId: "openclaw",
      trace: trace(harnessSpan, rootSpan),
    });
    emit({ type: "run.started", ...identity, trace: trace(runSpan, harnessSpan) });
    if (attemptIndex > 0) {
      emit(
        {
          type: "session.state",
          sessionKey,
          sessionId,
          state: "processing",
          reason: "run_replaced",
          trace: trace(harnessSpan, rootSpan),
        },
        false,
        false,
      );
    }
    emit({
      type: "context.assembled",
      ...identity,
      messageCount: 0,
      promptChars: 24,
      trace: trace(span(), runSpan),
    });

    const assistantMessages: unknown[] = [];
    calls.forEach((call, index) => {
      const callId = `${runId}:model:${index + 1}`;
      built.callIds.push(callId);
      const callSpan = span();
      const base = {
        ...identity,
        callId,
        api: "openai-completions",
        transport: "auto",
        observationUnit: "request",
      };
      const callTrace = trace(callSpan, runSpan);
      const usage = call.error ? { input: 0, output: 0 } : (call.usage ?? { input: 111, output: 22 });
      const cacheRead = call.error ? 0 : (call.usage?.cacheRead ?? 0);
      const cacheWrite = call.error ? 0 : (call.usage?.cacheWrite ?? 0);
      const total = usage.input + usage.output + cacheRead + cacheWrite;
      const cost = call.error ? 0 : call.costUsd === undefined ? mockModelCost(usage) : call.costUsd;
      const hostUsage = { input: usage.input, output: usage.output, cacheRead, cacheWrite, total };
      const usageWithCost = cost === null ? hostUsage : { ...hostUsage, cost: { total: cost } };
      const durationMs = call.durationMs ?? 120;
      emit({ type: "model.call.started", ...base, trace: callTrace });
      hook("model_call_started", { ...base }, { runId, sessionKey, sessionId, trace: callTrace });
      const ended = {
        ...base,
        durationMs,
        timeToFirstByteMs: 40,
        requestPayloadBytes: 148_000,
        responseStreamBytes: 700,
      };
      hook(
        "model_call_ended",
        call.error
          ? { ...ended, outcome: "error", errorCategory: call.error.category ?? "Error" }
          : { ...ended, outcome: "completed" },
        { runId, sessionKey, sessionId, trace: callTrace },
      );
      const isLast = index === calls.length - 1;
      // the host drains model.call.* asynchronously: the last one lands after run.completed
      emit(
        call.error
          ? {
              type: "model.call.error",
              ...ended,
              errorCategory: call.error.category ?? "Error",
              ...(call.error.failureKind ? { failureKind: call.error.failureKind } : {}),
              usage: usageWithCost,
              trace: callTrace,
            }
          : {
              type: "model.call.completed",
              ...ended,
              usage: { ...usageWithCost, promptTokens: usage.input },
              trace: callTrace,
            },
        isLast,
      );
      assistantMessages.push({
        role: "assistant",
        content: call.error ? [] : [{ type: "text", text: `mock reply #${index + 1}` }],
        provider,
        model,
        usage: { ...hostUsage, totalTokens: total, cost: { total: cost ?? 0 } },
        stopReason: call.error ? "error" : isLast ? "stop" : "toolUse",
        ...(call.error ? { errorMessage: call.error.message ?? "400 mock upstream failure 400" } : {}),
      });
      if (!call.error) {
        anySucceeded = true;
        for (const totals of [built.totals, attemptTotals]) {
          totals.input += usage.input;
          totals.output += usage.output;
          totals.cacheRead += cacheRead;
          totals.cacheWrite += cacheWrite;
          totals.total += total;
          totals.costUsd = Math.round((totals.costUsd + (cost ?? 0)) * 1e12) / 1e12;
        }
      }
      for (const tool of (attempt.tools ?? []).filter((candidate) => (candidate.afterCall ?? 0) === index)) {
        emitTool(tool, runSpan, harnessSpan);
      }
    });

    const harnessContext = { ...hookContext, trace: trace(harnessSpan, rootSpan) };
    if (withConversation) {
      const lastAssistant = assistantMessages.at(-1);
      hook(
        "agent_end",
        {
          messages: [{ role: "user", content: "prompt" }, ...assistantMessages],
          success: true,
          durationMs: 300,
          runId,
        },
        harnessContext,
      );
      const output: Record<string, unknown> = {
        runId,
        sessionId,
        provider,
        model,
        lastAssistant,
        assistantTexts: [],
      };
      // once per attempt, over that attempt's own calls
      if (attemptTotals.total > 0) {
        output.usage = { ...withoutCostTotal(attemptTotals), cost: { total: attemptTotals.costUsd } };
      }
      hook("llm_output", output, harnessContext);
    }
    emit({
      type: "run.completed",
      ...identity,
      durationMs: ts - attemptStart,
      outcome: spec.hostOutcome ?? "completed",
      trace: trace(runSpan, harnessSpan),
    });
    for (const input of late) built.inputs.push(input);
    late.length = 0;
    const items = (attempt.tools ?? []).length;
    emit({
      type: "harness.run.completed",
      ...identity,
      harnessId: "openclaw",
      outcome: "completed",
      itemLifecycle: { startedCount: items, completedCount: items, activeCount: 0 },
      trace: trace(harnessSpan, rootSpan),
    });
  });

  if (spec.withEndMarker ?? true) {
    // the host's own "the run is over": public, after the last attempt, before model.usage
    emit(
      {
        type: "session.state",
        sessionKey,
        sessionId,
        prevState: "processing",
        state: "idle",
        reason: "run_completed",
        queueDepth: 0,
        trace: { traceId, spanId: rootSpan, traceFlags: "01" },
      },
      false,
      false,
    );
  }
  if (spec.withModelUsage ?? anySucceeded) {
    const usageEvent: Record<string, unknown> & { type: string } = {
      type: "model.usage",
      sessionKey: (spec.rawUsageSessionKey ?? true) ? sessionKey.replace(/^agent:[^:]+:/, "") : sessionKey,
      sessionId,
      channel,
      provider: last.provider,
      model: last.model,
      usage: { ...withoutCostTotal(built.totals), promptTokens: built.totals.input },
      costUsd: built.totals.costUsd,
      context: { limit: 128_000, used: 111 },
      durationMs: ts - startTs,
      trace: { traceId, spanId: rootSpan, traceFlags: "01" },
    };
    emit(usageEvent);
  }
  return built;

  function emitTool(tool: ToolSpec, runSpan: string, harnessSpan: string): void {
    const toolCallId =
      tool.toolCallId ?? `call_${hexOf(`${runId}:${tool.toolName}:${built.toolCallIds.length}`, 12)}`;
    built.toolCallIds.push(toolCallId);
    const params = tool.params ?? { input: "hello-from-mock" };
    const toolBase = {
      runId,
      sessionKey,
      sessionId,
      agentId: "main",
      toolName: tool.toolName,
      toolSource: "plugin",
    };
    const toolTrace = trace(span(), runSpan);
    hook(
      "before_tool_call",
      { toolName: tool.toolName, params, runId, toolCallId },
      { ...hookContext, toolCallId, trace: trace(runSpan, harnessSpan) },
    );
    emit({
      type: "tool.execution.started",
      ...toolBase,
      toolCallId,
      paramsSummary: { kind: "object" },
      trace: toolTrace,
    });
    const afterEvent = tool.error
      ? { toolName: tool.toolName, params, runId, toolCallId, error: tool.error, durationMs: 12 }
      : {
          toolName: tool.toolName,
          params,
          runId,
          toolCallId,
          result: tool.result ?? { content: [{ type: "text", text: "echo" }] },
          durationMs: 12,
        };
    hook("after_tool_call", afterEvent, {
      toolName: tool.toolName,
      runId,
      toolCallId,
      sessionKey,
      sessionId,
    });
    emit(
      tool.error
        ? {
            type: "tool.execution.error",
            ...toolBase,
            toolCallId,
            durationMs: 2,
            errorCategory: "Error",
            trace: toolTrace,
          }
        : { type: "tool.execution.completed", ...toolBase, toolCallId, durationMs: 2, trace: toolTrace },
    );
  }
}

/** Feeds inputs to a target in order; `onInput` runs before each (e.g. to advance a test clock). */
export function replayInputs(
  target: HostInputTarget,
  inputs: readonly CapturedInput[],
  onInput?: (input: CapturedInput) => void,
): void {
  for (const input of inputs) {
    onInput?.(input);
    if (input.kind === "event") target.handleEvent(input.event, input.metadata);
    else target.handleHook(input.name, input.event, input.context);
  }
}

/** A deterministic shuffle (seeded), so a failing permutation can be replayed. */
export function shuffleInputs<T>(inputs: readonly T[], seed: number): T[] {
  const random = seededRandom(seed);
  const copy = [...inputs];
  for (let index = copy.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other] as T, copy[index] as T];
  }
  return copy;
}

/** Drops the inputs that match. */
export function dropInputs(
  inputs: readonly CapturedInput[],
  matches: (input: CapturedInput) => boolean,
): CapturedInput[] {
  return inputs.filter((input) => !matches(input));
}

/** Moves the inputs that match to the end, in their order: late delivery. */
export function delayInputs(
  inputs: readonly CapturedInput[],
  matches: (input: CapturedInput) => boolean,
): CapturedInput[] {
  return [...inputs.filter((input) => !matches(input)), ...inputs.filter(matches)];
}

/** Whether an input is the bus event of this type (and callId, when given). */
export function isBusEvent(input: CapturedInput, type: string, callId?: string): boolean {
  return (
    input.kind === "event" &&
    input.event.type === type &&
    (callId === undefined || input.event.callId === callId)
  );
}

function withoutCostTotal(totals: BuiltTurn["totals"]) {
  return {
    input: totals.input,
    output: totals.output,
    cacheRead: totals.cacheRead,
    cacheWrite: totals.cacheWrite,
    total: totals.total,
  };
}

/** A stable hex string of the given length derived from text (FNV-1a, repeated). */
function hexOf(text: string, length: number): string {
  let out = "";
  let round = 0;
  while (out.length < length) {
    let hash = 0x811c9dc5 ^ round;
    for (const char of `${round}:${text}`) {
      hash ^= char.charCodeAt(0);
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    out += hash.toString(16).padStart(8, "0");
    round += 1;
  }
  return out.slice(0, length);
}

function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}
