import { createTurnAssembler, readOperationalEvent, type Turn } from "@clawscope/kit";
import { interleaveCaptured, loadCapturedScenario, replayInputs } from "@clawscope/testing";
import { describe, expect, it } from "vitest";
import { createMetricAggregator, type MetricPoint } from "./metric-aggregator.js";

function makeTurn(overrides: Partial<Turn> = {}): Turn {
  return {
    id: "turn-1",
    runId: "run-1",
    startedAt: 1_000,
    endedAt: 2_000,
    durationMs: 1_000,
    modelCalls: [],
    toolCalls: [],
    usage: { input: 10, output: 5, cacheRead: 2, cacheWrite: 1, total: 18 },
    cost: { usd: 0.25, source: "provider" },
    usageSource: "model.usage",
    outcome: "success",
    attempts: 1,
    revision: 1,
    channel: "telegram",
    ...overrides,
  };
}

const pointValue = (points: MetricPoint[], key: string) => points.find((point) => point.key === key)?.value;

function assembleScenario(name: string): Turn[] {
  const turns: Turn[] = [];
  let now = 0;
  const assembler = createTurnAssembler({ onTurn: (turn) => turns.push(turn), now: () => now });
  replayInputs(assembler, interleaveCaptured(loadCapturedScenario(name)), (input) => {
    now = input.at;
    assembler.tick(now);
  });
  assembler.tick(now + 5_000);
  return turns;
}

