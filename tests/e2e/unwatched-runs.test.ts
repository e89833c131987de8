/**
 * Issue 9, the runs operators report missing from the official exporter, on the real gateway with
 * all three extensions: a heartbeat that ends in `NO_REPLY`, a cron job run in an isolated session,
 * and an `openclaw agent` run through the gateway. Each must be a turn in every backend whose tokens
 * and cost equal the gateway's own per-call figures (its `model.call.completed` usage, recorded by a
 * plain plugin beside the pack; `model.usage` where the host sends one), with the provider and model
 * of every call. The fallback chain is covered by `retried-turns-*.test.ts`.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Turn } from "@clawscope/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayHandle, REPO_ROOT, startGateway } from "./harness/gateway.js";
import { chatCompletion, runOpenClawCli, waitFor } from "./harness/gateway-client.js";
import { type BackendTurn, type PackBackends, startPackBackends } from "./harness/pack-backends.js";
import { ECHO_TOOL_PLUGIN } from "./harness/plugin-fixtures.js";
import { type ProbeRecords, probePlugin, waitForProbeRecords } from "./harness/probe.js";
import { readHostRecording, writeRecorderPlugin } from "./harness/recorder-plugin.js";

const EXPERIMENT = `e2e-unwatched-runs-${Date.now()}`;
const USAGE = { promptTokens: 123, completionTokens: 17, cachedTokens: 20, cacheWriteTokens: 5 };

type RunName = "heartbeat" | "cron" | "cli";

/** The host's own figures of one run: the sum of its model calls, and each call's provider and model. */
interface HostCalls {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  costUsd: number;
  calls: Array<{ provider: string; model: string }>;
}

