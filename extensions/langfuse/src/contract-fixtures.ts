/**
 * Test support for the contract tests (imported by `contract-*.test.ts` only): the plugin in the
 * fake host on the real diagnostic bus, replaying what the real gateway recorded, and what each
 * recorded turn must look like in Langfuse — derived from the captured events and hooks themselves
 * (the gateway's own figures), never from the extension's code.
 */
import { createIdHasher, createPackPlugin, type SubscribeToBus, type Turn } from "@clawscope/kit";
import {
  type CapturedScenario,
  createFakeHost,
  decodeOtlpRequest,
  type FakeHost,
  interleaveCaptured,
  type LangfuseReceiver,
  type LangfuseTraceView,
  loadLangfuseSdkExport,
  type OtlpSpan,
  toLangfuseObservations,
  waitFor,
  waitForHostInputHandled,
} from "@clawscope/testing";
import {
  emitDiagnosticEvent,
  emitTrustedDiagnosticEvent,
  onInternalDiagnosticEvent,
} from "openclaw/plugin-sdk/diagnostic-runtime";
import { toLangfuseTraceId, toTurnObservationIds } from "./mapping/ids.js";
import { createLangfusePluginSpec } from "./plugin-spec.js";

/** The key pair the receiver accepts and the plugin is configured with. */
export const CONTRACT_KEYS = {
  publicKey: "pk-lf-contract-7d3e-4821",
  secretKey: "sk-lf-contract-secret-9a8b",
};
/** A fixed id hash key, so expected hashes can be computed here. */
const HASH_KEY = "contract-hash-key-0123456789abcdef";
export const CONTRACT_ENVIRONMENT = "contract";
export const CONTRACT_RELEASE = "9.9.9";
/** The request limit the host config declares for the captured model (Langfuse `max_tokens`). */
export const MODEL_MAX_TOKENS = 4096;

/** The plugin config of every contract gateway; override what a test is about. */
export function contractConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...CONTRACT_KEYS,
    environment: CONTRACT_ENVIRONMENT,
    release: CONTRACT_RELEASE,
    hashKey: HASH_KEY,
    flushIntervalMs: 100,
    settleMs: 50,
    ...overrides,
  };
}

/** What the plugin sends for an id: the keyed hash with the configured key. */
export const expectedHash = (id: string): string => createIdHasher({ key: HASH_KEY }).hash(id);

/** Starts the plugin in a fake host exporting to `baseUrl`, with services running. */
export async function startContractGateway(
  baseUrl: string,
  options: { config?: Record<string, unknown>; allowConversationAccess?: boolean } = {},
): Promise<FakeHost> {
  const entry = () =>
    createPackPlugin(createLangfusePluginSpec(), { subscribe: onInternalDiagnosticEvent as SubscribeToBus });
  const host = await createFakeHost(entry, {
    pluginConfig: contractConfig({ baseUrl, ...options.config }),
    allowConversationAccess: options.allowConversationAccess ?? true,
    hostConfig: {
      agents: { list: [{ id: "main" }] },
      models: { providers: { mock: { models: [{ id: "mock-model", maxTokens: MODEL_MAX_TOKENS }] } } },
    },
  });
  await host.startServices();
  return host;
}

/** Feeds a recorded scenario to the host: bus events with their recorded trust, hooks as fired. */
export async function replayCaptured(host: FakeHost, scenario: CapturedScenario): Promise<void> {
  for (const input of interleaveCaptured(scenario)) {
    if (input.kind === "hook") {
      await host.fireHook(input.name, input.event, input.context as Record<string, unknown>);
    } else if (input.metadata?.trusted === false) emitDiagnosticEvent(input.event as never);
    else emitTrustedDiagnosticEvent(input.event as never);
  }
  await waitForHostInputHandled();
}

/** Token counts as the host reports them (`reasoning` is inside `output`). */
export interface HostUsage {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  reasoning: number;
  total: number;
}

