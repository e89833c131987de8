/**
 * Contract test: every scenario recorded on the real gateway, replayed through the fake host and
 * the real diagnostic bus, exported to an in-process Langfuse that enforces the published contract
 * (Basic auth, whole-export rejection, score bodies against the OpenAPI spec). Assertions apply
 * Langfuse's attribute mapping to what arrived and compare it with the gateway's own figures.
 */
import {
  createLangfuseReceiver,
  type FakeHost,
  type LangfuseObservation,
  type LangfuseReceiver,
  type LangfuseTraceView,
  listCapturedScenarios,
  loadCapturedScenario,
  toLangfuseObservations,
} from "@clawscope/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CONTRACT_ENVIRONMENT,
  CONTRACT_KEYS,
  CONTRACT_RELEASE,
  type ExpectedTurn,
  expectedHash,
  MODEL_MAX_TOKENS,
  readExpectedTurns,
  replayCaptured,
  startContractGateway,
  toExpectedUsageDetails,
  toObservationIds,
  waitForTurns,
} from "./contract-fixtures.js";

const SCENARIOS = listCapturedScenarios();

it("replays the recorded plain, tool, provider-error and chat.send scenarios", () => {
  expect(SCENARIOS).toEqual(
    expect.arrayContaining(["e2e-http-2turns", "e2e-provider-error-400", "e2e-ws-chat-send"]),
  );
  const turns = SCENARIOS.flatMap((name) => readExpectedTurns(loadCapturedScenario(name)));
  expect(turns.some((turn) => turn.tools.length > 0)).toBe(true);
  expect(turns.some((turn) => turn.outcome === "error")).toBe(true);
  expect(turns.some((turn) => turn.senderId !== undefined)).toBe(true);
});

