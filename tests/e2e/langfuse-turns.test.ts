/**
 * Issue 5, end to end on the real gateway and the Langfuse contract receiver: after a plain turn, a
 * tool-call turn, a provider-400 turn and a WS `chat.send` turn, the receiver holds, through
 * Langfuse's own attribute mapping, one trace per turn — an agent root named after agent and
 * channel, a generation per model call with tokens and cost equal to the gateway's own `model.usage`
 * figures, a tool observation, ERROR levels on the failed turn, hashed session and user ids, tags —
 * and a `turn.outcome` score per trace that passed the official OpenAPI schema.
 */
import type { Turn } from "@clawscope/kit";
import {
  createLangfuseReceiver,
  type LangfuseObservation,
  type LangfuseReceiver,
  toLangfuseObservations,
} from "@clawscope/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayHandle, startGateway } from "./harness/gateway.js";
import { waitFor } from "./harness/gateway-client.js";
import {
  LANGFUSE_SETUP_TIMEOUT_MS,
  langfuseLogLines,
  langfusePlugin,
  listLangfuseSpool,
  readLangfuseStatus,
} from "./harness/langfuse-plugin.js";
import {
  type DeliveredTurn,
  findDeliveredTurn,
  sumDetail,
  toLangfuseTraceId,
  toOutcomeScoreId,
} from "./harness/langfuse-traces.js";
import type { MockUsage } from "./harness/mock-reply.js";
import { toHashedId } from "./harness/otel-signals.js";
import { ECHO_TOOL_PLUGIN } from "./harness/plugin-fixtures.js";
import { type ProbeRecords, probePlugin, type RecordedModelUsage } from "./harness/probe.js";
import { driveStandardTurns, type StandardTurns } from "./harness/standard-turns.js";

const SESSION = "langfuse-turns";
const HASH_KEY = "langfuse-e2e-hash-key-0123456789";
const ENVIRONMENT = "e2e";
const RELEASE = "e2e-release-1";
/** Every reply reports cache reads and writes, so the cache usage keys are exercised too. */
const MOCK_USAGE: MockUsage = {
  promptTokens: 111,
  completionTokens: 22,
  cachedTokens: 40,
  cacheWriteTokens: 9,
};

type TurnName = "warmUp" | "plain" | "tool" | "failed" | "ws";

/** One turn as the gateway saw it and as Langfuse would store it. */
interface TurnCase {
  turn: Turn;
  delivered: DeliveredTurn;
  root: LangfuseObservation;
  /** The host's own `model.usage` for the turn (none for a failed provider call). */
  host: RecordedModelUsage | undefined;
}

