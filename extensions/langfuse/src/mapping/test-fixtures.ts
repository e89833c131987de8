/**
 * Test support (imported by `*.test.ts` only): hand-made turns to vary, and mapping options with a
 * recognisable id hash.
 */
import type { ModelCall, ToolCall, Turn } from "@clawscope/kit";
import type { TurnPlanOptions } from "./to-turn-plan.js";

/** A hash that shows what it hashed, so tests can tell hashed from raw ids. */
export const testHashId = (id: string | undefined): string | undefined =>
  id === undefined || id === "" ? undefined : `h(${id})`;

/** Mapping options for tests; override what the test is about. */
export function makeOptions(overrides: Partial<TurnPlanOptions> = {}): TurnPlanOptions {
  return { hashId: testHashId, captureContent: false, ...overrides };
}

/** One successful model call; override what the test is about. */
export function makeModelCall(overrides: Partial<ModelCall> = {}): ModelCall {
  return {
    callId: "run-1:model:1",
    provider: "openai",
    model: "gpt-4o",
    api: "openai-completions",
    startedAt: 1_100,
    endedAt: 1_900,
    durationMs: 800,
    timeToFirstByteMs: 250,
    usage: { input: 100, output: 20, cacheRead: 0, cacheWrite: 0, total: 120 },
    cost: { usd: 0.0012, source: "provider" },
    outcome: "success",
    ...overrides,
  };
}

/** One successful tool call; override what the test is about. */
export function makeToolCall(overrides: Partial<ToolCall> = {}): ToolCall {
  return {
    toolCallId: "call_1",
    toolName: "exec",
    startedAt: 2_000,
    endedAt: 2_200,
    durationMs: 200,
    outcome: "success",
    ...overrides,
  };
}

/** A healthy turn with one model call and no tools; override what the test is about. */
export function makeTurn(overrides: Partial<Turn> = {}): Turn {
  return {
    id: "run-1",
    runId: "run-1",
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    spanId: "00f067aa0ba902b7",
    sessionKey: "agent:main:s1",
    sessionId: "9f424979-38af-4d85-a184-03c3613bc6ff",
    agentId: "main",
    channel: "webchat",
    trigger: "user",
    provider: "openai",
    model: "gpt-4o",
    startedAt: 1_000,
    endedAt: 3_000,
    durationMs: 2_000,
    modelCalls: [makeModelCall()],
    toolCalls: [],
    usage: { input: 100, output: 20, cacheRead: 0, cacheWrite: 0, total: 120 },
    cost: { usd: 0.0012, source: "provider" },
    usageSource: "model.usage",
    outcome: "success",
    hostOutcome: "completed",
    senderId: "user-42",
    ...overrides,
  };
}
