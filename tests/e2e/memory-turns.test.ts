/**
 * Issue 12, end to end on the real gateway: a plain turn, a tool turn, a provider 400, a turn of a
 * second model and a tool loop the host detects (`tools.loopDetection`) in one session become turn facts and minute rollups in the memory extension's embedded SQLite store,
 * whose token and cost totals equal the gateway's own `sessions.usage`, and so does the hour's
 * snapshot (the scheduled jobs run on a clock shifted to reach the hour's end 90 s after start); the
 * persistence and consolidation routes are served behind gateway auth, the CLI answers with
 * Langfuse owning `openclaw clawscope`, and a real Prometheus scrapes the memory's figures.
 */
import path from "node:path";
import { openStore, type Store } from "@clawscope/store";
import { createLangfuseReceiver, type LangfuseReceiver, startPrometheus } from "@clawscope/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayHandle, startGateway } from "./harness/gateway.js";
import { chatCompletion, runOpenClawCli, waitFor } from "./harness/gateway-client.js";
import { secondModelConfig } from "./harness/gateway-config.js";
import { type GatewaySessionUsage, waitForSessionUsage } from "./harness/gateway-usage.js";
import { langfusePlugin } from "./harness/langfuse-plugin.js";
import { memoryPlugin, memoryStoreFile } from "./harness/memory-plugin.js";
import { type MockProvider, startMockProvider } from "./harness/mock-provider.js";
import type { MockStep } from "./harness/mock-reply.js";
import { ECHO_TOOL_PLUGIN } from "./harness/plugin-fixtures.js";

const SESSION = "memory-turns";
/** Turns the test sends: plain, tool, provider 400, second model, tool loop. */
const TURNS = 5;
/** Identical tool calls in one run: the host warns of a loop at the 11th (its threshold is 10). */
const LOOP_CALLS = 12;
const LOOP_MARKER = "SCNMEMLOOP";

/** The second model beside the harness's `mock/mock-model`; loop detection on. */
function extraConfig(baseUrl: string): Record<string, unknown> {
  return {
    ...secondModelConfig(baseUrl),
    tools: { loopDetection: { enabled: true } },
    // after a tool-heavy session the host runs a background "experience review" turn of its own
    // (run id `skill-workshop-review:…`, another session): counted by the pack as the turn it is,
    // but not in this session's usage, and not at a time the test controls
    skills: { workshop: { autonomous: { mode: "off" } } },
  };
}

/** The figures of a minute rollup this test reads (the store's records, as written). */
type RollupView = {
  id: string;
  ts: number;
  gateway: string;
  model: string | null;
  outcome: string | null;
  turns: number;
  failedModelCalls: number;
  toolCalls: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costProviderUsd: number;
  costEstimatedUsd: number;
  costUnknownTurns: number;
  latency: { counts: Record<string, number> };
};

interface HealthView {
  store: { kind: string; reachable: boolean };
  collections: Record<string, number> | null;
  lastRollup: { at: string; minutes: number } | null;
  pendingFacts: number;
}

