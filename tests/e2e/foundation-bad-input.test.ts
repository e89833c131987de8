/**
 * Issue 2, end to end on the real gateway: bad input never takes the gateway down. Each invalid
 * config field gives one clear line naming the field and leaves the extension disabled (at boot and
 * on hot reload); a valid config hot-reloaded brings it back; malformed events on the real bus are
 * skipped, counted and reported in one rate-limited line, and the next turn is assembled as usual.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { HealthSnapshot } from "@clawscope/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayHandle, REPO_ROOT, startGateway } from "./harness/gateway.js";
import { callGatewayMethod, chatCompletion, waitFor } from "./harness/gateway-client.js";
import { ECHO_TOOL_PLUGIN, writePluginFixture } from "./harness/plugin-fixtures.js";
import {
  PROBE_ID,
  probeLogLines,
  probePlugin,
  readProbeRecords,
  readProbeStatus,
  waitForProbeTurns,
} from "./harness/probe.js";

const EMITTER_ID = "e2e-malformed-emitter";
/** Malformed turn events, emitted as trusted events so they reach the kit like the host's own. */
const MALFORMED_EVENTS = [
  '{ type: "run.started" }',
  '{ type: "model.usage", usage: "garbage" }',
  '{ type: "model.call.completed", runId: 42 }',
  '{ type: "run.started", runId: "x".repeat(10000) }',
  '{ type: "harness.run.completed", runId: ["not", "a", "string"] }',
];