/** One provider call as the gateway reported it. */
export interface ExpectedCall {
  callId: string;
  model?: string;
  timeToFirstByteMs?: number;
  /** From `model.call.completed/error`; absent when the bus was silent. */
  usage?: HostUsage;
  costUsd?: number;
  error?: { category?: string; failureKind?: string };
}

/** One recorded turn and the gateway's own figures for it. */
export interface ExpectedTurn {
  runId: string;
  traceId: string;
  /** The canonical key (`agent:<id>:<key>`). */
  sessionKey?: string;
  /** Raw ids that must never reach Langfuse: session keys (canonical and header), session id, sender. */
  rawIds: string[];
  senderId?: string;
  agentId?: string;
  channel?: string;
  calls: ExpectedCall[];
  tools: Array<{ toolCallId: string; toolName: string; failed: boolean }>;
  /** The run's totals: `model.usage`, else the `llm_output` aggregate, else the calls' sum. */
  totals: { usage: HostUsage; costUsd?: number; source: "model.usage" | "llm_output" | "calls" };
  outcome: "success" | "error";
}

interface Draft extends Omit<ExpectedTurn, "totals" | "outcome" | "rawIds" | "traceId"> {
  rawIds: Set<string>;
  failed: boolean;
  modelUsage?: { usage: HostUsage; costUsd?: number };
  llmOutput?: { usage: HostUsage; costUsd?: number };
}

/** Derives every turn of a recorded scenario from its events and hooks. */
export function readExpectedTurns(scenario: CapturedScenario): ExpectedTurn[] {
  const runs = new Map<string, Draft>();
  const runByHostTrace = new Map<string, string>();
  const draft = (runId: string): Draft => {
    let run = runs.get(runId);
    if (!run) {
      run = { runId, rawIds: new Set(), calls: [], tools: [], failed: false };
      runs.set(runId, run);
    }
    return run;
  };
  const call = (run: Draft, callId: string): ExpectedCall => {
    let found = run.calls.find((item) => item.callId === callId);
    if (!found) {
      found = { callId };
      run.calls.push(found);
    }
    return found;
  };
  const tool = (run: Draft, toolCallId: string, toolName: string) => {
    let found = run.tools.find((item) => item.toolCallId === toolCallId);
    if (!found) {
      found = { toolCallId, toolName, failed: false };
      run.tools.push(found);
    }
    return found;
  };
  const noteIdentity = (run: Draft, source: Record<string, unknown>) => {
    const sessionKey = text(source.sessionKey);
    if (sessionKey) run.rawIds.add(sessionKey);
    if (sessionKey?.startsWith("agent:")) run.sessionKey = sessionKey;
    const sessionId = text(source.sessionId);
    if (sessionId) run.rawIds.add(sessionId);
    run.agentId ??= text(source.agentId);
    run.channel ??= text(source.channel);
  };

  for (const { event } of scenario.internal) {
    const record = event as Record<string, unknown>;
    const runId = text(record.runId);
    if (!runId) continue;
    const run = draft(runId);
    noteIdentity(run, record);
    const hostTrace = text((record.trace as Record<string, unknown> | undefined)?.traceId);
    if (hostTrace) runByHostTrace.set(hostTrace, runId);
    if (event.type.startsWith("model.call.")) {
      const item = call(run, text(record.callId) ?? "");
      item.model ??= text(record.model);
      if (typeof record.timeToFirstByteMs === "number") item.timeToFirstByteMs = record.timeToFirstByteMs;
      if (record.usage) {
        item.usage = readHostUsage(record.usage);
        item.costUsd = costOf(record.usage);
      }
      if (event.type === "model.call.error") {
        item.error = { category: text(record.errorCategory), failureKind: text(record.failureKind) };
      }
    }
    if (event.type.startsWith("tool.execution.")) {
      const item = tool(run, text(record.toolCallId) ?? "", text(record.toolName) ?? "");
      if (event.type === "tool.execution.error") item.failed = true;
    }
  }
  for (const row of scenario.hooks) {
    const event = (row.event ?? {}) as Record<string, unknown>;
    const context = (row.ctx ?? {}) as Record<string, unknown>;
    const runId = text(event.runId) ?? text(context.runId);
    if (!runId) continue;
    const run = draft(runId);
    noteIdentity(run, context);
    const hostTrace = text((context.trace as Record<string, unknown> | undefined)?.traceId);
    if (hostTrace) runByHostTrace.set(hostTrace, runId);
    if (row.hook === "model_call_started" || row.hook === "model_call_ended") {
      const item = call(run, text(event.callId) ?? "");
      item.model ??= text(event.model);
      if (typeof event.timeToFirstByteMs === "number") item.timeToFirstByteMs ??= event.timeToFirstByteMs;
      if (event.outcome === "error") item.error ??= { category: text(event.errorCategory) };
    }
    if (row.hook === "before_tool_call" || row.hook === "after_tool_call") {
      const item = tool(run, text(event.toolCallId) ?? "", text(event.toolName) ?? "");
      if (row.hook === "after_tool_call" && event.error) item.failed = true;
    }
    if (row.hook === "llm_output" && event.usage) {
      run.llmOutput = { usage: readHostUsage(event.usage), costUsd: costOf(event.usage) };
      const last = event.lastAssistant as Record<string, unknown> | undefined;
      if (last?.stopReason === "error") run.failed = true;
    }
    if (row.hook === "agent_end" && event.success === false) run.failed = true;
  }
  for (const { event } of scenario.internal) {
    const record = event as Record<string, unknown>;
    if (event.type !== "model.usage") continue;
    const runId = runByHostTrace.get(text((record.trace as Record<string, unknown>)?.traceId) ?? "");
    const run = runId ? runs.get(runId) : undefined;
    if (!run) continue;
    noteIdentity(run, record);
    const costUsd = typeof record.costUsd === "number" ? record.costUsd : undefined;
    run.modelUsage = { usage: readHostUsage(record.usage), ...(costUsd === undefined ? {} : { costUsd }) };
  }
  for (const row of scenario.hooks) {
    if (row.hook !== "message_received") continue;
    const event = (row.event ?? {}) as Record<string, unknown>;
    const run = runs.get(text(event.messageId) ?? "");
    const senderId = text(event.senderId);
    if (run && senderId) {
      run.senderId = senderId;
      run.rawIds.add(senderId);
    }
  }
  return [...runs.values()].map((run) => toExpectedTurn(run));
}

