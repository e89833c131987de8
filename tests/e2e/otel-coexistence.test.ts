/**
 * Issue 3, end to end: a stand-in for the official `diagnostics-otel` registers the GLOBAL tracer and
 * meter providers in the same gateway process, and both it and clawscope-otel keep exporting their
 * own data to one collector: clawscope never touches the globals. In the same gateway, clawscope
 * runs with a head sampling ratio of 0: only the failed turns have traces and logs, while its
 * metrics still count every turn.
 */
import { existsSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayHandle, REPO_ROOT, startGateway } from "./harness/gateway.js";
import { chatCompletion, waitFor } from "./harness/gateway-client.js";
import { type CollectorHandle, ensureCollectorBinary, startCollector } from "./harness/otel-collector.js";
import { OTEL_ID, OTEL_SETUP_TIMEOUT_MS, otelLogLines, otelPlugin } from "./harness/otel-plugin.js";
import {
  clawscopeLogs,
  clawscopePoints,
  clawscopeSpans,
  groupTraces,
  latestPoints,
  OTEL_SCOPE,
  SEVERITY,
  STATUS_CODE,
  toClawscopeTraceId,
  total,
  totalsBy,
} from "./harness/otel-signals.js";
import {
  STANDIN_COUNTER,
  STANDIN_ID,
  STANDIN_SCOPE,
  STANDIN_SERVICE,
  writeOfficialStandin,
} from "./harness/otel-standin.js";
import { readGatewayLog } from "./harness/probe.js";

const SESSION = "otel-coexistence";

