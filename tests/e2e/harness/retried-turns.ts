/**
 * Turns the gateway runs more than once, through the whole pack at once: the mock provider scripts
 * every attempt (429 with and without `retry-after`, 503 until the host gives up, a 400 in the
 * middle of a tool loop, a 401 that falls back to another provider), three models priced apart and
 * one without a price, all driven concurrently. Every backend must hold, for every turn, the tokens
 * and cost of the gateway's own `model.usage` and `sessions.usage`, the last attempt's outcome, every
 * attempt as a model call of its own, and a root that spans them. Shared by the e2e files that run it
 * at `settleMs` 300 and at the default.
 */
import type { Turn } from "@clawscope/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayHandle, startGateway } from "./gateway.js";
import { chatCompletion, waitFor } from "./gateway-client.js";
import { type GatewaySessionUsage, waitForSessionUsage } from "./gateway-usage.js";
import { startMockProvider } from "./mock-provider.js";
import type { MockStep, MockUsage } from "./mock-reply.js";
import { type BackendTurn, type Figures, type PackBackends, startPackBackends } from "./pack-backends.js";
import { ECHO_TOOL_PLUGIN } from "./plugin-fixtures.js";
import { probePlugin, type RecordedModelUsage, waitForProbeRecords } from "./probe.js";

/** One scripted turn. */
interface Scenario {
  name: string;
  /** Canonical session key (lowercase: the host lowercases the HTTP header's). */
  sessionKey: string;
  agent?: string;
  /** `x-openclaw-model`. */
  model?: string;
  /** The marker in the prompt that the script answers. */
  marker: string;
  steps: MockStep[];
  outcome: "success" | "error";
  /** Whether the turn's models have a price (else its cost must be unknown everywhere). */
  priced: boolean;
  tools?: number;
  /** Least time between the first attempt's failure and the next attempt (a `retry-after`). */
  retryAfterMs?: number;
}

const text: MockStep = { kind: "text" };
const tool: MockStep = { kind: "tool" };
const status = (code: number, retryAfter?: string): MockStep =>
  retryAfter === undefined ? { kind: "error", status: code } : { kind: "error", status: code, retryAfter };

/** The scenarios; the first runs alongside all the others (the host retries it for about 70 s). */
export const RETRIED_SCENARIOS: readonly Scenario[] = [
  {
    name: "503 on every attempt",
    sessionKey: "agent:main:rt-5xx",
    marker: "SCN5XXALL",
    steps: Array.from({ length: 30 }, () => status(503)),
    outcome: "error",
    priced: true,
  },
  {
    name: "429, then success",
    sessionKey: "agent:main:rt-429-once",
    marker: "SCN429ONCE",
    steps: [status(429), text],
    outcome: "success",
    priced: true,
  },
  {
    name: "429 twice, then success",
    sessionKey: "agent:main:rt-429-twice",
    marker: "SCN429TWICE",
    steps: [status(429), status(429), text],
    outcome: "success",
    priced: true,
  },
  {
    name: "503 twice, then success",
    sessionKey: "agent:main:rt-5xx-twice",
    marker: "SCN5XXTWICE",
    steps: [status(503), status(502), text],
    outcome: "success",
    priced: true,
  },
  {
    name: "429 with retry-after: 3, then success",
    sessionKey: "agent:main:rt-429-after",
    marker: "SCN429AFTER",
    steps: [status(429, "3"), text],
    outcome: "success",
    priced: true,
    retryAfterMs: 3000,
  },
  {
    name: "a tool loop of three calls whose third call fails with 400",
    sessionKey: "agent:main:rt-tool-loop",
    marker: "SCNTOOLLOOP",
    steps: [tool, tool, status(400)],
    outcome: "error",
    priced: true,
    tools: 2,
  },
  {
    name: "another model, priced apart",
    sessionKey: "agent:main:rt-model-b",
    model: "mock2/mock-model-b",
    marker: "SCNMODELB",
    steps: [text],
    outcome: "success",
    priced: true,
  },
  {
    name: "a model without a price",
    sessionKey: "agent:main:rt-unpriced",
    model: "mock/mock-model-free",
    marker: "SCNUNPRICED",
    steps: [tool, text],
    outcome: "success",
    priced: false,
    tools: 1,
  },
  {
    name: "a 401 that falls back to another provider's model",
    sessionKey: "agent:fb:rt-fallback",
    agent: "fb",
    marker: "SCNFALLBACK",
    steps: [status(401), text],
    outcome: "success",
    priced: true,
  },
];