function toExpectedTurn(run: Draft): ExpectedTurn {
  const { rawIds, failed, modelUsage, llmOutput, ...rest } = run;
  const fromCalls = run.calls.filter((item) => item.usage);
  const totals = modelUsage
    ? { ...modelUsage, source: "model.usage" as const }
    : llmOutput
      ? { ...llmOutput, source: "llm_output" as const }
      : {
          usage: sumUsage(fromCalls.map((item) => item.usage as HostUsage)),
          ...(fromCalls.some((item) => item.costUsd !== undefined)
            ? { costUsd: fromCalls.reduce((sum, item) => sum + (item.costUsd ?? 0), 0) }
            : {}),
          source: "calls" as const,
        };
  const errored = failed || run.calls.some((item) => item.error);
  // a canonical session key (`agent:<id>:…`) names the agent when no input did
  const agentId = rest.agentId ?? /^agent:([^:]+):/.exec(rest.sessionKey ?? "")?.[1];
  return {
    ...rest,
    ...(agentId === undefined ? {} : { agentId }),
    traceId: toLangfuseTraceId(run.runId),
    rawIds: [...rawIds],
    totals,
    outcome: errored ? "error" : "success",
  };
}

/**
 * The Langfuse `usageDetails` for a host usage: keys that do not overlap (Langfuse sums them),
 * reasoning split out of output, cache keys only when counted; absent when nothing was counted.
 */