describe("otel: coexisting with a global OpenTelemetry provider, and sampling at ratio 0", () => {
  const workDir = path.join(REPO_ROOT, ".e2e-tmp", `otel-coexistence-${Date.now()}`);
  let collector: CollectorHandle;
  let gateway: GatewayHandle;
  const healthyRunIds: string[] = [];
  let warmUpRunId: string;
  let turnsEndedAt = 0;

  /** The stand-in's spans (its resource), in file order. */
  const standinSpans = () =>
    collector.readTraces().filter((span) => span.resource["service.name"] === STANDIN_SERVICE);

  beforeAll(async () => {
    // cached: returns at once (CI builds it in a step of its own); cold: minutes, hence the timeout
    await ensureCollectorBinary();
    mkdirSync(workDir, { recursive: true });
    collector = await startCollector({ dir: path.join(workDir, "collector") });
    gateway = await startGateway({
      plugins: [
        // clawscope first: had it registered globals, the stand-in's registration would be refused
        otelPlugin({
          endpoint: collector.endpoint,
          flushIntervalMs: 200,
          settleMs: 300,
          metricIntervalMs: 1000,
          sampling: { ratio: 0 },
        }),
        writeOfficialStandin({ parentDir: path.join(workDir, "plugins"), endpoint: collector.endpoint }),
      ],
    });
    const warmUp = await chatCompletion(gateway, { sessionKey: `${SESSION}-warm-up`, content: "warm up" });
    expect(warmUp.status).toBe(200);
    warmUpRunId = warmUp.id as string;
  }, OTEL_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await gateway?.close();
    await collector?.stop();
    if (process.env.CLAWSCOPE_E2E_KEEP !== "1" && existsSync(workDir)) rmSync(workDir, { recursive: true });
  });

  it("lets the stand-in own the global providers, with clawscope-otel running beside it", async () => {
    const lines = readGatewayLog(gateway);
    const registered = lines.findIndex((line) =>
      line.message.includes("official-standin: global providers registered"),
    );
    const clawscopeStarted = lines.findIndex((line) => line.message.startsWith(`${OTEL_ID}: started`));
    expect(lines[registered]?.message).toContain("registered: tracer true, meter true");
    expect(clawscopeStarted).toBeGreaterThanOrEqual(0);
    console.info(
      `otel-coexistence: clawscope-otel started ${clawscopeStarted < registered ? "before" : "after"} the stand-in registered the globals`,
    );
    const started = await waitFor(
      () => standinSpans().find((span) => span.name === "standin.started"),
      15_000,
      200,
      "the stand-in's start span at the collector",
    );
    expect(started.attributes).toMatchObject({
      "standin.tracer_registered": true,
      "standin.meter_registered": true,
      "standin.globals_intact": true,
    });
    expect(started.scope.name).toBe(STANDIN_SCOPE);
  });

  it("samples healthy turns out at ratio 0 while keeping every failed turn", async () => {
    for (const content of ["healthy 1", "FAIL_400 one", "healthy 2", "FAIL_400 two", "healthy 3"]) {
      const result = await chatCompletion(gateway, { sessionKey: SESSION, content });
      expect(result.status, content).toBe(content.startsWith("FAIL_400") ? 400 : 200);
      if (result.status === 200) healthyRunIds.push(result.id as string);
    }
    turnsEndedAt = Date.now();
    const turnRoots = () =>
      [...groupTraces(clawscopeSpans(collector.readTraces())).values()].flatMap((trace) =>
        trace.roots.filter((root) => root.attributes["gen_ai.operation.name"] === "invoke_agent"),
      );
    await waitFor(() => turnRoots().length >= 2, 30_000, 200, "the two failed turns' traces");
    // the healthy turns were settled and decided before the failed ones: give a late export a moment
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    const roots = turnRoots();
    expect(roots.map((root) => root.attributes["openclaw.turn.outcome"])).toEqual(["error", "error"]);
    for (const root of roots) {
      expect(root.status.code).toBe(STATUS_CODE.error);
      expect(root.attributes["openclaw.trace_id"]).toMatch(/^[0-9a-f]{32}$/);
    }
    const traceIds = new Set(clawscopeSpans(collector.readTraces()).map((span) => span.traceId));
    for (const runId of [warmUpRunId, ...healthyRunIds])
      expect(traceIds.has(toClawscopeTraceId(runId))).toBe(false);

    const outcomes = clawscopeLogs(collector.readLogs(), "openclaw.turn");
    expect(outcomes.map((log) => [log.severityNumber, log.traceId]).sort()).toEqual(
      roots.map((root) => [SEVERITY.error, root.traceId]).sort(),
    );
    const callErrors = clawscopeLogs(collector.readLogs(), "openclaw.model_call.error");
    expect(callErrors.map((log) => log.traceId).sort()).toEqual(roots.map((root) => root.traceId).sort());
  });

  it("still counts every turn in its metrics", async () => {
    // warm-up + 3 healthy + 2 failed
    const metrics = await waitFor(
      () => {
        const current = collector.readMetrics();
        return total(clawscopePoints(current, "openclaw.run.duration_ms"), "count") >= 6
          ? current
          : undefined;
      },
      15_000,
      200,
      "openclaw.run.duration_ms to count 6 turns",
    );
    expect(
      totalsBy(clawscopePoints(metrics, "openclaw.run.duration_ms"), "openclaw.outcome", "count"),
    ).toEqual({
      success: 4,
      error: 2,
    });
    // 111 prompt / 22 completion tokens per healthy turn (the mock's default usage)
    expect(totalsBy(clawscopePoints(metrics, "openclaw.tokens"), "openclaw.token.type")).toEqual({
      input: 4 * 111,
      output: 4 * 22,
    });
  });

  it("keeps both providers exporting their own data after clawscope-otel started and after the turns", async () => {
    await waitFor(
      () =>
        standinSpans().some(
          (span) => span.name === "standin.heartbeat" && span.startTimeUnixNano > turnsEndedAt * 1e6,
        ),
      15_000,
      200,
      "stand-in heartbeats after the turns",
    );
    const spans = standinSpans();
    const names = spans.map((span) => span.name);
    // one span per model call, made in the hook through the global tracer
    expect(
      spans
        .filter((span) => span.name === "standin.model_call")
        .map((span) => span.attributes["standin.outcome"])
        .sort(),
    ).toEqual(["completed", "completed", "completed", "completed", "error", "error"]);
    expect(names.filter((name) => name === "standin.heartbeat").length).toBeGreaterThan(10);
    // every span, before and after clawscope-otel's exports, found the globals still the stand-in's
    expect(spans.filter((span) => span.attributes["standin.globals_intact"] !== true)).toEqual([]);
    expect(new Set(spans.map((span) => span.scope.name))).toEqual(new Set([STANDIN_SCOPE]));

    await waitFor(
      () =>
        latestPoints(collector.readMetrics(), STANDIN_COUNTER, { serviceName: STANDIN_SERVICE }).length > 0,
      15_000,
      200,
      "the stand-in's counter",
    );
    const counter = latestPoints(collector.readMetrics(), STANDIN_COUNTER, { serviceName: STANDIN_SERVICE });
    expect(totalsBy(counter, "standin.event")["standin.model_call"]).toBe(6);

    // and nothing of one ended up under the other's name
    const clawscope = clawscopeSpans(collector.readTraces());
    expect(clawscope.length).toBeGreaterThan(0);
    expect(new Set(clawscope.map((span) => span.resource["service.name"]))).toEqual(
      new Set(["openclaw-gateway"]),
    );
    const clawscopeMetrics = collector.readMetrics().filter((metric) => metric.scope.name === OTEL_SCOPE);
    expect(new Set(clawscopeMetrics.map((metric) => metric.resource["service.name"]))).toEqual(
      new Set(["openclaw-gateway"]),
    );
    expect(
      collector.readMetrics().some((m) => m.name === STANDIN_COUNTER && m.scope.name === OTEL_SCOPE),
    ).toBe(false);
    expect(gateway.pluginDiagnostics(STANDIN_ID).filter((line) => /error|fail/i.test(line))).toEqual([]);
    const diag = readGatewayLog(gateway).filter((line) => line.message.startsWith("official-standin diag:"));
    expect(diag.map((line) => line.message)).toEqual([]);
    expect(otelLogLines(gateway).filter((line) => line.level === "ERROR")).toEqual([]);
  });
});