/** Usage per model: cache figures on the first, other sizes on the others. */
const USAGE_BY_MODEL: Record<string, MockUsage> = {
  "mock-model": { promptTokens: 111, completionTokens: 22, cachedTokens: 40, cacheWriteTokens: 9 },
  "mock-model-b": { promptTokens: 205, completionTokens: 51 },
  "mock-model-c": { promptTokens: 77, completionTokens: 13 },
  "mock-model-free": { promptTokens: 93, completionTokens: 31 },
};

const model = (id: string, cost?: Record<string, number>) => ({
  id,
  name: id,
  reasoning: false,
  input: ["text"],
  ...(cost ? { cost } : {}),
  contextWindow: 128000,
  maxTokens: 4096,
});

/** Providers and agents: `main` strict on `mock/mock-model`; `fb` falls back from `mock3` to `mock2`. */
function toModelConfig(baseUrl: string): Record<string, unknown> {
  const provider = (apiKey: string, models: unknown[]) => ({
    baseUrl,
    apiKey,
    api: "openai-completions",
    models,
  });
  return {
    models: {
      providers: {
        mock: provider("mock-local", [
          model("mock-model", { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 }),
          model("mock-model-free"),
        ]),
        mock2: provider("mock-two", [
          model("mock-model-b", { input: 1, output: 4, cacheRead: 0.1, cacheWrite: 1.25 }),
        ]),
        // its own provider: the 401 cools down this key only, not the others' (the host does so per key)
        mock3: provider("mock-three", [model("mock-model-c", { input: 2, output: 8 })]),
      },
    },
    agents: {
      defaults: { model: { primary: "mock/mock-model", fallbacks: [] } },
      entries: {
        main: { model: { primary: "mock/mock-model", fallbacks: [] } },
        fb: { model: { primary: "mock3/mock-model-c", fallbacks: ["mock2/mock-model-b"] } },
      },
    },
  };
}

/** One scenario's turn, with everything the gateway and each backend said of it. */
interface ScenarioCase {
  scenario: Scenario;
  status: number;
  turn: Turn;
  /** The host's own `model.usage` (none when no call succeeded). */
  host: RecordedModelUsage | undefined;
  session: GatewaySessionUsage;
  /** Model requests the mock answered for it, with their times. */
  requests: Array<{ receivedAt: number; status: number }>;
  backends: Record<"otel" | "mlflow" | "langfuse", BackendTurn>;
}

const BACKENDS = ["otel", "mlflow", "langfuse"] as const;

/** The figures of `model.usage` (zero when the host sent none). */
function hostFigures(host: RecordedModelUsage | undefined): Figures {
  return {
    input: host?.usage.input ?? 0,
    output: host?.usage.output ?? 0,
    cacheRead: host?.usage.cacheRead ?? 0,
    cacheWrite: host?.usage.cacheWrite ?? 0,
    costUsd: host?.costUsd,
  };
}

const tokensOf = (figures: Figures) => ({
  input: figures.input,
  output: figures.output,
  cacheRead: figures.cacheRead,
  cacheWrite: figures.cacheWrite,
});

/** One gateway of the file, at one `settleMs`, with what it made of every scenario. */
interface Phase {
  label: string;
  experiment: string;
  experimentId: string;
  gateway: GatewayHandle;
  cases: ScenarioCase[];
}

/**
 * Boots a gateway with the whole pack (and the probe) at this `settleMs` (undefined: the default),
 * drives every scenario at once, and reads what the gateway and each backend made of them.
 */