describe("createMetricAggregator", () => {
  it("sums tokens, cost and turns per interval, stamped with the last event time and the step", () => {
    const aggregator = createMetricAggregator();
    aggregator.recordTurn(makeTurn({ endedAt: 5_000 }));
    aggregator.recordTurn(
      makeTurn({ id: "turn-2", endedAt: 4_000, cost: { usd: 0.5, source: "estimated" } }),
    );
    const points = aggregator.flush(3, 99_999);
    expect(pointValue(points, "tokens.input")).toBe(20);
    expect(pointValue(points, "tokens.output")).toBe(10);
    expect(pointValue(points, "tokens.cache_read")).toBe(4);
    expect(pointValue(points, "tokens.cache_write")).toBe(2);
    expect(pointValue(points, "cost_usd")).toBe(0.75);
    expect(pointValue(points, "turns")).toBe(2);
    expect(pointValue(points, "outcomes.success")).toBe(2);
    expect(pointValue(points, "requests.channel.telegram")).toBe(2);
    for (const point of points) expect(point).toMatchObject({ timestamp: 5_000, step: 3 });
  });

  it("starts every interval from zero, so a key's history sums to the run total", () => {
    const aggregator = createMetricAggregator();
    aggregator.recordTurn(makeTurn());
    const first = aggregator.flush(0, 10);
    aggregator.recordTurn(
      makeTurn({ usage: { input: 7, output: 1, cacheRead: 0, cacheWrite: 0, total: 8 } }),
    );
    const second = aggregator.flush(1, 20);
    expect(pointValue(first, "tokens.input")).toBe(10);
    expect(pointValue(second, "tokens.input")).toBe(7);
    expect(aggregator.flush(2, 30)).toEqual([]);
    expect(aggregator.hasData()).toBe(false);
  });

  it("leaves unknown costs out of cost_usd and counts those turns apart", () => {
    const aggregator = createMetricAggregator();
    aggregator.recordTurn(makeTurn({ cost: { usd: null, source: "unknown" } }));
    aggregator.recordTurn(makeTurn({ cost: { usd: 0.1, source: "provider" } }));
    const points = aggregator.flush(0, 0);
    expect(pointValue(points, "cost_usd")).toBe(0.1);
    expect(pointValue(points, "cost.unknown_turns")).toBe(1);
  });

  it("counts outcomes, incomplete turns, tool calls and tool errors", () => {
    const aggregator = createMetricAggregator();
    const tool = { toolCallId: "t", toolName: "read", outcome: "success" as const };
    aggregator.recordTurn(makeTurn({ outcome: "error", toolCalls: [tool, { ...tool, outcome: "error" }] }));
    aggregator.recordTurn(makeTurn({ outcome: "aborted" }));
    aggregator.recordTurn(makeTurn({ outcome: "unknown", incomplete: { reason: "timeout", missing: [] } }));
    const points = aggregator.flush(0, 0);
    expect(pointValue(points, "outcomes.error")).toBe(1);
    expect(pointValue(points, "outcomes.aborted")).toBe(1);
    expect(pointValue(points, "outcomes.incomplete")).toBe(1);
    expect(pointValue(points, "tool_calls")).toBe(2);
    expect(pointValue(points, "tool_errors")).toBe(1);
  });

  it("computes nearest-rank latency percentiles for turns, model calls and first tokens", () => {
    const aggregator = createMetricAggregator();
    const call = (durationMs: number) => ({
      callId: `c${durationMs}`,
      model: "gpt-4o",
      durationMs,
      timeToFirstByteMs: durationMs / 10,
      attempt: 1,
      usage: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 },
      cost: { usd: 0, source: "provider" as const },
      outcome: "success" as const,
    });
    for (let index = 1; index <= 100; index += 1)
      aggregator.recordTurn(makeTurn({ durationMs: index * 10, modelCalls: [call(index)] }));
    const points = aggregator.flush(0, 0);
    expect(pointValue(points, "turn_latency_ms.p50")).toBe(500);
    expect(pointValue(points, "turn_latency_ms.p95")).toBe(950);
    expect(pointValue(points, "turn_latency_ms.p99")).toBe(990);
    expect(pointValue(points, "model_call.latency_ms.p95")).toBe(95);
    expect(pointValue(points, "model_call.ttft_ms.p50")).toBe(5);
    expect(pointValue(points, "requests.model.gpt-4o")).toBe(100);
    expect(pointValue(points, "model_calls")).toBe(100);
  });

  it("caps distinct model keys for the run and counts the overflow under _other", () => {
    const aggregator = createMetricAggregator({ maxLabels: 2 });
    for (const model of ["a/one", "b", "c", "d"]) {
      aggregator.recordTurn(
        makeTurn({
          modelCalls: [
            {
              callId: model,
              attempt: 1,
              model,
              usage: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 },
              cost: { usd: 0, source: "provider" },
              outcome: "success",
            },
          ],
        }),
      );
    }
    const points = aggregator.flush(0, 0);
    expect(pointValue(points, "requests.model.a_one")).toBe(1);
    expect(pointValue(points, "requests.model.b")).toBe(1);
    expect(pointValue(points, "requests.model._other")).toBe(2);
    expect(pointValue(points, "clawscope.metric_keys_dropped")).toBe(2);
    expect(points.filter((point) => point.key.startsWith("requests.model."))).toHaveLength(3);
  });

  it("reads queue waits and stuck sessions from host events and ignores garbage", () => {
    const aggregator = createMetricAggregator();
    // as the service gets them: read by the kit, which never delivers a malformed one
    const record = (raw: unknown) => {
      const event = readOperationalEvent(raw);
      if (event) aggregator.recordEvent(event);
    };
    record({ type: "queue.lane.dequeue", lane: "main", queueSize: 0, waitMs: 40, ts: 7_000 });
    record({ type: "queue.lane.dequeue", lane: "main", queueSize: 0, waitMs: 60, ts: 8_000 });
    record({ type: "session.stuck", state: "processing", ageMs: 1, ts: 9_000 });
    record({ type: "session.stalled", state: "processing", ageMs: 1, ts: 9_000 });
    // a dequeue without lane, size or time is malformed (counted by the kit), not a dequeue
    for (const garbage of [null, 42, "x", { type: "queue.lane.dequeue", waitMs: "slow" }]) record(garbage);
    aggregator.recordTurn(null as unknown as Turn);
    const points = aggregator.flush(1, 0);
    expect(pointValue(points, "queue.dequeues")).toBe(2);
    expect(pointValue(points, "queue.wait_ms.p50")).toBe(40);
    expect(pointValue(points, "queue.wait_ms.p95")).toBe(60);
    expect(pointValue(points, "sessions.stuck")).toBe(1);
    expect(points.every((point) => Number.isFinite(point.value))).toBe(true);
  });

  it("matches the host's totals on captured turns (two HTTP turns, then a provider error)", () => {
    const turns = assembleScenario("e2e-http-2turns");
    expect(turns.length).toBe(2);
    const aggregator = createMetricAggregator();
    for (const turn of turns) aggregator.recordTurn(turn);
    const points = aggregator.flush(0, 0);
    const sum = (pick: (turn: Turn) => number) => turns.reduce((total, turn) => total + pick(turn), 0);
    expect(pointValue(points, "tokens.input")).toBe(sum((turn) => turn.usage.input));
    expect(pointValue(points, "tokens.output")).toBe(sum((turn) => turn.usage.output));
    expect(pointValue(points, "turns")).toBe(2);
    expect(pointValue(points, "outcomes.success")).toBe(2);

    const failed = assembleScenario("e2e-provider-error-400");
    const errors = createMetricAggregator();
    for (const turn of failed) errors.recordTurn(turn);
    expect(pointValue(errors.flush(0, 0), "outcomes.error")).toBeGreaterThanOrEqual(1);
  });
});

describe("an amended turn", () => {
  it("adds the difference to the interval's counters and counts the amendment, not a second turn", () => {
    const aggregator = createMetricAggregator();
    const first = makeTurn({ usage: { input: 10, output: 5, cacheRead: 0, cacheWrite: 0, total: 15 } });
    aggregator.recordTurn(first);
    aggregator.recordTurn({
      ...first,
      revision: 2,
      usage: { input: 25, output: 9, cacheRead: 0, cacheWrite: 0, total: 34 },
      cost: { usd: 0.4, source: "provider" },
      previous: {
        usage: first.usage,
        cost: first.cost,
        outcome: first.outcome,
        modelCalls: 0,
        toolCalls: 0,
        toolErrors: 0,
        incomplete: false,
      },
    });
    const points = aggregator.flush(0, 0);
    const value = (key: string) => points.find((point) => point.key === key)?.value;
    expect([value("tokens.input"), value("tokens.output"), value("turns"), value("turns.amended")]).toEqual([
      25, 9, 1, 1,
    ]);
    expect(value("cost_usd")).toBeCloseTo(0.4, 12);
  });
});
