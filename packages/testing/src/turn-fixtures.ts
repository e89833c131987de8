/**
 * Turns for mapping tests: the kit's own assembly of payloads recorded on the real gateway, and
 * hand-made turns to vary. One place, so every extension's tests start from the same turns.
 */
import { createTurnAssembler, type ModelCall, type ToolCall, type Turn } from "@clawscope/kit";
import { interleaveCaptured, loadCapturedScenario } from "./captured.js";

/** Options of {@link assembleCapturedTurns}. */
export interface AssembleCapturedOptions {
  /** Keep prompts, completions and tool payloads as the kit would with capture on (default off). */
  captureContent?: boolean;
}

/**
 * Replays a recorded scenario through the kit's turn assembler in recorded time, then closes what
 * is still open, as a gateway stop would.
 */
export function assembleCapturedTurns(scenario: string, options: AssembleCapturedOptions = {}): Turn[] {
  const turns: Turn[] = [];
  let now = 0;
  const assembler = createTurnAssembler({
    onTurn: (turn) => turns.push(turn),
    now: () => now,
    ...(options.captureContent
      ? { captureContent: (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value)) }
      : {}),
  });
  for (const input of interleaveCaptured(loadCapturedScenario(scenario))) {
    now = input.at;
    if (input.kind === "event") assembler.handleEvent(input.event, input.metadata);
    else assembler.handleHook(input.name, input.event, input.context);
  }
  now += 60_000;
  assembler.tick(now);
  assembler.closeAll("shutdown");
  return turns;
}

/** The recorded tool-call turn: 2 model calls, 1 tool call, 222/44 tokens, $0.001326 (provider). */
export function capturedToolTurn(options: AssembleCapturedOptions = {}): Turn {
  const turn = assembleCapturedTurns("e2e-http-2turns", options).find((item) => item.toolCalls.length > 0);
  if (!turn) throw new Error("e2e-http-2turns holds no tool-call turn");
  return turn;
}

/** The recorded provider-400 turn (outcome error, one failed model call). */
export function capturedErrorTurn(options: AssembleCapturedOptions = {}): Turn {
  const turn = assembleCapturedTurns("e2e-provider-error-400", options)[0];
  if (!turn) throw new Error("e2e-provider-error-400 holds no turn");
  return turn;
}

/** One successful model call with cache tokens and a provider cost; override what the test is about. */
export function makeModelCall(overrides: Partial<ModelCall> = {}): ModelCall {
  return {
    callId: "run-1:model:1",
    attempt: 1,
    provider: "openai",
    model: "gpt-4o",
    startedAt: 1_100,
    endedAt: 1_900,
    durationMs: 800,
    timeToFirstByteMs: 250,
    usage: { input: 100, output: 20, cacheRead: 30, cacheWrite: 10, total: 160 },
    cost: { usd: 0.002, source: "provider" },
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

/** A healthy turn with one model call ({@link makeModelCall}) and no tools; override what the test is about. */
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
    usage: { input: 100, output: 20, cacheRead: 30, cacheWrite: 10, total: 160 },
    cost: { usd: 0.002, source: "provider" },
    usageSource: "model.usage",
    outcome: "success",
    hostOutcome: "completed",
    attempts: 1,
    revision: 1,
    context: { limit: 128_000, used: 140 },
    ...overrides,
  };
}