async function runPhase(backends: PackBackends, name: string, settleMs: number | undefined): Promise<Phase> {
  const label = settleMs === undefined ? "the default settleMs" : `settleMs ${settleMs}`;
  const experiment = `e2e-${name}-${Date.now()}`;
  const common = { flushIntervalMs: 300, ...(settleMs === undefined ? {} : { settleMs }) };
  const provider = await startMockProvider({ usageByModel: USAGE_BY_MODEL });
  const gateway = await startGateway({
    provider,
    plugins: [...backends.plugins(experiment, common), probePlugin(common), ECHO_TOOL_PLUGIN],
    extraConfig: toModelConfig(provider.baseUrl),
  });
  await chatCompletion(gateway, { sessionKey: "agent:main:rt-warm-up", content: "warm up" });
  for (const scenario of RETRIED_SCENARIOS) provider.script(scenario.marker, scenario.steps);
  // every scenario at once: concurrent turns, and the long 5xx one alongside the rest
  const statuses = await Promise.all(
    RETRIED_SCENARIOS.map((scenario) =>
      chatCompletion(gateway, {
        sessionKey: scenario.sessionKey,
        content: `please ${scenario.marker}`,
        timeoutMs: 240_000,
        ...(scenario.agent ? { agent: scenario.agent } : {}),
        ...(scenario.model ? { model: scenario.model } : {}),
      }).then((answer) => answer.status),
    ),
  );
  const records = await waitForProbeRecords(
    gateway,
    (current) =>
      RETRIED_SCENARIOS.every((scenario) =>
        current.turns.some((turn) => turn.sessionKey === scenario.sessionKey),
      ),
    `${label}: the probe to assemble every scenario's turn`,
    120_000,
  );
  const experimentId = await backends.mlflowReader.experimentId(experiment);
  if (!experimentId) throw new Error(`no MLflow experiment ${experiment}`);
  const cases: ScenarioCase[] = [];
  for (const [index, scenario] of RETRIED_SCENARIOS.entries()) {
    // one turn; should late input have amended it, its last revision is what the backends hold
    const turns = records.turns.filter((turn) => turn.sessionKey === scenario.sessionKey);
    expect(new Set(turns.map((turn) => turn.id)).size, `${label}: ${scenario.name}`).toBe(1);
    const turn = turns.at(-1) as Turn;
    const requests = provider
      .modelRequests()
      .filter((request) => request.script === scenario.marker)
      .map((request) => ({
        receivedAt: request.receivedAt,
        status: request.reply?.kind === "error" ? request.reply.status : 200,
      }));
    const backendTurns = await waitFor(
      async () => {
        const found = {
          otel: backends.otelTurn(turn.id),
          mlflow: await backends.mlflowTurn(experimentId, turn.id),
          langfuse: backends.langfuseTurn(turn.id),
        };
        const complete = BACKENDS.every((backend) => (found[backend]?.calls.length ?? -1) >= requests.length);
        return complete ? (found as ScenarioCase["backends"]) : undefined;
      },
      60_000,
      500,
      `${label}: ${scenario.name}: its trace with ${requests.length} model calls in every backend`,
    );
    cases.push({
      scenario,
      status: statuses[index] ?? 0,
      turn,
      host: records.modelUsage.find((event) => event.trace?.traceId === turn.traceId),
      session: await waitForSessionUsage(gateway, scenario.sessionKey),
      requests,
      backends: backendTurns,
    });
  }
  if (process.env.CLAWSCOPE_E2E_VERBOSE === "1") {
    for (const item of cases) {
      console.log(
        `${label}: ${item.scenario.name}: HTTP ${item.status}, ${item.requests.length} requests, ${item.turn.outcome} in ${item.turn.attempts} attempt(s), tokens ${JSON.stringify(item.turn.usage)} cost ${item.turn.cost.usd} (${item.turn.cost.source}); sessions.usage cost ${item.session.totalCost}`,
      );
    }
  }
  return { label, experiment, experimentId, gateway, cases };
}

/**
 * Defines the tests: one set of backends, two gateways side by side (`settleMs` 300 and the
 * default), every scenario on each at once, then each figure compared.
 */
