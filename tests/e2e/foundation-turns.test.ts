/**
 * Issue 2, end to end on the real gateway: a plugin built on the kit (the probe) receives, for a
 * plain turn, a tool-call turn and a provider-400 turn, three assembled turns whose tokens and cost
 * equal the gateway's own figures (`model.usage` and `sessions.usage`), with the failed turn's
 * outcome `error`; a WS `chat.send` turn is assembled too; health is reported through the RPC
 * method, the health file and `openclaw clawscope status`; the gateway stops cleanly.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { HealthSnapshot, Turn } from "@clawscope/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayHandle, startGateway } from "./harness/gateway.js";
import { chatCompletion, chatSend, runOpenClawCli } from "./harness/gateway-client.js";
import { type GatewaySessionUsage, waitForSessionUsage } from "./harness/gateway-usage.js";
import { ECHO_TOOL_PLUGIN } from "./harness/plugin-fixtures.js";
import {
  PROBE_DIR,
  PROBE_ID,
  type ProbeRecords,
  probePlugin,
  readProbeRecords,
  readProbeStatus,
  waitForProbeRecords,
} from "./harness/probe.js";

const HTTP_SESSION = "foundation-turns";
const HTTP_SESSION_KEY = `agent:main:${HTTP_SESSION}`;
const WS_SESSION = "agent:main:foundation-turns-ws";
const WS_RUN_ID = `foundation-ws-${Date.now()}`;

interface DrivenTurn {
  runId: string;
  status: number;
  /** Wall-clock bounds of the HTTP request, to place a turn whose response carries no id. */
  sentAt: number;
  answeredAt: number;
}