describe("runs nobody watches: heartbeat with NO_REPLY, a cron job, an `openclaw agent` run", () => {
  const recorderDir = path.join(REPO_ROOT, ".e2e-tmp", `unwatched-recorder-${Date.now()}`);
  let backends: PackBackends;
  let gateway: GatewayHandle;
  let records: ProbeRecords;
  let experimentId: string;
  const turns = {} as Record<RunName, Turn>;
  const held = {} as Record<RunName, Record<"otel" | "mlflow" | "langfuse", BackendTurn>>;
  let recorder: ReturnType<typeof writeRecorderPlugin>;

  beforeAll(async () => {
    mkdirSync(recorderDir, { recursive: true });
    recorder = writeRecorderPlugin(recorderDir);
    backends = await startPackBackends("unwatched-runs");
    const common = { flushIntervalMs: 300, settleMs: 300 };
    gateway = await startGateway({
      plugins: [...backends.plugins(EXPERIMENT, common), probePlugin(common), recorder, ECHO_TOOL_PLUGIN],
      providerOptions: { usage: USAGE },
    });
    await chatCompletion(gateway, { sessionKey: "agent:main:unwatched-warm-up", content: "warm up" });
    const provider = gateway.provider;

    // a heartbeat woken now; its prompt asks for NO_REPLY when nothing needs attention
    provider.script("reply NO_REPLY", [{ kind: "text", text: "NO_REPLY" }]);
    const event = await runOpenClawCli(gateway, [
      "system",
      "event",
      "--text",
      "check the queue",
      "--mode",
      "now",
      "--json",
    ]);
    expect(event.exitCode, event.stderr).toBe(0);
    await waitFor(
      () => provider.remainingSteps("reply NO_REPLY") === 0,
      60_000,
      250,
      "the heartbeat's model call",
    );

    const added = await runOpenClawCli(gateway, [
      "cron",
      "add",
      "--name",
      "unwatched",
      "--every",
      "1h",
      "--message",
      "cron asks for the daily numbers",
      "--session",
      "isolated",
      "--json",
    ]);
    const jobId = (added.json as { id?: string } | undefined)?.id;
    expect(jobId, added.stdout + added.stderr).toEqual(expect.any(String));
    const run = await runOpenClawCli(gateway, ["cron", "run", jobId as string, "--json"]);
    expect(run.exitCode, run.stderr).toBe(0);

    const agent = await runOpenClawCli(gateway, [
      "agent",
      "--session-key",
      "agent:main:unwatched-cli",
      "--message",
      "hello from the command line",
      "--json",
    ]);
    expect(agent.exitCode, agent.stderr).toBe(0);

    const pick = (current: ProbeRecords) => ({
      heartbeat: current.turns.find((turn) => turn.trigger === "heartbeat"),
      cron: current.turns.find((turn) => turn.trigger === "cron"),
      cli: current.turns.find((turn) => turn.sessionKey === "agent:main:unwatched-cli"),
    });
    records = await waitForProbeRecords(
      gateway,
      (current) => Object.values(pick(current)).every((turn) => turn !== undefined),
      "the heartbeat, cron and CLI turns",
      120_000,
    );
    Object.assign(turns, pick(records));
    experimentId = (await backends.mlflowReader.experimentId(EXPERIMENT)) as string;
    for (const name of ["heartbeat", "cron", "cli"] as const) {
      const turn = turns[name];
      held[name] = await waitFor(
        async () => {
          const found = {
            otel: backends.otelTurn(turn.id),
            mlflow: await backends.mlflowTurn(experimentId, turn.id),
            langfuse: backends.langfuseTurn(turn.id),
          };
          return Object.values(found).every((item) => item !== undefined)
            ? (found as Record<"otel" | "mlflow" | "langfuse", BackendTurn>)
            : undefined;
        },
        60_000,
        500,
        `the ${name} turn in every backend`,
      );
    }
  }, 10 * 60_000);

  afterAll(async () => {
    await gateway?.close();
    await backends?.close();
  });

  /** The recorder's `model.call.completed` events of a run, summed. */
  function hostCalls(runId: string): HostCalls {
    const figures: HostCalls = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, costUsd: 0, calls: [] };
    for (const row of readHostRecording(recorder.outDir).events) {
      const event = row.event as {
        type: string;
        runId?: string;
        provider?: string;
        model?: string;
        usage?: {
          input?: number;
          output?: number;
          cacheRead?: number;
          cacheWrite?: number;
          cost?: { total?: number };
        };
      };
      if (event.type !== "model.call.completed" || event.runId !== runId) continue;
      figures.input += event.usage?.input ?? 0;
      figures.output += event.usage?.output ?? 0;
      figures.cacheRead += event.usage?.cacheRead ?? 0;
      figures.cacheWrite += event.usage?.cacheWrite ?? 0;
      figures.costUsd += event.usage?.cost?.total ?? 0;
      figures.calls.push({ provider: String(event.provider), model: String(event.model) });
    }
    return figures;
  }

  it("makes each run a turn with the host's per-call tokens, cost, provider and model", () => {
    for (const name of ["heartbeat", "cron", "cli"] as const) {
      const turn = turns[name];
      const host = hostCalls(turn.runId);
      expect(host.calls.length, `${name}: the host's model calls`).toBeGreaterThan(0);
      expect(turn.outcome, name).toBe("success");
      expect(turn.usage, name).toMatchObject({
        input: host.input,
        output: host.output,
        cacheRead: host.cacheRead,
        cacheWrite: host.cacheWrite,
      });
      expect(turn.cost.source, name).toBe("provider");
      expect(turn.cost.usd, name).toBeCloseTo(host.costUsd, 12);
      expect(
        turn.modelCalls.map((call) => ({ provider: call.provider, model: call.model })),
        `${name}: provider and model of every call`,
      ).toEqual(host.calls);
      // where the host sent model.usage, it is the same figure
      const usage = records.modelUsage.find((event) => event.trace?.traceId === turn.traceId);
      if (usage) expect(usage.usage.input, `${name}: model.usage`).toBe(host.input);
    }
    expect(turns.heartbeat.trigger).toBe("heartbeat");
    expect(turns.cron.trigger).toBe("cron");
  });

  it("holds each run in every backend with those figures", () => {
    for (const name of ["heartbeat", "cron", "cli"] as const) {
      const host = hostCalls(turns[name].runId);
      for (const backend of ["otel", "mlflow", "langfuse"] as const) {
        const figures = held[name][backend].figures;
        expect(
          {
            input: figures.input,
            output: figures.output,
            cacheRead: figures.cacheRead,
            cacheWrite: figures.cacheWrite,
          },
          `${name}: ${backend} tokens`,
        ).toEqual({
          input: host.input,
          output: host.output,
          cacheRead: host.cacheRead,
          cacheWrite: host.cacheWrite,
        });
        expect(figures.costUsd, `${name}: ${backend} cost`).toBeCloseTo(host.costUsd, 9);
        expect(held[name][backend].calls, `${name}: ${backend} calls`).toHaveLength(host.calls.length);
      }
    }
  });
});
