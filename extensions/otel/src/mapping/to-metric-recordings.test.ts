import type { Turn } from "@clawscope/kit";
import { listCapturedScenarios } from "@clawscope/testing";
import { describe, expect, it } from "vitest";
import { findMetricDefinition, METRIC_DEFINITIONS, type MetricRecording } from "./metric-names.js";
import { assembleCapturedTurns, capturedErrorTurn, capturedToolTurn, makeTurn } from "./test-fixtures.js";
import { toMetricRecordings } from "./to-metric-recordings.js";

const sum = (recordings: MetricRecording[], name: string, labels: Record<string, string> = {}) =>
  recordings
    .filter((recording) => recording.name === name)
    .filter((recording) =>
      Object.entries(labels).every(([key, value]) => recording.attributes[key] === value),
    )
    .reduce((total, recording) => total + recording.value, 0);

/** Every id a turn carries, which must never show up in a label. */
function idsOf(turn: Turn): string[] {
  return [
    turn.id,
    turn.runId,
    turn.sessionKey,
    turn.sessionId,
    turn.traceId,
    turn.spanId,
    ...turn.modelCalls.flatMap((call) => [call.callId, call.spanId]),
    ...turn.toolCalls.flatMap((call) => [call.toolCallId, call.spanId]),
  ].filter((id): id is string => typeof id === "string" && id.length >= 6);
}

describe("toMetricRecordings", () => {
  it("records the captured tool turn's tokens, cost and durations with the gateway's figures", () => {
    const turn = capturedToolTurn();
    const recordings = toMetricRecordings(turn);
    const model = {
      "openclaw.provider": "mock",
      "openclaw.model": "mock-model",
      "openclaw.channel": "webchat",
    };
    expect(sum(recordings, "openclaw.tokens", { "openclaw.token.type": "input", ...model })).toBe(222);
    expect(sum(recordings, "openclaw.tokens", { "openclaw.token.type": "output" })).toBe(44);
    // zero buckets add no series
    expect(
      recordings.filter((recording) => recording.attributes["openclaw.token.type"] === "cache_read"),
    ).toEqual([]);
    expect(recordings.find((recording) => recording.name === "openclaw.cost.usd")).toEqual({
      name: "openclaw.cost.usd",
      value: 0.001326,
      attributes: { ...model, "openclaw.agent": "main", "openclaw.cost.source": "provider" },
    });
    expect(recordings.find((recording) => recording.name === "openclaw.run.duration_ms")).toEqual({
      name: "openclaw.run.duration_ms",
      value: turn.durationMs,
      attributes: { "openclaw.outcome": "success", ...model },
    });
    expect(sum(recordings, "openclaw.context.tokens", { "openclaw.context": "used" })).toBe(111);
    expect(sum(recordings, "openclaw.context.tokens", { "openclaw.context": "limit" })).toBe(128_000);
    // per model call: two chat requests of 111/22 each
    const usage = recordings.filter((recording) => recording.name === "gen_ai.client.token.usage");
    expect(usage.map((recording) => [recording.attributes["gen_ai.token.type"], recording.value])).toEqual([
      ["input", 111],
      ["output", 22],
      ["input", 111],
      ["output", 22],
    ]);
    const durations = recordings.filter((recording) => recording.name === "gen_ai.client.operation.duration");
    expect(durations.map((recording) => recording.attributes["gen_ai.operation.name"]).sort()).toEqual([
      "chat",
      "chat",
      "invoke_agent",
    ]);
    expect(
      durations.find((recording) => recording.attributes["gen_ai.operation.name"] === "invoke_agent")?.value,
    ).toBe(turn.durationMs / 1000);
  });

  it("records the provider-400 turn's error on its durations and no tokens", () => {
    const recordings = toMetricRecordings(capturedErrorTurn());
    expect(recordings.filter((recording) => recording.name === "openclaw.tokens")).toEqual([]);
    expect(recordings.filter((recording) => recording.name === "gen_ai.client.token.usage")).toEqual([]);
    const durations = recordings.filter((recording) => recording.name === "gen_ai.client.operation.duration");
    expect(durations.map((recording) => recording.attributes["error.type"])).toEqual(["Error", "Error"]);
    expect(
      recordings.find((recording) => recording.name === "openclaw.run.duration_ms")?.attributes[
        "openclaw.outcome"
      ],
    ).toBe("error");
  });

  it("adds no cost for unknown costs and labels incomplete turns' durations", () => {
    const turn = makeTurn({
      cost: { usd: null, source: "unknown" },
      incomplete: { reason: "timeout", missing: ["run.completed"] },
    });
    const recordings = toMetricRecordings(turn);
    expect(recordings.some((recording) => recording.name === "openclaw.cost.usd")).toBe(false);
    expect(
      recordings.find((recording) => recording.name === "openclaw.run.duration_ms")?.attributes[
        "openclaw.outcome"
      ],
    ).toBe("incomplete");
  });

  it("counts cache tokens in gen_ai input and by type in openclaw.tokens", () => {
    const recordings = toMetricRecordings(makeTurn());
    expect(sum(recordings, "openclaw.tokens", { "openclaw.token.type": "input" })).toBe(100);
    expect(sum(recordings, "openclaw.tokens", { "openclaw.token.type": "cache_read" })).toBe(30);
    expect(sum(recordings, "openclaw.tokens", { "openclaw.token.type": "cache_write" })).toBe(10);
    expect(sum(recordings, "gen_ai.client.token.usage", { "gen_ai.token.type": "input" })).toBe(140);
  });

  it("falls back to the turn's totals when the model calls carry no usage (llm_output)", () => {
    const [turn] = assembleCapturedTurns("e2e-diagnostics-disabled").filter(
      (item) => item.toolCalls.length > 0,
    );
    expect(turn?.usageSource).toBe("llm_output");
    const recordings = toMetricRecordings(turn as Turn);
    expect(sum(recordings, "gen_ai.client.token.usage", { "gen_ai.token.type": "input" })).toBe(222);
    expect(sum(recordings, "gen_ai.client.token.usage", { "gen_ai.token.type": "output" })).toBe(44);
  });

  it("never puts an id in a label, and only the declared label keys, on every captured turn", () => {
    const turns = listCapturedScenarios().flatMap((scenario) => assembleCapturedTurns(scenario));
    expect(turns.length).toBeGreaterThanOrEqual(9);
    const hostile = makeTurn({
      provider: "agent:main:secret-session",
      model: "9f424979-38af-4d85-a184-03c3613bc6ff",
      channel: "chatcmpl_926ddad1",
      agentId: "x".repeat(500),
    });
    for (const turn of [...turns, hostile]) {
      const ids = idsOf(turn);
      for (const recording of toMetricRecordings(turn)) {
        const definition = findMetricDefinition(recording.name);
        expect(definition, recording.name).toBeDefined();
        for (const [key, value] of Object.entries(recording.attributes)) {
          expect(definition?.labels).toContain(key);
          expect(value.length).toBeLessThanOrEqual(64);
          for (const id of ids) expect(value).not.toContain(id);
        }
        expect(Number.isFinite(recording.value) && recording.value >= 0).toBe(true);
      }
    }
    const labels = toMetricRecordings(hostile).find(
      (recording) => recording.name === "openclaw.cost.usd",
    )?.attributes;
    expect(labels).toMatchObject({
      "openclaw.provider": "other",
      "openclaw.model": "other",
      "openclaw.channel": "other",
    });
  });

  it("declares each metric once with an instrument, a unit and a description", () => {
    const names = METRIC_DEFINITIONS.map((definition) => definition.name);
    expect(new Set(names).size).toBe(names.length);
    for (const required of [
      "openclaw.tokens",
      "openclaw.cost.usd",
      "openclaw.run.duration_ms",
      "openclaw.context.tokens",
      "openclaw.webhook.received",
      "openclaw.webhook.error",
      "openclaw.webhook.duration_ms",
      "openclaw.message.queued",
      "openclaw.message.processed",
      "openclaw.message.duration_ms",
      "openclaw.queue.depth",
      "openclaw.queue.wait_ms",
      "openclaw.session.state",
      "openclaw.session.stuck",
      "gen_ai.client.token.usage",
      "gen_ai.client.operation.duration",
    ]) {
      expect(names).toContain(required);
    }
    for (const definition of METRIC_DEFINITIONS) {
      expect(definition.unit.length).toBeGreaterThan(0);
      expect(definition.description.length).toBeGreaterThan(10);
      expect(
        definition.labels.some((label) => /(^|\.)(session|run|message|trace|span|call)[._]?id$/.test(label)),
      ).toBe(false);
      if (definition.kind === "histogram") expect(definition.boundaries?.length).toBeGreaterThan(3);
    }
  });
});

