import { readOperationalEvent } from "@clawscope/kit";
import { describe, expect, it } from "vitest";
import { createSignalTracker } from "../domain/signal-tracker.js";
import { toLangfuseTraceId, toStableUuid } from "./ids.js";
import { shouldSendTurn } from "./sampling.js";
import { makeToolCall, makeTurn } from "./test-fixtures.js";
import { detectToolLoop, isSessionSignal, toSessionScore, toTurnScores } from "./to-scores.js";
import { isRetrievalTool } from "./tool-kind.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("turn scores", () => {
  it("scores every turn's outcome on its trace with a stable id", () => {
    const traceId = toLangfuseTraceId("run-1");
    const [outcome, ...rest] = toTurnScores(makeTurn(), traceId, { environment: "production" });
    expect(rest).toEqual([]);
    expect(outcome).toEqual({
      id: toStableUuid("score", "run-1", "turn.outcome"),
      traceId,
      name: "turn.outcome",
      value: "success",
      dataType: "CATEGORICAL",
      environment: "production",
    });
    expect(outcome?.id).toMatch(UUID);
    expect(toTurnScores(makeTurn(), traceId)[0]?.id).toBe(outcome?.id);
    expect(toTurnScores(makeTurn({ id: "run-2" }), traceId)[0]?.id).not.toBe(outcome?.id);
    const failed = toTurnScores(
      makeTurn({
        outcome: "error",
        error: { category: "provider", source: "model.call.error", reason: "the provider failed (HTTP 500)" },
      }),
      traceId,
    );
    expect(failed[0]).toMatchObject({
      value: "error",
      comment: "error: provider: the provider failed (HTTP 500)",
    });
    // the provider's reason, redacted, tells the reviewer why
    const explained = toTurnScores(
      makeTurn({
        outcome: "error",
        error: {
          category: "provider",
          reason: "the provider rejected the request (HTTP 400)",
          message: "400 bad key sk-proj-abcdefghijklmnopqrstuvwx",
          source: "llm_output",
        },
      }),
      traceId,
    );
    expect(explained[0]?.comment).toBe("error: provider: 400 bad key [REDACTED:openai_key]");
    expect(failed[0]).not.toHaveProperty("environment");
  });

  it("finds a loop in consecutive calls of one tool at the threshold, and scores it", () => {
    const calls = (names: string[]) =>
      names.map((toolName, index) =>
        makeToolCall({ toolCallId: `c${index}`, toolName, startedAt: 2_000 + index }),
      );
    expect(detectToolLoop(calls(["read", "read", "exec", "read", "read"]), 3)).toBeUndefined();
    expect(detectToolLoop(calls(["read", "read", "read", "exec"]), 3)).toEqual({
      toolName: "read",
      count: 3,
      source: "turn",
    });
    // reported order is used when start times are missing, the longest run wins
    const unordered = [
      ...calls(["a", "b", "b", "b", "b"]).map((call) => ({ ...call, startedAt: undefined })),
    ];
    expect(detectToolLoop(unordered, 2)).toMatchObject({ toolName: "b", count: 4 });
    expect(detectToolLoop([], 2)).toBeUndefined();

    const loop = detectToolLoop(calls(Array(5).fill("web_search")), 5);
    const scores = toTurnScores(makeTurn(), "t".repeat(32), loop ? { toolLoop: loop } : {});
    expect(scores[1]).toMatchObject({
      id: toStableUuid("score", "run-1", "tool.loop"),
      name: "tool.loop",
      value: 1,
      dataType: "BOOLEAN",
      traceId: "t".repeat(32),
      metadata: { tool_name: "web_search", count: 5, source: "turn" },
    });
  });
});

