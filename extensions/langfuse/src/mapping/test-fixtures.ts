/**
 * Test support (imported by `*.test.ts` only): hand-made turns to vary, and mapping options with a
 * recognisable id hash.
 */
import type { ModelCall, ToolCall, Turn } from "@clawscope/kit";
import {
  makeModelCall as makeSharedModelCall,
  makeToolCall as makeSharedToolCall,
  makeTurn as makeSharedTurn,
} from "@clawscope/testing";
import type { TurnPlanOptions } from "./to-turn-plan.js";

/** A hash that shows what it hashed, so tests can tell hashed from raw ids. */
export const testHashId = (id: string | undefined): string | undefined =>
  id === undefined || id === "" ? undefined : `h(${id})`;

/** Mapping options for tests; override what the test is about. */
export function makeOptions(overrides: Partial<TurnPlanOptions> = {}): TurnPlanOptions {
  return { hashId: testHashId, captureContent: false, ...overrides };
}

const USAGE = { input: 100, output: 20, cacheRead: 0, cacheWrite: 0, total: 120 };
const COST = { usd: 0.0012, source: "provider" } as const;

/** The shared model call without cache tokens, from an OpenAI-style API; override what the test is about. */
export function makeModelCall(overrides: Partial<ModelCall> = {}): ModelCall {
  return makeSharedModelCall({ api: "openai-completions", usage: USAGE, cost: COST, ...overrides });
}

/** One successful tool call (`exec`); override what the test is about. */
export const makeToolCall: (overrides?: Partial<ToolCall>) => ToolCall = makeSharedToolCall;

/** The shared healthy turn with {@link makeModelCall}'s figures and a sender; override what the test is about. */
export function makeTurn(overrides: Partial<Turn> = {}): Turn {
  const { context: _context, ...turn } = makeSharedTurn({
    modelCalls: [makeModelCall()],
    usage: USAGE,
    cost: COST,
    senderId: "user-42",
  });
  return { ...turn, ...overrides };
}