describe("foundation: bad config and bad events never take the gateway down", () => {
  let gateway: GatewayHandle;
  let fixturesDir: string;
  let warmUpRunId: string;

  /** The probe's `disabled:` lines in the gateway log, in order. */
  const disabledLines = () => probeLogLines(gateway).filter((line) => line.message.includes(": disabled: "));

  /** Rewrites the probe's config in the gateway's config file (the gateway hot-reloads it). */
  const rewriteProbeConfig = (config: Record<string, unknown>) => {
    // read what is on disk: the gateway may have rewritten the file since it started
    const current = JSON.parse(readFileSync(gateway.configPath, "utf8")) as {
      plugins: { entries: Record<string, { config?: unknown }> };
    };
    const entry = current.plugins.entries[PROBE_ID];
    if (!entry) throw new Error(`no plugins.entries.${PROBE_ID} in ${gateway.configPath}`);
    entry.config = config;
    writeFileSync(gateway.configPath, `${JSON.stringify(current, null, 2)}\n`);
  };

  const healthFile = (): HealthSnapshot =>
    JSON.parse(
      readFileSync(path.join(gateway.pluginStateDir(PROBE_ID), "health.json"), "utf8"),
    ) as HealthSnapshot;

  beforeAll(async () => {
    const tempRoot = path.join(REPO_ROOT, ".e2e-tmp");
    mkdirSync(tempRoot, { recursive: true });
    fixturesDir = mkdtempSync(path.join(tempRoot, "plugins-bad-input-"));
    const emitter = writePluginFixture({
      parentDir: fixturesDir,
      id: EMITTER_ID,
      preamble: 'import { emitTrustedDiagnosticEvent } from "openclaw/plugin-sdk/diagnostic-runtime";',
      registerBody: [
        `    api.registerGatewayMethod("${EMITTER_ID}.emit", ({ respond }) => {`,
        `      const events = [${MALFORMED_EVENTS.join(", ")}];`,
        "      for (const event of events) emitTrustedDiagnosticEvent(event);",
        "      respond(true, { emitted: events.length });",
        "    });",
      ].join("\n"),
    });
    gateway = await startGateway({
      // the manifest schema is annotation-only, so the host boots and the kit validates
      plugins: [probePlugin({ flushIntervalMs: "abc", unknownField: 1 }), ECHO_TOOL_PLUGIN, emitter],
    });
  });

  afterAll(async () => {
    await gateway?.close();
    if (fixturesDir) rmSync(fixturesDir, { recursive: true, force: true });
  });

  it("boots with an invalid probe config and still answers a turn", async () => {
    const warmUp = await chatCompletion(gateway, { sessionKey: "foundation-bad-input", content: "warm up" });
    expect(warmUp.status).toBe(200);
    expect(warmUp.content).toMatch(/^mock reply #\d+$/);
    warmUpRunId = warmUp.id as string;
  });

  it("logs one line naming the bad field, and stays disabled", async () => {
    const lines = disabledLines();
    expect(lines, JSON.stringify(probeLogLines(gateway))).toHaveLength(1);
    const line = lines[0];
    expect(line?.level).toBe("ERROR");
    expect(line?.message).not.toContain("\n");
    // the kit reports the first problem it meets; either bad field is a fair first
    expect(line?.message).toMatch(
      /^clawscope-probe: disabled: config field "(unknownField|flushIntervalMs)" /,
    );
    const reason = line?.message.slice(`${PROBE_ID}: disabled: `.length);

    const status = await readProbeStatus(gateway);
    expect(status.state).toBe("disabled");
    expect(status.disabledReason).toBe(reason);
    expect(healthFile()).toMatchObject({ state: "disabled", disabledReason: reason });
    expect((await readProbeRecords(gateway)).turns).toEqual([]);
  });

  it("names the next bad field after a hot reload, still disabled", async () => {
    rewriteProbeConfig({ flushIntervalMs: "abc" });
    await waitFor(() => disabledLines().length >= 2, 60_000, 200, "the reloaded probe to report its config");
    const lines = disabledLines();
    expect(lines).toHaveLength(2);
    expect(lines[1]?.message).toMatch(/^clawscope-probe: disabled: config field "flushIntervalMs" must be /);
    expect(lines[1]?.message).not.toContain("\n");
    const status = await readProbeStatus(gateway);
    expect(status.state).toBe("disabled");
    expect(status.disabledReason).toContain('"flushIntervalMs"');
  });

  it("starts running after a hot reload to a valid config, and assembles the next turn", async () => {
    rewriteProbeConfig({ settleMs: 300 });
    await waitFor(
      async () => (await readProbeStatus(gateway)).state === "running",
      60_000,
      200,
      "the probe to run after the config was fixed",
    );
    expect(healthFile().state).toBe("running");
    const turn = await chatCompletion(gateway, {
      sessionKey: "foundation-bad-input",
      content: "after reload",
    });
    expect(turn.status).toBe(200);
    const records = await waitForProbeTurns(gateway, [turn.id as string]);
    expect(records.turns.map((entry) => entry.runId)).toEqual([turn.id]);
    expect(records.turns[0]).toMatchObject({ outcome: "success", cost: { source: "provider" } });
    // nothing was recorded while it was disabled
    expect(records.turns.some((entry) => entry.runId === warmUpRunId)).toBe(false);
    expect(disabledLines()).toHaveLength(2);
  });

  it("skips malformed events on the real bus, counts them and warns once", async () => {
    const before = await readProbeStatus(gateway);
    const answer = await callGatewayMethod(gateway, `${EMITTER_ID}.emit`);
    expect(answer).toEqual({ emitted: MALFORMED_EVENTS.length });
    const status = await waitFor(
      async () => {
        const current = await readProbeStatus(gateway);
        return current.events.malformed - before.events.malformed >= MALFORMED_EVENTS.length
          ? current
          : undefined;
      },
      30_000,
      200,
      `status events.malformed to grow by ${MALFORMED_EVENTS.length}`,
    );
    expect(status.state).toBe("running");
    expect(status.events.malformed - before.events.malformed).toBe(MALFORMED_EVENTS.length);
    expect(status.turns.assembled).toBe(before.turns.assembled);
    expect(status.turns.open).toBe(0);

    const warnings = probeLogLines(gateway).filter((line) => line.message.includes("malformed event"));
    expect(warnings, "one rate-limited line for the burst").toHaveLength(1);
    expect(warnings[0]?.level).toBe("WARN");
    // names the event type and the field
    expect(warnings[0]?.message).toMatch(/skipped a malformed event: [\w.]+: "\w+" is /);
    // the probe never threw into the host's bus
    const output = `${gateway.logs().stdout}\n${gateway.logs().stderr}`;
    expect(output).not.toMatch(/\[diagnostic-events\] (trusted )?listener error/);
  });

  it("stays up and assembles a normal turn after the malformed events", async () => {
    expect(gateway.pid).toBeTypeOf("number");
    const health = await fetch(`${gateway.baseUrl}/healthz`);
    expect(health.ok).toBe(true);
    const turn = await chatCompletion(gateway, {
      sessionKey: "foundation-bad-input",
      content: "after garbage",
    });
    expect(turn.status).toBe(200);
    const records = await waitForProbeTurns(gateway, [turn.id as string]);
    const assembled = records.turns.filter((entry) => entry.runId === turn.id);
    expect(assembled).toHaveLength(1);
    expect(assembled[0]).toMatchObject({
      outcome: "success",
      usage: { input: 111, output: 22, total: 133 },
      cost: { usd: 0.000663, source: "provider" },
    });
    expect(assembled[0]?.incomplete).toBeUndefined();
    expect(await gateway.stop()).toBe(0);
  });
});