describe("session signals", () => {
  const stuck = {
    type: "session.stuck",
    ts: 7_200_000 + 5,
    seq: 3,
    sessionKey: "agent:main:s1",
    state: "processing",
    ageMs: 900_000,
    classification: "stale_session_state",
  };

  const read = (raw: unknown) => {
    const event = readOperationalEvent(raw);
    if (!event || !isSessionSignal(event)) throw new Error("not a session signal");
    return event;
  };

  it("scores stuck, stalled and tool.loop events, as the kit reads them, and nothing else", () => {
    expect(read(stuck)).toMatchObject({ type: "session.stuck", ts: 7_200_005, session: "agent:main:s1" });
    const loop = read({
      type: "tool.loop",
      ts: 5,
      toolName: "exec",
      count: 7,
      detector: "generic_repeat",
      trace: { traceId: "4BF92F3577B34DA6A3CE929D0E0E4736" },
    });
    expect(loop).toMatchObject({ type: "tool.loop", toolName: "exec", count: 7 });
    expect(loop.trace?.traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(toSessionScore(loop, "h")).toBeUndefined(); // no session: it waits for its run's trace instead
    const other = readOperationalEvent({ type: "session.state", ts: 1, state: "idle" });
    expect(other && isSessionSignal(other)).toBe(false);
    const stalled = read({ type: "session.stalled", ts: 1, state: "processing", ageMs: 5, sessionId: "s" });
    expect(toSessionScore(stalled, "h")).toMatchObject({ name: "session.stuck", comment: "session.stalled" });
  });

  it("scores a stuck session once per session and hour, with an id naming the hour", () => {
    const signal = read(stuck);
    const score = toSessionScore(signal, "h(agent:main:s1)", { environment: "production" });
    expect(score).toMatchObject({
      name: "session.stuck",
      value: 1,
      dataType: "BOOLEAN",
      sessionId: "h(agent:main:s1)",
      environment: "production",
      comment: "session.stuck: stale_session_state",
      metadata: { event: "session.stuck", classification: "stale_session_state", age_ms: 900_000 },
    });
    expect(score).not.toHaveProperty("traceId");
    expect(score?.id).toBe(toStableUuid("score", "session", "agent:main:s1", "session.stuck", "2"));
    expect(toSessionScore(signal, undefined)).toBeUndefined();

    const tracker = createSignalTracker({ maxScoredSessions: 2 });
    expect(tracker.claimSessionScore(signal, "session.stuck")).toBe(true);
    expect(tracker.claimSessionScore({ ...signal, ts: signal.ts + 60_000 }, "session.stuck")).toBe(false);
    expect(tracker.claimSessionScore({ ...signal, ts: signal.ts + 3_600_000 }, "session.stuck")).toBe(true);
    expect(tracker.claimSessionScore({ ...signal, session: "b" }, "session.stuck")).toBe(true);
    expect(tracker.claimSessionScore({ ...signal, session: "c" }, "session.stuck")).toBe(true);
    expect(tracker.stats()).toMatchObject({ scoredSessions: 2, evicted: 1 });
  });

  it("holds host tool loops for their run, bounded, and hands each over once", () => {
    const tracker = createSignalTracker({ maxPendingLoops: 2 });
    tracker.noteHostLoop("a", { toolName: "exec", count: 3, source: "host" });
    tracker.noteHostLoop("a", { toolName: "exec", count: 2, source: "host" });
    tracker.noteHostLoop("b", { toolName: "read", count: 4, source: "host" });
    tracker.noteHostLoop("c", { toolName: "read", count: 4, source: "host" });
    expect(tracker.takeHostLoop("a")).toBeUndefined();
    expect(tracker.takeHostLoop("c")).toMatchObject({ count: 4 });
    expect(tracker.takeHostLoop("c")).toBeUndefined();
    expect(tracker.takeHostLoop(undefined)).toBeUndefined();
    expect(tracker.stats()).toMatchObject({ pendingLoops: 1, evicted: 1 });
  });
});

describe("sampling and tool kinds", () => {
  it("always keeps failed turns and tool loops, samples healthy ones by trace id", () => {
    const healthy = makeTurn();
    expect(shouldSendTurn(healthy, "0".repeat(32), 0, false)).toEqual({ keep: false, reason: "sampled_out" });
    expect(shouldSendTurn(healthy, "0".repeat(32), 0, true)).toEqual({ keep: true, reason: "tool_loop" });
    expect(shouldSendTurn(makeTurn({ outcome: "error" }), "0".repeat(32), 0, false).keep).toBe(true);
    const failedTool = makeTurn({ toolCalls: [makeToolCall({ outcome: "error" })] });
    expect(shouldSendTurn(failedTool, "0".repeat(32), 0, false).reason).toBe("error");
    // the rate is decided on the Langfuse trace id this extension derives from the turn
    const kept = Array.from({ length: 2000 }, (_, i) => toLangfuseTraceId(`run-${i}`)).filter(
      (id) => shouldSendTurn(healthy, id, 0.25, false).keep,
    ).length;
    expect(kept).toBeGreaterThan(400);
    expect(kept).toBeLessThan(600);
  });

  it("calls search and retrieval tools retrievers by whole words", () => {
    for (const name of ["web_search", "memory_search", "searchDocs", "kb-lookup", "rag", "retrieve", "Grep"])
      expect(isRetrievalTool(name)).toBe(true);
    for (const name of ["exec", "research", "ragtime", "read", "", undefined, 42])
      expect(isRetrievalTool(name)).toBe(false);
  });
});