describe("clawscope-memory-consolidation on the real gateway", () => {
  let gateway: GatewayHandle;
  let usage: GatewaySessionUsage;
  let store: Store;
  let langfuse: LangfuseReceiver;
  let provider: MockProvider;
  let snapshotHour: number;

  const readHealth = async (token?: string): Promise<{ status: number; body: HealthView | undefined }> => {
    const response = await fetch(`${gateway.baseUrl}/api/persistence/health`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    const text = await response.text();
    let body: HealthView | undefined;
    try {
      body = JSON.parse(text) as HealthView;
    } catch {}
    return { status: response.status, body };
  };

  beforeAll(async () => {
    // with Langfuse beside it, as in a real pack: clawscope-langfuse owns `openclaw clawscope`, and the
    // memory's subcommands must still be there
    langfuse = await createLangfuseReceiver();
    // the scheduled jobs' clock reaches the end of this real hour 90 s after start, so the hour's
    // snapshot (of the hour the turns happen in) is taken during the test; near an hour's end, wait it out
    const HOUR = 3_600_000;
    if (HOUR - (Date.now() % HOUR) < 240_000)
      await new Promise((resolve) => setTimeout(resolve, HOUR - (Date.now() % HOUR) + 1_000));
    snapshotHour = Math.floor(Date.now() / HOUR) * HOUR;
    const offset = snapshotHour + HOUR - 90_000 - Date.now();
    provider = await startMockProvider({
      usageByModel: { "mock-model-b": { promptTokens: 205, completionTokens: 51, cachedTokens: 30 } },
    });
    const tool: MockStep = { kind: "tool" };
    provider.script(LOOP_MARKER, [...Array.from({ length: LOOP_CALLS }, () => tool), { kind: "text" }]);
    gateway = await startGateway({
      provider,
      extraConfig: extraConfig(provider.baseUrl),
      env: { CLAWSCOPE_CLOCK_OFFSET_MS: String(offset) },
      plugins: [
        memoryPlugin({ flushIntervalMs: 200, settleMs: 300, gatewayName: "e2e-memory" }),
        langfusePlugin(langfuse, { flushIntervalMs: 200 }),
        ECHO_TOOL_PLUGIN,
      ],
    });
    const statuses: number[] = [];
    for (const content of ["hello memory", "please USE_TOOL now", "FAIL_400 please"])
      statuses.push((await chatCompletion(gateway, { sessionKey: SESSION, content })).status);
    statuses.push(
      (
        await chatCompletion(gateway, {
          sessionKey: SESSION,
          content: "hello model b",
          model: "mock2/mock-model-b",
        })
      ).status,
    );
    statuses.push(
      (await chatCompletion(gateway, { sessionKey: SESSION, content: `please ${LOOP_MARKER}` })).status,
    );
    expect(statuses).toEqual([200, 200, 400, 200, 200]);
    expect(provider.remainingSteps(LOOP_MARKER)).toBe(0);
    // every turn is in the session's usage: the loop's model calls included
    usage = await waitForSessionUsage(
      gateway,
      SESSION,
      (entry) =>
        (entry.toolUsage?.totalCalls ?? 0) === 1 + LOOP_CALLS &&
        (entry.messageCounts?.assistant ?? 0) >= 5 + LOOP_CALLS,
      60_000,
    );
    // the facts are written through the pipeline within a second; the minute's rollup 5 s after it ends
    await waitFor(
      async () => {
        const { body } = await readHealth(gateway.token);
        return body?.collections?.turn_facts === TURNS && body.pendingFacts === 0 && body.lastRollup !== null
          ? body
          : undefined;
      },
      150_000,
      1000,
      "every turn's fact written and a rollup run",
    );
    store = await openStore({
      kind: "sqlite",
      path: memoryStoreFile(gateway),
      collections: [{ name: "metrics" }, { name: "turn_facts" }, { name: "snapshots" }],
    });
  }, 480_000);

  afterAll(async () => {
    await store?.close();
    await gateway?.close();
    await provider?.close();
    await langfuse?.close();
  });

  it("keeps minute rollups whose tokens and cost equal the gateway's sessions.usage", async () => {
    // the rollup of the turns' last minute may still be due: wait until the rollups hold every turn
    const rollups = await waitFor(
      async () => {
        const found = await store
          .collection<RollupView & { id: string }>("metrics")
          .find({ from: 0, to: Number.MAX_SAFE_INTEGER });
        return found.reduce((total, rollup) => total + rollup.turns, 0) === TURNS ? found : undefined;
      },
      90_000,
      1000,
      "rollups of every turn",
    );
    const sum = (pick: (rollup: RollupView) => number) =>
      rollups.reduce((total, rollup) => total + pick(rollup), 0);
    expect({
      input: sum((rollup) => rollup.inputTokens),
      output: sum((rollup) => rollup.outputTokens),
      cacheRead: sum((rollup) => rollup.cacheReadTokens),
      cacheWrite: sum((rollup) => rollup.cacheWriteTokens),
    }).toEqual({
      input: usage.input,
      output: usage.output,
      cacheRead: usage.cacheRead,
      cacheWrite: usage.cacheWrite,
    });
    expect(usage.missingCostEntries).toBe(0);
    expect(
      Math.abs(sum((rollup) => rollup.costProviderUsd + rollup.costEstimatedUsd) - usage.totalCost),
    ).toBeLessThan(1e-12);
    expect(sum((rollup) => rollup.toolCalls)).toBe(usage.toolUsage?.totalCalls ?? -1);
    const failed = rollups.filter((rollup) => rollup.outcome === "error");
    expect(failed.reduce((total, rollup) => total + rollup.turns, 0)).toBe(1);
    expect(sum((rollup) => Object.values(rollup.latency.counts).reduce((a, b) => a + b, 0))).toBe(TURNS);
    // each model apart: the second model's turn under its own provider and model
    const ofModel = (model: string) =>
      rollups.filter((rollup) => rollup.model === model).reduce((total, rollup) => total + rollup.turns, 0);
    expect(ofModel("mock-model-b")).toBe(1);
    expect(ofModel("mock-model")).toBe(TURNS - 1);
    for (const rollup of rollups) {
      expect(rollup.ts % 60_000).toBe(0);
      expect(rollup.gateway).toMatch(/^e2e-memory/);
    }
  });

  it("serves /api/persistence/health behind gateway auth", async () => {
    expect((await readHealth()).status).toBe(401);
    const { status, body } = await readHealth(gateway.token);
    expect(status).toBe(200);
    expect(body?.store).toMatchObject({ kind: "sqlite", reachable: true });
    expect(body?.collections?.turn_facts).toBe(TURNS);
  });

  it("serves the consolidation routes on the gateway's port, behind gateway auth", async () => {
    const url = `${gateway.baseUrl}/api/consolidation/latest`;
    expect((await fetch(url)).status).toBe(401);
    const latest = await fetch(url, { headers: { authorization: `Bearer ${gateway.token}` } });
    // no day has ended since this gateway started: nothing consolidated yet, said in JSON
    expect(latest.status).toBe(404);
    expect(await latest.json()).toMatchObject({ error: expect.stringMatching(/no consolidation/) });
    const bad = await fetch(`${gateway.baseUrl}/api/consolidation/not-a-day`, {
      headers: { authorization: `Bearer ${gateway.token}` },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/names no day/);
  });

  it("answers `openclaw clawscope history` and `consolidate` from the CLI, with the Langfuse extension owning the command", async () => {
    const history = await runOpenClawCli(gateway, ["clawscope", "history", "--days", "2", "--json"]);
    const said = (result: { exitCode: number | null; stdout: string; stderr: string }) =>
      `exit ${result.exitCode}\n--- stdout ---\n${result.stdout.slice(0, 2000)}\n--- stderr ---\n${result.stderr.slice(-2000)}`;
    expect(history.exitCode, said(history)).toBe(0);
    const days = (history.json as { history: { date: string; turns: number; costUsd: number }[] }).history;
    expect(days).toHaveLength(2);
    expect(days.reduce((sum, day) => sum + day.turns, 0)).toBe(TURNS);

    // yesterday had no traffic: its consolidation says so, and it is in the store
    const consolidated = await runOpenClawCli(gateway, ["clawscope", "consolidate", "--json"]);
    expect(consolidated.exitCode, said(consolidated)).toBe(0);
    const record = consolidated.json as { date: string; noTraffic: boolean; summary: string };
    expect(record.noTraffic).toBe(true);
    expect(record.summary).toMatch(/no traffic/i);
    const read = await fetch(`${gateway.baseUrl}/api/consolidation/${record.date}`, {
      headers: { authorization: `Bearer ${gateway.token}` },
    });
    expect(read.status).toBe(200);

    const bad = await runOpenClawCli(gateway, ["clawscope", "consolidate", "--date", "2026-13-45"]);
    expect(bad.exitCode, said(bad)).toBe(1);
    expect(bad.stderr).toMatch(/--date "2026-13-45" is not a date/);
  }, 240_000);

  it("serves its figures to a real Prometheus scraping the gateway with its token, and the alert rules load", async () => {
    // a consolidation through the gateway: the figures are the latest one's
    const run = await fetch(`${gateway.baseUrl}/api/consolidation/run`, {
      method: "POST",
      headers: { authorization: `Bearer ${gateway.token}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(run.status).toBe(200);
    const prometheus = await startPrometheus({
      jobs: [
        {
          name: "clawscope-memory",
          target: new URL(gateway.baseUrl).host,
          metricsPath: "/api/persistence/metrics",
          bearerToken: gateway.token,
        },
      ],
      ruleFiles: [
        path.resolve(import.meta.dirname, "../../deploy/prometheus/rules/clawscope-memory.rules.yml"),
      ],
    });
    try {
      const anomalies = await waitFor(
        async () => {
          const result = await prometheus.query("clawscope_memory_anomalies");
          return result.length === 4 ? result : undefined;
        },
        60_000,
        1000,
        "four anomaly series scraped",
      );
      expect(anomalies.map((series) => series.metric.clawscope_anomaly_kind).sort()).toEqual([
        "cost",
        "error_rate",
        "p95_latency",
        "tokens",
      ]);
      const [consolidated] = await prometheus.query("clawscope_memory_last_consolidation_time");
      expect(Number(consolidated?.value[1])).toBeGreaterThan(Date.now() / 1000 - 600);
      const [up] = await prometheus.query('up{job="clawscope-memory"}');
      expect(up?.value[1]).toBe("1");
      const groups = await prometheus.rules();
      const rules = groups.flatMap((group) => group.rules);
      expect(rules.map((rule) => rule.name)).toContain("ClawscopeOverBudget");
      expect(rules.filter((rule) => rule.health !== "ok" && rule.health !== "unknown")).toEqual([]);
    } finally {
      await prometheus.stop();
    }
  }, 120_000);

  it("takes the hour's snapshot at the hour, with the gateway's sessions.usage tokens and cost", async () => {
    type SnapshotView = {
      id: string;
      ts: number;
      gateway: string;
      totals: {
        turns: number;
        inputTokens: number;
        outputTokens: number;
        cacheReadTokens: number;
        cacheWriteTokens: number;
        costProviderUsd: number;
        costEstimatedUsd: number;
      };
      latency: { count: number };
      activity: { toolLoops: number; byTool: Record<string, { loops: number }> };
    };
    const [snapshot] = await waitFor(
      async () => {
        const found = await store
          .collection<SnapshotView>("snapshots")
          .find({ from: snapshotHour, to: snapshotHour + 1 });
        return found.length > 0 ? found : undefined;
      },
      150_000,
      1000,
      "the hour's snapshot",
    );
    expect(snapshot?.gateway).toMatch(/^e2e-memory@/);
    expect(snapshot?.totals).toMatchObject({
      turns: TURNS,
      inputTokens: usage.input,
      outputTokens: usage.output,
      cacheReadTokens: usage.cacheRead,
      cacheWriteTokens: usage.cacheWrite,
    });
    expect(
      Math.abs(
        (snapshot?.totals.costProviderUsd ?? 0) + (snapshot?.totals.costEstimatedUsd ?? 0) - usage.totalCost,
      ),
    ).toBeLessThan(1e-12);
    expect(snapshot?.latency.count).toBe(TURNS);
    // the loop the host detected (its tool.loop warning) is in the hour's activity, by tool
    expect(snapshot?.activity.toolLoops).toBeGreaterThanOrEqual(1);
    expect(snapshot?.activity.byTool.echo_tool?.loops).toBe(snapshot?.activity.toolLoops);
  }, 180_000);
});