export function toExpectedUsageDetails(usage: HostUsage): Record<string, number> | undefined {
  if (usage.input + usage.output + usage.cacheRead + usage.cacheWrite + usage.total === 0) return undefined;
  return {
    input: usage.input,
    output: usage.output - usage.reasoning,
    ...(usage.cacheRead > 0 ? { input_cache_read: usage.cacheRead } : {}),
    ...(usage.cacheWrite > 0 ? { input_cache_creation: usage.cacheWrite } : {}),
    ...(usage.reasoning > 0 ? { output_reasoning_tokens: usage.reasoning } : {}),
    total: usage.total,
  };
}

/** The observation ids of a turn's calls and tools (the plugin's stable ids), to find them by. */
export function toObservationIds(turn: ExpectedTurn): { root: string; calls: string[]; tools: string[] } {
  const ids = toTurnObservationIds({
    id: turn.runId,
    modelCalls: turn.calls.map((item) => ({ callId: item.callId })),
    toolCalls: turn.tools.map((item) => ({ toolCallId: item.toolCallId })),
  } as unknown as Turn);
  return { root: ids.rootSpanId, calls: ids.modelCallSpanIds, tools: ids.toolCallSpanIds };
}

/** Waits until every span of every expected turn and every outcome score has arrived. */
export async function waitForTurns(
  receiver: LangfuseReceiver,
  turns: readonly ExpectedTurn[],
  options: { scoreWrites?: number } = {},
): Promise<void> {
  const wanted = turns.flatMap((turn) => {
    const ids = toObservationIds(turn);
    return [ids.root, ...ids.calls, ...ids.tools].map((spanId) => `${turn.traceId}:${spanId}`);
  });
  const writes = options.scoreWrites ?? 1;
  await waitFor(
    () => {
      const have = new Set(receiver.spans.map((span) => `${span.traceId}:${span.spanId}`));
      const scored = turns.filter((turn) =>
        receiver.scores.some(
          (score) =>
            score.body.traceId === turn.traceId &&
            score.body.name === "turn.outcome" &&
            score.writes >= writes,
        ),
      );
      return wanted.every((id) => have.has(id)) && scored.length === turns.length;
    },
    15_000,
    { message: `${wanted.length} spans and ${turns.length} outcome scores (${writes} write(s) each)` },
  );
}

/** The official SDK's recorded export: its raw spans and what Langfuse makes of them. */
export function loadSdkReference(): { spans: OtlpSpan[]; views: LangfuseTraceView[] } {
  const spans = loadLangfuseSdkExport().flatMap(
    (request) => decodeOtlpRequest("traces", request.body as never, "application/json").spans,
  );
  return { spans, views: toLangfuseObservations(spans) };
}

/** A span's `langfuse.*` attribute keys, metadata keys folded (their names are the caller's choice). */
export function toLangfuseKeys(span: OtlpSpan): Set<string> {
  const keys = Object.keys(span.attributes)
    .filter((key) => key.startsWith("langfuse."))
    .map((key) => key.replace(/^(langfuse\.(?:trace|observation)\.metadata)\..+$/, "$1.*"));
  return new Set(keys);
}

/** Whether a mapped field carries something (not null, not an empty object, list or string). */
export function isPopulated(value: unknown): boolean {
  if (value === null || value === undefined || value === "") return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object") return Object.keys(value as object).length > 0;
  return true;
}

function readHostUsage(value: unknown): HostUsage {
  const usage = (value ?? {}) as Record<string, unknown>;
  const count = (key: string) => (typeof usage[key] === "number" ? (usage[key] as number) : 0);
  return {
    input: count("input"),
    output: count("output"),
    cacheRead: count("cacheRead"),
    cacheWrite: count("cacheWrite"),
    reasoning: count("reasoningTokens"),
    total: count("total"),
  };
}

function costOf(value: unknown): number | undefined {
  const total = ((value as Record<string, unknown>)?.cost as Record<string, unknown> | undefined)?.total;
  return typeof total === "number" ? total : undefined;
}

function sumUsage(list: readonly HostUsage[]): HostUsage {
  const sum: HostUsage = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0, total: 0 };
  for (const usage of list)
    for (const key of Object.keys(sum) as Array<keyof HostUsage>) sum[key] += usage[key];
  return sum;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}