export function describeRetriedTurns(fileName: string): void {
  describe("retried and failed-over turns through otel, mlflow and langfuse, at settleMs 300 and the default", () => {
    let backends: PackBackends;
    let phases: Phase[] = [];

    beforeAll(async () => {
      backends = await startPackBackends(fileName);
      // side by side: the host's retry waits (about 90 s for the 5xx turn) overlap
      phases = await Promise.all([
        runPhase(backends, `${fileName}-settle-300`, 300),
        runPhase(backends, `${fileName}-settle-default`, undefined),
      ]);
    }, 12 * 60_000);

    afterAll(async () => {
      for (const phase of phases) await phase.gateway.close();
      await backends?.close();
    });

    it("assembles each scenario as one turn whose attempts are the provider requests, the last deciding the outcome", () => {
      for (const { scenario, turn, requests, status } of phases.flatMap((phase) => phase.cases)) {
        const refused = requests.filter((request) => request.status !== 200).length;
        const scripted = scenario.steps.some((step) => step.kind === "error");
        expect(refused > 0, `${scenario.name}: the mock refused what the script says`).toBe(scripted);
        expect(turn.outcome, scenario.name).toBe(scenario.outcome);
        expect(turn.modelCalls, `${scenario.name}: a model call per provider request`).toHaveLength(
          requests.length,
        );
        expect(turn.toolCalls, scenario.name).toHaveLength(scenario.tools ?? 0);
        expect(status === 200, `${scenario.name}: HTTP ${status}`).toBe(scenario.outcome === "success");
        expect(turn.incomplete, scenario.name).toBeUndefined();
      }
      const cases = phases.flatMap((phase) => phase.cases);
      const retried = cases.find((item) => item.scenario.marker === "SCN429TWICE") as ScenarioCase;
      expect(retried.turn.attempts).toBe(3);
      expect(retried.turn.modelCalls.map((call) => [call.attempt, call.outcome, call.errorStatus])).toEqual([
        [1, "error", 429],
        [2, "error", 429],
        [3, "success", undefined],
      ]);
      const fallback = cases.find((item) => item.scenario.marker === "SCNFALLBACK") as ScenarioCase;
      expect(fallback.turn).toMatchObject({ provider: "mock2", model: "mock-model-b", attempts: 2 });
      expect(fallback.turn.modelCalls.map((call) => [call.provider, call.model, call.outcome])).toEqual([
        ["mock3", "mock-model-c", "error"],
        ["mock2", "mock-model-b", "success"],
      ]);
    });

    it("gives every turn the gateway's own tokens and cost (model.usage and sessions.usage), in every backend", () => {
      for (const { scenario, turn, host, session, backends: held } of phases.flatMap(
        (phase) => phase.cases,
      )) {
        const expected = hostFigures(host);
        // the gateway's two ledgers agree with each other first
        expect(tokensOf(expected), `${scenario.name}: model.usage against sessions.usage`).toEqual({
          input: session.input,
          output: session.output,
          cacheRead: session.cacheRead,
          cacheWrite: session.cacheWrite,
        });
        expect(tokensOf({ ...turn.usage, costUsd: undefined }), `${scenario.name}: the kit's turn`).toEqual(
          tokensOf(expected),
        );
        for (const name of BACKENDS) {
          const figures = held[name].figures;
          expect(tokensOf(figures), `${scenario.name}: ${name} tokens`).toEqual(tokensOf(expected));
          if (scenario.priced) {
            expect(figures.costUsd, `${scenario.name}: ${name} cost`).toBeCloseTo(session.totalCost, 9);
          } else {
            // a model without a price: unknown, never $0
            expect(figures.costUsd, `${scenario.name}: ${name} cost`).toBeUndefined();
          }
        }
        if (!scenario.priced) expect(turn.cost).toEqual({ usd: null, source: "unknown" });
        else expect(turn.cost.usd, scenario.name).toBeCloseTo(session.totalCost, 9);
      }
    });

    it("shows every attempt as its own model call, failed ones with their reason, and the last attempt's outcome", () => {
      for (const { scenario, requests, backends: held } of phases.flatMap((phase) => phase.cases)) {
        for (const name of BACKENDS) {
          const turn = held[name];
          expect(turn.failed, `${scenario.name}: ${name} outcome`).toBe(scenario.outcome === "error");
          expect(turn.calls, `${scenario.name}: ${name} calls`).toHaveLength(requests.length);
          expect(turn.tools, `${scenario.name}: ${name} tools`).toBe(scenario.tools ?? 0);
          requests.forEach((request, index) => {
            const call = turn.calls[index];
            expect(call?.failed, `${scenario.name}: ${name} call ${index + 1}`).toBe(request.status !== 200);
            if (request.status !== 200 && request.status !== 401) {
              expect(call?.statusMessage, `${scenario.name}: ${name} call ${index + 1}`).toContain(
                `HTTP ${request.status}`,
              );
            }
            expect(
              call?.endMs ?? 0,
              `${scenario.name}: ${name} call ${index + 1} ends`,
            ).toBeGreaterThanOrEqual(call?.startMs ?? Number.POSITIVE_INFINITY);
          });
        }
      }
    });

    it("draws the root over every attempt and call, and waits out a retry-after", () => {
      for (const { scenario, backends: held, turn } of phases.flatMap((phase) => phase.cases)) {
        for (const name of BACKENDS) {
          const root = held[name];
          const first = Math.min(...root.calls.map((call) => call.startMs));
          const last = Math.max(...root.calls.map((call) => call.endMs));
          expect(
            root.startMs,
            `${scenario.name}: ${name} root starts before its first call`,
          ).toBeLessThanOrEqual(first + 1);
          expect(
            root.endMs,
            `${scenario.name}: ${name} root ends after its last call`,
          ).toBeGreaterThanOrEqual(last - 1);
        }
        if (scenario.retryAfterMs !== undefined) {
          const [firstCall, secondCall] = turn.modelCalls;
          expect(
            (secondCall?.startedAt ?? 0) - (firstCall?.endedAt ?? 0),
            scenario.name,
          ).toBeGreaterThanOrEqual(scenario.retryAfterMs - 100);
        }
      }
    });

    it("adds up, over all turns, to the gateway's totals in the OTel metrics and the MLflow run", async () => {
      for (const { label, cases, gateway, experiment, experimentId } of phases) {
        const ledger = cases.reduce(
          (sum, { session }) => ({
            input: sum.input + session.input,
            output: sum.output + session.output,
            cacheRead: sum.cacheRead + session.cacheRead,
            cacheWrite: sum.cacheWrite + session.cacheWrite,
            costUsd: (sum.costUsd ?? 0) + session.totalCost,
          }),
          { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, costUsd: 0 } as Figures,
        );
        const warmUp = await waitForSessionUsage(gateway, "agent:main:rt-warm-up");
        const expected = {
          input: ledger.input + warmUp.input,
          output: ledger.output + warmUp.output,
          cacheRead: ledger.cacheRead + warmUp.cacheRead,
          cacheWrite: ledger.cacheWrite + warmUp.cacheWrite,
        };
        const runs = await backends.mlflowReader.searchRuns(experimentId);
        expect(runs, label).toHaveLength(1);
        const runId = (runs[0] as { runId: string }).runId;
        const totals = await waitFor(
          async () => {
            const otel = backends.otelMetricTotals(experiment);
            const mlflow = await backends.mlflowRunTotals(runId);
            const done = [otel, mlflow].every((figures) => figures.input === expected.input);
            return done ? { otel, mlflow } : undefined;
          },
          30_000,
          500,
          `${label}: the metrics to add up to the gateway's totals`,
        );
        for (const name of ["otel", "mlflow"] as const) {
          expect(tokensOf(totals[name]), `${label}: ${name} token totals`).toEqual(expected);
          expect(totals[name].costUsd ?? 0, `${label}: ${name} cost total`).toBeCloseTo(
            (ledger.costUsd ?? 0) + warmUp.totalCost,
            9,
          );
        }
      }
    });
  });
}