describe("toMetricRecordings of an amended turn", () => {
  it("adds only what the amendment adds: the late call's tokens and cost, no second run duration", () => {
    const first = makeTurn();
    const call = { ...(first.modelCalls[0] as Turn["modelCalls"][number]), callId: "run-1:model:2" };
    const amended: Turn = {
      ...first,
      revision: 2,
      modelCalls: [...first.modelCalls, call],
      usage: { ...first.usage, input: first.usage.input * 2, output: first.usage.output * 2 },
      cost: { usd: (first.cost.usd ?? 0) * 2, source: "provider" },
      previous: {
        usage: first.usage,
        cost: first.cost,
        outcome: first.outcome,
        modelCalls: 1,
        toolCalls: 0,
        toolErrors: 0,
        incomplete: false,
      },
    };
    const recordings = toMetricRecordings(amended);
    const tokens = recordings.filter((recording) => recording.name === "openclaw.tokens");
    expect(
      Object.fromEntries(
        tokens.map((recording) => [recording.attributes["openclaw.token.type"], recording.value]),
      ),
    ).toEqual({ input: first.usage.input, output: first.usage.output });
    expect(recordings.find((recording) => recording.name === "openclaw.cost.usd")?.value).toBeCloseTo(
      first.cost.usd ?? 0,
      12,
    );
    expect(recordings.some((recording) => recording.name === "openclaw.run.duration_ms")).toBe(false);
    // the late call's own chat duration is new, the earlier one is not recorded again
    expect(
      recordings.filter(
        (recording) =>
          recording.name === "gen_ai.client.operation.duration" &&
          recording.attributes["gen_ai.operation.name"] === "chat",
      ),
    ).toHaveLength(1);
  });
});