describe.each(SCENARIOS)("captured scenario %s", (name) => {
  const scenario = loadCapturedScenario(name);
  const expected = readExpectedTurns(scenario);
  let receiver: LangfuseReceiver;
  let host: FakeHost;
  let views: LangfuseTraceView[];

  beforeAll(async () => {
    receiver = await createLangfuseReceiver(CONTRACT_KEYS);
    host = await startContractGateway(receiver.url, {
      allowConversationAccess: name !== "e2e-conversation-access-off",
    });
    await replayCaptured(host, scenario);
    await waitForTurns(receiver, expected);
    views = toLangfuseObservations(receiver.spans);
  });
  afterAll(async () => {
    await host?.cleanup();
    await receiver?.close();
  });

  const viewOf = (turn: ExpectedTurn): LangfuseTraceView => {
    const view = views.find((candidate) => candidate.trace.id === turn.traceId);
    if (!view) throw new Error(`no trace for run ${turn.runId}`);
    return view;
  };
  const observation = (view: LangfuseTraceView, id: string): LangfuseObservation => {
    const found = view.observations.find((candidate) => candidate.id === id);
    if (!found) throw new Error(`no observation ${id} in trace ${view.trace.id}`);
    return found;
  };

  it("is accepted whole, with Basic auth of the configured keys, and nothing Langfuse would drop", () => {
    expect(expected.length).toBeGreaterThan(0);
    expect(receiver.rejectedExports).toEqual([]);
    expect(receiver.rejectedScores).toEqual([]);
    expect(receiver.requests.length).toBeGreaterThan(0);
    for (const request of receiver.requests) {
      expect(request.authorization).toEqual({ scheme: "Basic", publicKey: CONTRACT_KEYS.publicKey });
      // accepted means the receiver matched the secret key too
      expect([request.endpoint, request.outcome]).toEqual([request.endpoint, "accepted"]);
      expect(request.headers["x-langfuse-public-key"]).toBe(CONTRACT_KEYS.publicKey);
    }
    for (const view of views) for (const item of view.observations) expect(item.problems).toEqual([]);
    expect(host.logs.messages("error")).toEqual([]);
  });

  it("gives every turn one trace: an agent root, hashed session and user, tags, environment, release", () => {
    expect(views.map((view) => view.trace.id).sort()).toEqual(expected.map((turn) => turn.traceId).sort());
    for (const turn of expected) {
      const { trace, observations } = viewOf(turn);
      const roots = observations.filter((item) => item.parentObservationId === null);
      expect(roots).toHaveLength(1);
      expect(roots[0]).toMatchObject({ id: toObservationIds(turn).root, type: "agent", name: trace.name });
      if (turn.agentId) expect(trace.name).toBe(`${turn.agentId} · ${turn.channel}`);
      // no input of the run named its agent: the name still says the channel
      else expect(trace.name?.endsWith(` · ${turn.channel}`)).toBe(true);
      expect(turn.sessionKey).toBeDefined();
      expect(trace.sessionId).toBe(expectedHash(turn.sessionKey as string));
      expect(trace.userId).toBe(turn.senderId ? expectedHash(turn.senderId) : null);
      expect(trace.tags).toEqual(
        [
          turn.agentId ? `agent:${turn.agentId}` : undefined,
          turn.channel ? `channel:${turn.channel}` : undefined,
          `environment:${CONTRACT_ENVIRONMENT}`,
          `release:${CONTRACT_RELEASE}`,
        ].filter((tag) => tag !== undefined),
      );
      expect([trace.environment, trace.release]).toEqual([CONTRACT_ENVIRONMENT, CONTRACT_RELEASE]);
      for (const item of observations) expect(item.environment).toBe(CONTRACT_ENVIRONMENT);
    }
  });

  it("never sends a raw session key, session id or sender", () => {
    const wire = JSON.stringify(receiver.spans) + JSON.stringify(receiver.scores);
    const raw = [...new Set(expected.flatMap((turn) => turn.rawIds))];
    expect(raw.length).toBeGreaterThan(0);
    // short ids are searched as whole JSON strings, long ones anywhere
    for (const id of raw) expect(wire).not.toContain(id.length >= 8 ? id : JSON.stringify(id));
  });

  it("puts the gateway's own usage, cost, model and time to first byte on the generations", () => {
    for (const turn of expected) {
      const view = viewOf(turn);
      const ids = toObservationIds(turn);
      const generations = view.observations.filter((item) => item.type === "generation");
      expect(generations.map((item) => item.id).sort()).toEqual([...ids.calls].sort());
      turn.calls.forEach((call, index) => {
        const generation = observation(view, ids.calls[index] as string);
        expect(generation.parentObservationId).toBe(ids.root);
        expect(generation.model).toBe(call.model);
        expect(generation.modelParameters).toEqual({ max_tokens: MODEL_MAX_TOKENS });
        if (call.usage) {
          const details = toExpectedUsageDetails(call.usage);
          expect(generation.usageDetails).toEqual(details ?? {});
          if (call.costUsd === undefined) expect(generation.costDetails).toEqual({});
          else expect(generation.costDetails).toEqual({ total: call.costUsd });
        } else if (generation.metadata.usage_scope !== "turn") {
          // the host gave no figures for this call: nothing Langfuse would price or count
          expect([generation.usageDetails, generation.costDetails]).toEqual([{}, {}]);
        }
        if (call.timeToFirstByteMs === undefined) expect(generation.completionStartTime).toBeNull();
        else {
          // whole milliseconds from the span's nanoseconds (an ISO time of them may round down)
          const span = receiver.spans.find((item) => item.spanId === generation.id);
          const start = Math.round((span?.startTimeUnixNano ?? 0) / 1e6);
          expect(Date.parse(String(generation.completionStartTime)) - start).toBe(call.timeToFirstByteMs);
        }
      });
      // run figures without per-call ones (the bus was silent) ride on exactly one generation
      const carriers = generations.filter((item) => item.metadata.usage_scope === "turn");
      const perCall = turn.calls.some((call) => call.usage);
      const runCounted = toExpectedUsageDetails(turn.totals.usage) !== undefined;
      expect(carriers.map((item) => item.id)).toEqual(!perCall && runCounted ? ids.calls.slice(-1) : []);
      // Langfuse adds up the observations: the trace must total the gateway's own run figures
      const sum = (key: string) =>
        view.observations.reduce((total, item) => total + (item.usageDetails[key] ?? 0), 0);
      const totals = toExpectedUsageDetails(turn.totals.usage) ?? {};
      for (const key of ["input", "output", "input_cache_read", "output_reasoning_tokens", "total"])
        expect([key, sum(key)]).toEqual([key, totals[key] ?? 0]);
      const cost = view.observations.reduce((total, item) => total + (item.costDetails.total ?? 0), 0);
      expect(cost).toBeCloseTo(turn.totals.costUsd ?? 0, 12);
      // what the host did not price carries no cost at all, rather than a zero Langfuse would believe
      for (const item of view.observations)
        if (item.type !== "generation") expect([item.type, item.costDetails]).toEqual([item.type, {}]);
    }
  });

  it("marks a failed provider call ERROR with a status message, on the generation and the root", () => {
    for (const turn of expected) {
      const view = viewOf(turn);
      const ids = toObservationIds(turn);
      const root = observation(view, ids.root);
      if (turn.outcome === "error") {
        expect(root.level).toBe("ERROR");
        expect(root.statusMessage).toBeTruthy();
      } else expect([root.level, root.statusMessage]).toEqual(["DEFAULT", null]);
      turn.calls.forEach((call, index) => {
        const generation = observation(view, ids.calls[index] as string);
        if (call.error) {
          expect(generation.level).toBe("ERROR");
          expect(generation.statusMessage).toContain(call.error.category ?? "");
          expect(generation.statusMessage).not.toBe("");
        } else expect([generation.level, generation.statusMessage]).toEqual(["DEFAULT", null]);
      });
    }
  });

  it("puts each tool call under the root as a tool observation", () => {
    for (const turn of expected) {
      const view = viewOf(turn);
      const ids = toObservationIds(turn);
      const tools = view.observations.filter((item) => item.type === "tool" || item.type === "retriever");
      expect(tools.map((item) => item.id).sort()).toEqual([...ids.tools].sort());
      turn.tools.forEach((tool, index) => {
        expect(observation(view, ids.tools[index] as string)).toMatchObject({
          type: "tool",
          name: tool.toolName,
          parentObservationId: ids.root,
          level: tool.failed ? "ERROR" : "DEFAULT",
        });
      });
      expect(view.observations).toHaveLength(1 + turn.calls.length + turn.tools.length);
    }
  });

  it("scores every turn's outcome with a schema-valid body the receiver stored", () => {
    expect(receiver.scores).toHaveLength(expected.length);
    for (const turn of expected) {
      const stored = receiver.scores.filter((score) => score.body.traceId === turn.traceId);
      expect(stored).toHaveLength(1);
      expect(stored[0]?.body).toMatchObject({
        name: "turn.outcome",
        value: turn.outcome,
        dataType: "CATEGORICAL",
        environment: CONTRACT_ENVIRONMENT,
      });
      expect(stored[0]?.writes).toBe(1);
    }
  });

  it("upserts rather than duplicates when the scenario is replayed after a restart", async () => {
    const spanIds = new Set(receiver.spans.map((span) => `${span.traceId}:${span.spanId}`));
    const scoreIds = receiver.scores.map((score) => score.id).sort();
    const spansBefore = receiver.spans.length;
    await host.stopServices();
    await host.startServices();
    await replayCaptured(host, scenario);
    await waitForTurns(receiver, expected, { scoreWrites: 2 });
    await waitForTurns(receiver, expected);
    // every span came again, under the same ids: Langfuse overwrites them
    await expect.poll(() => receiver.spans.length, { timeout: 10_000 }).toBe(2 * spansBefore);
    expect(new Set(receiver.spans.map((span) => `${span.traceId}:${span.spanId}`))).toEqual(spanIds);
    expect(receiver.scores.map((score) => score.id).sort()).toEqual(scoreIds);
    for (const id of scoreIds) expect(receiver.score(id)?.writes).toBe(2);
    expect(receiver.duplicateScoreWrites).toBe(expected.length);
    expect(receiver.rejectedExports).toEqual([]);
    expect(receiver.rejectedScores).toEqual([]);
  });
});
