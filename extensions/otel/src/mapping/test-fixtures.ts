/**
 * Test support (imported by `*.test.ts` only): turns assembled by the kit from the payloads
 * recorded on the real gateway, and a hand-made turn to vary.
 */
import { createIdHasher, createTurnAssembler, type Turn } from "@clawscope/kit";
import { interleaveCaptured, loadCapturedScenario } from "@clawscope/testing";

/** Replays a recorded scenario through the kit's assembler; content capture on when asked. */
export function assembleCapturedTurns(scenario: string, options: { captureContent?: boolean } = {}): Turn[] {
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

/** The captured tool-call turn: 2 model calls, 1 tool call, 222/44 tokens, $0.001326 (provider). */
export function capturedToolTurn(options: { captureContent?: boolean } = {}): Turn {
  const turn = assembleCapturedTurns("e2e-http-2turns", options).find((item) => item.toolCalls.length > 0);
  if (!turn) throw new Error("e2e-http-2turns holds no tool-call turn");
  return turn;
}

/** The captured provider-400 turn (outcome error, one failed model call). */
export function capturedErrorTurn(options: { captureContent?: boolean } = {}): Turn {
  const turn = assembleCapturedTurns("e2e-provider-error-400", options)[0];
  if (!turn) throw new Error("e2e-provider-error-400 holds no turn");
  return turn;
}

/** A healthy hand-made turn; override what the test is about. */
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
    modelCalls: [
      {
        callId: "run-1:model:1",
        provider: "openai",
        model: "gpt-4o",
        startedAt: 1_100,
        endedAt: 1_900,
        durationMs: 800,
        timeToFirstByteMs: 250,
        usage: { input: 100, output: 20, cacheRead: 30, cacheWrite: 10, total: 160 },
        cost: { usd: 0.002, source: "provider" },
        outcome: "success",
      },
    ],
    toolCalls: [],
    usage: { input: 100, output: 20, cacheRead: 30, cacheWrite: 10, total: 160 },
    cost: { usd: 0.002, source: "provider" },
    usageSource: "model.usage",
    outcome: "success",
    hostOutcome: "completed",
    context: { limit: 128_000, used: 140 },
    ...overrides,
  };
}

const hasher = createIdHasher({ key: "clawscope-otel-test-key" });

/** The start context's `hashId`, with a fixed test key. */
export function hashId(id: string | undefined): string | undefined {
  return id === undefined || id === "" ? undefined : hasher.hash(id);
}