describe("langfuse: turns as traces, generations, tool observations and scores", () => {
  let receiver: LangfuseReceiver;
  let gateway: GatewayHandle;
  let records: ProbeRecords;
  let driven: StandardTurns["driven"];
  const cases: Record<TurnName, TurnCase> = {} as never;

  beforeAll(async () => {
    receiver = await createLangfuseReceiver();
    gateway = await startGateway({
      plugins: [
        langfusePlugin(receiver, {
          flushIntervalMs: 200,
          settleMs: 300,
          hashKey: HASH_KEY,
          environment: ENVIRONMENT,
          release: RELEASE,
        }),
        probePlugin({ settleMs: 300 }),
        ECHO_TOOL_PLUGIN,
      ],
      providerOptions: { usage: MOCK_USAGE },
    });
    ({ driven, records } = await driveStandardTurns(gateway, SESSION));

    const turnIds = records.turns.map((turn) => turn.id);
    await waitFor(
      () => {
        const views = receiver.observations();
        return turnIds.every((id) => {
          const delivered = findDeliveredTurn(views, toLangfuseTraceId(id));
          return delivered !== undefined && delivered.roots.length > 0;
        });
      },
      30_000,
      200,
      "a root observation per turn at the Langfuse receiver",
    );
    await waitFor(
      () => turnIds.every((id) => receiver.score(toOutcomeScoreId(id)) !== undefined),
      30_000,
      200,
      "a turn.outcome score per turn at the Langfuse receiver",
    );
    for (const name of Object.keys(driven) as TurnName[]) cases[name] = readCase(driven[name].runId);
  }, LANGFUSE_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await gateway?.close();
    await receiver?.close();
  });

  function readCase(runId: string): TurnCase {
    const matches = records.turns.filter((turn) => turn.runId === runId);
    expect(matches, `turns assembled for run ${runId}`).toHaveLength(1);
    const turn = matches[0] as Turn;
    const delivered = findDeliveredTurn(toLangfuseObservations(receiver.spans), toLangfuseTraceId(turn.id));
    expect(delivered, `trace of run ${runId}`).toBeDefined();
    const { roots } = delivered as DeliveredTurn;
    expect(roots, `roots of run ${runId}`).toHaveLength(1);
    const host = records.modelUsage.filter((event) => event.trace?.traceId === turn.traceId);
    expect(host.length, `model.usage events of run ${runId}`).toBeLessThanOrEqual(1);
    return {
      turn,
      delivered: delivered as DeliveredTurn,
      root: roots[0] as LangfuseObservation,
      host: host[0],
    };
  }

  it("exports each turn as one trace: an agent root with a generation per model call and the tool under it", () => {
    const views = toLangfuseObservations(receiver.spans);
    // the five turns, nothing else
    expect(views.map((view) => view.trace.id).sort()).toEqual(
      Object.values(cases)
        .map(({ turn }) => toLangfuseTraceId(turn.id))
        .sort(),
    );
    for (const [name, expected] of [
      ["warmUp", { generations: 1, tools: 0 }],
      ["plain", { generations: 1, tools: 0 }],
      ["tool", { generations: 2, tools: 1 }],
      ["failed", { generations: 1, tools: 0 }],
      ["ws", { generations: 1, tools: 0 }],
    ] as const) {
      const { turn, delivered, root } = cases[name];
      expect(turn.channel, `${name}: the host names a channel`).toEqual(expect.any(String));
      const traceName = `main · ${turn.channel}`;
      expect(root).toMatchObject({ type: "agent", name: traceName });
      expect(delivered.view.trace.name).toBe(traceName);
      expect(
        { generations: delivered.generations.length, tools: delivered.tools.length },
        `${name}: observations`,
      ).toEqual(expected);
      expect(delivered.view.observations).toHaveLength(1 + expected.generations + expected.tools);
      for (const child of [...delivered.generations, ...delivered.tools]) {
        expect(child.parentObservationId, `${name}: ${child.name} hangs under the root`).toBe(root.id);
        expect(child.startTime >= root.startTime && child.endTime <= root.endTime).toBe(true);
      }
      for (const generation of delivered.generations)
        expect(generation).toMatchObject({ name: "chat mock-model", model: "mock-model" });
    }
    const tool = cases.tool.delivered.tools[0] as LangfuseObservation;
    expect(tool).toMatchObject({ type: "tool", name: "echo_tool", level: "DEFAULT" });
    // the tool ran between the two model calls
    const [first, second] = [...cases.tool.delivered.generations].sort((a, b) =>
      a.startTime.localeCompare(b.startTime),
    );
    expect(tool.startTime >= (first?.endTime ?? "~")).toBe(true);
    expect(tool.endTime <= (second?.startTime ?? "")).toBe(true);
  });

  it("gives generations usage and cost equal to the gateway's model.usage", () => {
    for (const name of ["plain", "tool", "ws"] as const) {
      const { generations } = cases[name].delivered;
      const host = cases[name].host;
      expect(host, `model.usage of the ${name} turn`).toBeDefined();
      const usage = host?.usage ?? {};
      // the mock's cache figures reached the host, so the cache keys are really compared below
      expect(usage.cacheRead, `${name}: host cache reads`).toBeGreaterThan(0);
      expect(
        {
          input: sumDetail(generations, "usageDetails", "input"),
          output: sumDetail(generations, "usageDetails", "output"),
          cacheRead: sumDetail(generations, "usageDetails", "input_cache_read"),
          cacheWrite: sumDetail(generations, "usageDetails", "input_cache_creation"),
          total: sumDetail(generations, "usageDetails", "total"),
        },
        `${name}: usage details summed over generations`,
      ).toEqual({
        input: usage.input ?? 0,
        output: usage.output ?? 0,
        cacheRead: usage.cacheRead ?? 0,
        cacheWrite: usage.cacheWrite ?? 0,
        total: usage.total ?? 0,
      });
      expect(host?.costUsd, `${name}: host cost`).toBeGreaterThan(0);
      expect(
        Math.abs(sumDetail(generations, "costDetails", "total") - (host?.costUsd ?? Number.NaN)),
      ).toBeLessThan(1e-12);
      for (const generation of generations) {
        // every key Langfuse would price on its own; nothing it does not know
        expect(Object.keys(generation.usageDetails).sort()).toEqual(
          ["input", "output", "total", "input_cache_read", "input_cache_creation"]
            .filter((key) => generation.usageDetails[key] !== undefined)
            .sort(),
        );
        expect(generation.usageDetails.input).toBeGreaterThan(0);
        expect(generation.usageDetails.output).toBeGreaterThan(0);
        expect(generation.costDetails.total).toBeGreaterThan(0);
        expect(generation.level).toBe("DEFAULT");
        expect(Number(generation.modelParameters.max_tokens)).toBe(4096);
        // first byte, when the host timed it, lies inside the call
        if (generation.completionStartTime !== null) {
          expect(generation.completionStartTime >= generation.startTime).toBe(true);
          expect(generation.completionStartTime <= generation.endTime).toBe(true);
        }
      }
    }
    // one model call per plain turn: its figures are the host's own, not just their sum
    const plain = cases.plain.delivered.generations[0] as LangfuseObservation;
    expect(plain.usageDetails.input).toBe(cases.plain.host?.usage.input);
    expect(plain.usageDetails.output).toBe(cases.plain.host?.usage.output);
  });

  it("marks the provider-400 turn ERROR on its root and its generation, with a status message", () => {
    const { turn, root, delivered, host } = cases.failed;
    expect(host).toBeUndefined();
    expect(turn.outcome).toBe("error");
    expect(root.level).toBe("ERROR");
    expect(root.statusMessage).toEqual(expect.stringMatching(/\S/));
    const generation = delivered.generations[0] as LangfuseObservation;
    expect(generation.level).toBe("ERROR");
    expect(generation.statusMessage).toEqual(expect.stringMatching(/\S/));
    // nothing was counted or charged: no usage Langfuse could price, no cost but zero
    expect(generation.usageDetails).toEqual({});
    expect(generation.costDetails.total ?? 0).toBe(0);
    for (const name of ["warmUp", "plain", "tool", "ws"] as const) {
      for (const observation of cases[name].delivered.view.observations) {
        expect(observation.level, `${name}: ${observation.name}`).toBe("DEFAULT");
        expect(observation.statusMessage, `${name}: ${observation.name}`).toBeNull();
      }
    }
  });

  it("says why the provider call failed: the provider's HTTP 400 in the root's status message", () => {
    // content capture is off: not the provider's own text (it can echo the prompt), but its status
    // and a fixed reason; a status message of only "Error" would leave the operator guessing
    const { turn, root } = cases.failed;
    expect(turn.error).toMatchObject({ status: 400, reason: "the provider rejected the request (HTTP 400)" });
    expect(turn.error?.message).toBeUndefined();
    expect(root.statusMessage ?? "").toContain("the provider rejected the request (HTTP 400)");
  });

  it("sends no content while content capture is off (the default)", () => {
    for (const [name, { delivered }] of Object.entries(cases)) {
      expect({ input: delivered.view.trace.input, output: delivered.view.trace.output }, name).toEqual({
        input: null,
        output: null,
      });
      for (const observation of delivered.view.observations) {
        expect(
          { input: observation.input, output: observation.output },
          `${name}: ${observation.name}`,
        ).toEqual({
          input: null,
          output: null,
        });
      }
    }
    const sent = JSON.stringify(receiver.spans);
    for (const prompt of ["hello langfuse", "please USE_TOOL now", "hello-from-mock", "mock reply #"])
      expect(sent).not.toContain(prompt);
  });

  it("puts hashed session and user ids, tags, environment and release on every trace", () => {
    const views = toLangfuseObservations(receiver.spans);
    for (const [name, { turn, delivered }] of Object.entries(cases)) {
      const { trace } = delivered.view;
      const sessionKey = turn.sessionKey ?? turn.sessionId ?? "";
      expect(sessionKey, `${name}: session key`).not.toBe("");
      expect(trace.sessionId, `${name}: session id`).toBe(toHashedId(HASH_KEY, sessionKey));
      expect(trace.tags, `${name}: tags`).toEqual(
        expect.arrayContaining([
          "agent:main",
          `channel:${turn.channel}`,
          `environment:${ENVIRONMENT}`,
          `release:${RELEASE}`,
        ]),
      );
      expect(trace.environment).toBe(ENVIRONMENT);
      expect(trace.release).toBe(RELEASE);
      for (const observation of delivered.view.observations)
        expect(observation.environment).toBe(ENVIRONMENT);
    }
    // the two turns of one session group together in Langfuse's Sessions view
    expect(cases.plain.delivered.view.trace.sessionId).toBe(cases.tool.delivered.view.trace.sessionId);
    expect(cases.plain.delivered.view.trace.sessionId).not.toBe(cases.ws.delivered.view.trace.sessionId);

    // the WS turn names its sender: the user id is that sender, hashed
    const wsTurn = cases.ws.turn;
    expect(wsTurn.senderId, "the host's sender of the WS turn").toEqual(expect.any(String));
    const userId = cases.ws.delivered.view.trace.userId;
    expect(userId).toBe(toHashedId(HASH_KEY, wsTurn.senderId as string));
    expect(userId).not.toBe("cli");
    expect(userId).not.toBe(wsTurn.senderId);
    expect(userId).toMatch(/^[0-9a-f]{32}$/);

    // no raw session key, session id or sender anywhere in what was sent
    const sent = JSON.stringify(receiver.spans);
    for (const { turn } of Object.values(cases)) {
      for (const raw of [turn.sessionKey, turn.sessionId]) if (raw) expect(sent).not.toContain(raw);
    }
    expect(sent).not.toContain(SESSION);
    expect(sent).not.toContain(`"${wsTurn.senderId}"`);
    for (const view of views)
      for (const observation of view.observations) expect(observation.problems, observation.name).toEqual([]);
  });

  it("stores one schema-valid turn.outcome score per trace, with stable ids", () => {
    expect(receiver.rejectedScores).toEqual([]);
    expect(receiver.rejectedExports).toEqual([]);
    const outcomes = receiver.scores.filter((score) => score.body.name === "turn.outcome");
    expect(outcomes).toHaveLength(Object.keys(cases).length);
    // no tool loop in these turns, no stuck session: no other score
    expect(receiver.scores).toHaveLength(outcomes.length);
    for (const [name, { turn }] of Object.entries(cases)) {
      const id = toOutcomeScoreId(turn.id);
      const score = receiver.score(id);
      expect(score, `${name}: outcome score`).toBeDefined();
      expect(score?.writes, `${name}: score writes`).toBe(1);
      expect(score?.body).toMatchObject({
        id,
        traceId: toLangfuseTraceId(turn.id),
        name: "turn.outcome",
        dataType: "CATEGORICAL",
        value: name === "failed" ? "error" : "success",
        environment: ENVIRONMENT,
      });
    }
    expect(new Set(receiver.scores.map((score) => score.id)).size).toBe(receiver.scores.length);
  });

  it("talked to Langfuse with Basic auth only, without a failure, and stops with its spool empty", async () => {
    expect(receiver.requests.length).toBeGreaterThan(0);
    for (const request of receiver.requests) {
      expect(request, `${request.method} ${request.path}`).toMatchObject({
        // scores go in ingestion batches, answered 207 with a result per event
        status: request.endpoint === "ingestion" ? 207 : 200,
        outcome: "accepted",
        authorization: { scheme: "Basic", publicKey: receiver.credentials.publicKey },
      });
    }
    expect(new Set(receiver.requests.map((request) => request.endpoint))).toEqual(
      new Set(["traces", "ingestion"]),
    );
    expect(receiver.rejectedScores).toEqual([]);
    // each span arrived once: no export was sent twice
    const spanIds = receiver.spans.map((span) => span.spanId);
    expect(new Set(spanIds).size).toBe(spanIds.length);

    const status = await readLangfuseStatus(gateway);
    expect(status.state).toBe("running");
    expect(status.export).toMatchObject({ dropped: 0, deadLettered: 0, authPaused: false });
    expect(await gateway.stop()).toBe(0);
    expect(listLangfuseSpool(gateway)).toEqual({ live: [], deadLettered: [] });
    const problems = langfuseLogLines(gateway).filter(
      (line) => line.level === "ERROR" || line.level === "WARN",
    );
    expect(problems.map((line) => `${line.level} ${line.message}`)).toEqual([]);
  });
});