describe("foundation: turns assembled by a kit plugin on the real gateway", () => {
  let gateway: GatewayHandle;
  let warmUpRunId: string;
  let plain: DrivenTurn;
  let tool: DrivenTurn;
  let failed: DrivenTurn;
  let records: ProbeRecords;

  /** The one turn with this run id; fails on none or duplicates. */
  const onlyTurn = (runId: string): Turn => {
    const matches = records.turns.filter((turn) => turn.runId === runId);
    expect(matches, `turns assembled for run ${runId}`).toHaveLength(1);
    return matches[0] as Turn;
  };

  beforeAll(async () => {
    gateway = await startGateway({
      plugins: [probePlugin({ settleMs: 500 }), ECHO_TOOL_PLUGIN],
    });
    const warmUp = await chatCompletion(gateway, {
      sessionKey: "foundation-turns-warm-up",
      content: "warm up",
    });
    expect(warmUp.status, "warm-up turn").toBe(200);
    warmUpRunId = warmUp.id as string;

    const drive = async (content: string): Promise<DrivenTurn> => {
      const sentAt = Date.now();
      const result = await chatCompletion(gateway, { sessionKey: HTTP_SESSION, content });
      return { runId: result.id ?? "", status: result.status, sentAt, answeredAt: Date.now() };
    };
    plain = await drive("hello foundation");
    tool = await drive("please USE_TOOL now");
    failed = await drive("FAIL_400 please");
    expect([plain.status, tool.status, failed.status]).toEqual([200, 200, 400]);
    expect(plain.runId).not.toBe("");
    expect(tool.runId).not.toBe("");

    const ack = await chatSend(gateway, {
      sessionKey: WS_SESSION,
      message: "hello over websocket",
      idempotencyKey: WS_RUN_ID,
    });
    expect(ack).toMatchObject({ runId: WS_RUN_ID, status: "started" });

    // the 400 answer carries no completion id: its turn is the HTTP session's third one
    records = await waitForProbeRecords(
      gateway,
      (current) => {
        const runIds = new Set(current.turns.map((turn) => turn.runId));
        const inSession = current.turns.filter((turn) => turn.sessionKey === HTTP_SESSION_KEY);
        return (
          [warmUpRunId, plain.runId, tool.runId, WS_RUN_ID].every((id) => runIds.has(id)) &&
          inSession.length >= 3
        );
      },
      "the probe to assemble the warm-up, plain, tool, provider-400 and WS turns",
    );
    failed.runId = findFailedTurn().runId;
  });

  /** The HTTP session's turn that is neither the plain nor the tool turn, started during the 400 request. */
  function findFailedTurn(): Turn {
    const others = records.turns.filter(
      (turn) =>
        turn.sessionKey === HTTP_SESSION_KEY && turn.runId !== plain.runId && turn.runId !== tool.runId,
    );
    expect(others, "turns of the HTTP session besides the plain and tool turns").toHaveLength(1);
    const turn = others[0] as Turn;
    expect(turn.startedAt).toBeGreaterThanOrEqual(failed.sentAt - 1000);
    expect(turn.startedAt).toBeLessThanOrEqual(failed.answeredAt);
    return turn;
  }

  afterAll(async () => {
    await gateway?.close();
  });

  it("loads the probe from its built bundle (runtimeExtensions), not from its TypeScript source", () => {
    const sources = gateway
      .pluginDiagnostics(PROBE_ID)
      .map((line) => /source=([^\s)]+)/.exec(line)?.[1])
      .filter((source): source is string => source !== undefined);
    expect(sources.length).toBeGreaterThan(0);
    expect(new Set(sources)).toEqual(new Set([path.join(PROBE_DIR, "dist", "index.js")]));
  });

  it("assembles exactly one turn per run, with the right outcomes", () => {
    const ids = records.turns.map((turn) => turn.id);
    expect(new Set(ids).size, "no turn id twice").toBe(ids.length);
    const plainTurn = onlyTurn(plain.runId);
    const toolTurn = onlyTurn(tool.runId);
    const failedTurn = onlyTurn(failed.runId);
    for (const turn of [plainTurn, toolTurn, failedTurn]) {
      expect(turn.id).toBe(turn.runId);
      expect(turn.sessionKey).toBe(HTTP_SESSION_KEY);
      expect(turn.incomplete).toBeUndefined();
    }
    expect([plainTurn.outcome, toolTurn.outcome, failedTurn.outcome]).toEqual([
      "success",
      "success",
      "error",
    ]);

    expect(plainTurn.modelCalls).toHaveLength(1);
    expect(plainTurn.toolCalls).toHaveLength(0);

    expect(toolTurn.modelCalls).toHaveLength(2);
    expect(toolTurn.modelCalls.map((call) => call.outcome)).toEqual(["success", "success"]);
    expect(toolTurn.toolCalls).toHaveLength(1);
    expect(toolTurn.toolCalls[0]).toMatchObject({ toolName: "echo_tool", outcome: "success" });

    // the host says "completed" for a failed provider call; the kit recovers the real outcome
    expect(failedTurn.hostOutcome).toBe("completed");
    expect(failedTurn.error).toMatchObject({
      status: 400,
      reason: "the provider rejected the request (HTTP 400)",
    });
    expect(failedTurn.modelCalls.map((call) => call.outcome)).toEqual(["error"]);
  });

  it("reports tokens and cost equal to the host's own model.usage events, marked provider", () => {
    for (const runId of [plain.runId, tool.runId]) {
      const turn = onlyTurn(runId);
      expect(turn.traceId).toBeTruthy();
      const usageEvents = records.modelUsage.filter((event) => event.trace?.traceId === turn.traceId);
      expect(usageEvents, `model.usage events for trace ${turn.traceId}`).toHaveLength(1);
      const host = usageEvents[0];
      expect(turn.usageSource).toBe("model.usage");
      expect(turn.usage).toEqual({
        input: host?.usage.input,
        output: host?.usage.output,
        cacheRead: host?.usage.cacheRead,
        cacheWrite: host?.usage.cacheWrite,
        total: host?.usage.total,
      });
      expect(turn.cost).toEqual({ usd: host?.costUsd, source: "provider" });
    }
    // 111/22 per call at $3/$15 per M (the mock's default usage and the configured prices)
    expect(onlyTurn(plain.runId).usage.total).toBe(133);
    expect(onlyTurn(tool.runId).usage).toMatchObject({ input: 222, output: 44, total: 266 });

    // no model.usage for a failed provider call: zero tokens, a real (provider) zero cost
    const failedTurn = onlyTurn(failed.runId);
    expect(records.modelUsage.filter((event) => event.trace?.traceId === failedTurn.traceId)).toHaveLength(0);
    expect(failedTurn.usage).toEqual({ input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 });
    expect(failedTurn.cost).toEqual({ usd: 0, source: "provider" });
  });

  it("sums to the sessions.usage RPC figures, and rolls the session up", async () => {
    // plain (1 assistant message) + tool (2) + failed (1, an error)
    const usage: GatewaySessionUsage = await waitForSessionUsage(
      gateway,
      HTTP_SESSION,
      (entry) => entry.messageCounts?.assistant === 4,
      60_000,
    );
    // seconds later than the first read: a duplicate delivered late would show up now
    records = await readProbeRecords(gateway);
    const turns = [plain.runId, tool.runId, failed.runId].map(onlyTurn);
    const sum = (pick: (turn: Turn) => number) => turns.reduce((total, turn) => total + pick(turn), 0);
    expect({
      input: sum((turn) => turn.usage.input),
      output: sum((turn) => turn.usage.output),
      cacheRead: sum((turn) => turn.usage.cacheRead),
      cacheWrite: sum((turn) => turn.usage.cacheWrite),
      totalTokens: sum((turn) => turn.usage.total),
    }).toEqual({
      input: usage.input,
      output: usage.output,
      cacheRead: usage.cacheRead,
      cacheWrite: usage.cacheWrite,
      totalTokens: usage.totalTokens,
    });
    expect(usage.missingCostEntries).toBe(0);
    // both sides add the same float figures; allow only summation noise (well below a pico-dollar)
    expect(Math.abs(sum((turn) => turn.cost.usd ?? Number.NaN) - usage.totalCost)).toBeLessThan(1e-12);
    expect(usage.messageCounts?.errors).toBe(1);
    expect(usage.toolUsage?.totalCalls).toBe(1);

    const rollup = records.sessions[HTTP_SESSION_KEY];
    expect(rollup).toBeDefined();
    expect(rollup?.turns).toBe(3);
    expect(rollup?.outcomes).toMatchObject({ success: 2, error: 1, aborted: 0, blocked: 0, unknown: 0 });
    expect(rollup?.usage).toMatchObject({
      input: usage.input,
      output: usage.output,
      cacheRead: usage.cacheRead,
      cacheWrite: usage.cacheWrite,
      total: usage.totalTokens,
    });
    expect(Math.abs((rollup?.costUsd ?? Number.NaN) - usage.totalCost)).toBeLessThan(1e-12);
    expect(rollup?.turnsWithUnknownCost).toBe(0);
  });

  it("assembles the WS chat.send turn, with its channel", () => {
    const turn = onlyTurn(WS_RUN_ID);
    expect(turn.sessionKey).toBe(WS_SESSION);
    expect(turn.outcome).toBe("success");
    expect(turn.channel).toEqual(expect.any(String));
    expect(turn.channel).not.toBe("");
    const host = records.modelUsage.filter((event) => event.trace?.traceId === turn.traceId);
    expect(host).toHaveLength(1);
    expect(turn.usage.total).toBe(host[0]?.usage.total);
    expect(turn.cost).toEqual({ usd: host[0]?.costUsd, source: "provider" });
  });

  it("reports health through the status RPC and the health file", async () => {
    const status = await readProbeStatus(gateway);
    expect(status.pluginId).toBe(PROBE_ID);
    expect(status.state).toBe("running");
    expect(status.events.seen).toBeGreaterThan(0);
    expect(status.events.malformed).toBe(0);
    expect(status.turns.assembled).toBeGreaterThanOrEqual(5);
    expect(status.turns.assembled, "every assembled turn reached the probe once").toBe(
      (await readProbeRecords(gateway)).turns.length,
    );
    expect(status.turns.incomplete).toBe(0);
    expect(status.export.dropped).toBe(0);
    // the probe runs with allowConversationAccess: no warning about blocked conversation hooks
    expect(status.warnings.filter((warning) => warning.includes("allowConversationAccess"))).toEqual([]);
    expect(existsSync(healthFile())).toBe(true);
  });

  it("prints a status line for the probe with `openclaw clawscope status`", async () => {
    const result = await runOpenClawCli(gateway, ["clawscope", "status"]);
    const output = `exit ${result.exitCode}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr.slice(-2000)}`;
    expect(result.exitCode, output).toBe(0);
    expect(result.stdout, output).toMatch(/^clawscope-probe: running; events \d+ .*turns \d+/m);
  });

  it("stops cleanly: exit code 0, health file says stopped", async () => {
    expect(await gateway.stop()).toBe(0);
    const snapshot = JSON.parse(readFileSync(healthFile(), "utf8")) as HealthSnapshot;
    expect(snapshot.pluginId).toBe(PROBE_ID);
    expect(snapshot.state).toBe("stopped");
    expect(snapshot.turns.assembled).toBeGreaterThanOrEqual(5);
  });

  function healthFile(): string {
    return path.join(gateway.pluginStateDir(PROBE_ID), "health.json");
  }
});
