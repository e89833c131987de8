/**
 * `pnpm demo`: the real OpenClaw gateway with the clawscope pack on embedded defaults and a local
 * model provider. Drives a plain turn, a tool-call turn and a turn whose provider fails, then prints
 * what the pack saw, how it compares with the gateway's own figures, and where each extension put
 * its data. Everything stays under `.demo/` for you to look at afterwards. Langfuse cannot run here:
 * the in-process Langfuse contract receiver from @clawscope/testing stands in for its server.
 *
 * `--keep-mlflow` leaves the local MLflow running after the demo, until Ctrl+C, to browse its UI.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { formatHealthLine, type HealthSnapshot, type Turn } from "@clawscope/kit";
import type { LangfuseReceiver, MlflowServer } from "@clawscope/testing";
import { type GatewayHandle, startGateway } from "../tests/e2e/harness/gateway.js";
import { callGatewayMethod, chatCompletion, waitFor } from "../tests/e2e/harness/gateway-client.js";
import type { GatewayPluginSpec } from "../tests/e2e/harness/gateway-config.js";
import { waitForSessionUsage } from "../tests/e2e/harness/gateway-usage.js";
import {
  type CollectorHandle,
  ensureCollectorBinary,
  startCollector,
} from "../tests/e2e/harness/otel-collector.js";
import { ECHO_TOOL_PLUGIN } from "../tests/e2e/harness/plugin-fixtures.js";
import {
  describeLangfuse,
  startDemoLangfuse,
  toDemoLangfuseConfig,
  waitForLangfuse,
} from "./langfuse/demo-langfuse.js";
import {
  describeMlflow,
  startDemoMlflow,
  toDemoMlflowConfig,
  waitForMlflowTraces,
} from "./mlflow/demo-mlflow.js";

const root = path.resolve(import.meta.dirname, "..");
const DAY_MS = 86_400_000;
const demoDir = path.join(root, ".demo");
const gatewayDir = path.join(demoDir, "gateway");
const relative = (file: string) => path.relative(process.cwd(), file) || ".";
const keepMlflow = process.argv.includes("--keep-mlflow");

/** Backends the demo runs locally, and how each extension is pointed at them (defaults otherwise). */
interface DemoBackends {
  collector?: CollectorHandle;
  mlflow?: MlflowServer;
  /** In-process: the Langfuse contract receiver, standing in for a Langfuse server. */
  langfuse?: LangfuseReceiver;
}

/** The demo's own config for an extension: its embedded defaults, plus the local backend when one runs. */
function demoConfig(id: string, backends: DemoBackends): Record<string, unknown> {
  if (id === "clawscope-otel" && backends.collector) {
    return { endpoint: backends.collector.endpoint, flushIntervalMs: 500, metricIntervalMs: 2000 };
  }
  if (id === "clawscope-mlflow" && backends.mlflow) return toDemoMlflowConfig(backends.mlflow);
  if (id === "clawscope-langfuse" && backends.langfuse) return toDemoLangfuseConfig(backends.langfuse);
  return {};
}

/**
 * Starts the backends that can run on this machine, side by side: a real OpenTelemetry Collector
 * and a real MLflow tracking server (each installed once, then cached), and for Langfuse, which
 * cannot run here, the in-process contract receiver; each only for an extension that is built.
 */
async function startBackends(): Promise<DemoBackends> {
  const built = (name: string) => existsSync(path.join(root, "extensions", name, "dist", "index.js"));
  const [collector, mlflow, langfuse] = await Promise.all([
    built("otel") ? startDemoCollector() : undefined,
    built("mlflow") ? startMlflowBackend() : undefined,
    built("langfuse") ? startDemoLangfuse() : undefined,
  ]);
  return {
    ...(collector ? { collector } : {}),
    ...(mlflow ? { mlflow } : {}),
    ...(langfuse ? { langfuse } : {}),
  };
}

async function startMlflowBackend(): Promise<MlflowServer | undefined> {
  console.log("  starting a local MLflow (installed on first use: 1–3 minutes, then cached)");
  const mlflow = await startDemoMlflow(path.join(demoDir, "mlflow"));
  if (mlflow) {
    console.log(
      `  MLflow on ${mlflow.trackingUri} (pid ${mlflow.pid}), SQLite store in ${relative(demoDir)}/mlflow`,
    );
  }
  return mlflow;
}

async function startDemoCollector(): Promise<CollectorHandle | undefined> {
  try {
    console.log(
      "  preparing a local OpenTelemetry Collector (the first build takes about 6 minutes, then it is cached)",
    );
    await ensureCollectorBinary();
    const collector = await startCollector({ dir: path.join(demoDir, "collector") });
    console.log(
      `  collector on ${collector.endpoint}, writing ${relative(collector.dir)}/{traces,metrics,logs}.jsonl`,
    );
    return collector;
  } catch (error) {
    console.log(
      `  no collector (${String(error).split("\n")[0]}): clawscope-otel will spool until one answers`,
    );
    return undefined;
  }
}

/** What reached the collector, in one paragraph. */
function describeCollector(collector: CollectorHandle): string[] {
  const spans = collector.readTraces().filter((span) => span.resource?.["service.name"] !== undefined);
  const roots = spans.filter((span) => span.attributes["gen_ai.operation.name"] === "invoke_agent");
  const metrics = [...new Set(collector.readMetrics().map((metric) => metric.name))].sort();
  const logs = collector.readLogs();
  return [
    `traces: ${roots.length} turn(s), ${spans.length} span(s): ${roots.map((root) => `${root.name} [${root.status.code === 2 ? "error" : "ok"}]`).join(", ")}`,
    `metrics: ${metrics.join(", ") || "none yet"}`,
    `logs: ${logs.length} record(s)`,
  ];
}

/** Every built extension in extensions/*, on its embedded defaults, plus the kit's probe. */
function packPlugins(backends: DemoBackends): GatewayPluginSpec[] {
  const extensionsDir = path.join(root, "extensions");
  const plugins: GatewayPluginSpec[] = [];
  for (const name of existsSync(extensionsDir) ? readdirSync(extensionsDir).sort() : []) {
    const dir = path.join(extensionsDir, name);
    if (!existsSync(path.join(dir, "dist", "index.js"))) continue;
    const manifest = JSON.parse(readFileSync(path.join(dir, "openclaw.plugin.json"), "utf8")) as {
      id: string;
    };
    plugins.push({
      dir,
      id: manifest.id,
      config: demoConfig(manifest.id, backends),
      allowConversationAccess: true,
    });
  }
  plugins.push({
    dir: path.join(root, "tests", "e2e", "fixtures", "probe"),
    id: "clawscope-probe",
    config: { settleMs: 500 },
    allowConversationAccess: true,
  });
  return plugins;
}

function describeTurn(turn: Turn): string {
  const cost = turn.cost.usd === null ? `cost unknown` : `$${turn.cost.usd.toFixed(6)} (${turn.cost.source})`;
  const tools = turn.toolCalls.map((tool) => `${tool.toolName}:${tool.outcome}`).join(", ") || "none";
  const failure = turn.error
    ? `; ${turn.error.source}: ${turn.error.category ?? ""} ${turn.error.message ?? ""}`.trimEnd()
    : "";
  const host =
    turn.hostOutcome && turn.hostOutcome !== "completed"
      ? ""
      : turn.outcome === "error"
        ? " (the host said: completed)"
        : "";
  return [
    `${turn.outcome}${host}${failure}`,
    `tokens in ${turn.usage.input} / out ${turn.usage.output} / total ${turn.usage.total}, ${cost}`,
    `${turn.modelCalls.length} model call(s), tools: ${tools}, ${turn.durationMs} ms`,
  ].join("\n      ");
}

async function main(): Promise<void> {
  rmSync(demoDir, { recursive: true, force: true });
  console.log("clawscope demo: the real OpenClaw gateway with the pack, a local model provider, three turns");
  const backends = await startBackends();
  const plugins = [...packPlugins(backends), ECHO_TOOL_PLUGIN];
  const extensionIds = plugins
    .filter((plugin) => plugin.id.startsWith("clawscope-"))
    .map((plugin) => plugin.id);
  console.log(`  plugins: ${extensionIds.join(", ")}`);
  if (!extensionIds.some((id) => id !== "clawscope-probe")) {
    console.log("  (no backend extension is built yet: the kit's probe shows what every extension receives)");
  }
  const bootStarted = Date.now();
  const withMemory = extensionIds.includes("clawscope-memory-consolidation");
  // the memory's scheduled jobs run on a clock just past midnight UTC, so today (with this demo's
  // turns) has ended for them and is consolidated within the demo instead of at 01:00 tomorrow
  const env: Record<string, string> = withMemory
    ? { CLAWSCOPE_CLOCK_OFFSET_MS: String(Math.ceil(Date.now() / DAY_MS) * DAY_MS + 2_000 - Date.now()) }
    : {};
  const gateway = await startGateway({ plugins, rootDir: gatewayDir, env }).catch(async (error: unknown) => {
    // the Collector and MLflow run in processes of their own, the receiver holds a port: stop them first
    await Promise.allSettled([
      backends.collector?.stop(),
      backends.mlflow?.stop(),
      backends.langfuse?.close(),
    ]);
    throw error;
  });
  console.log(
    `  gateway ready in ${((Date.now() - bootStarted) / 1000).toFixed(1)} s on ${gateway.baseUrl} (pid ${gateway.pid})\n`,
  );
  let gatewayTokens: number | undefined;
  try {
    const sessionKey = "demo";
    const turns = [
      { label: "plain turn", content: "Hello from the clawscope demo" },
      { label: "tool-call turn", content: "Please USE_TOOL to echo something" },
      { label: "provider fails (HTTP 400)", content: "This one will FAIL_400 at the provider" },
    ];
    for (const turn of turns) {
      const answer = await chatCompletion(gateway, { sessionKey, content: turn.content });
      console.log(
        `→ ${turn.label}: HTTP ${answer.status}${answer.content ? ` "${answer.content.slice(0, 60)}"` : ""}`,
      );
    }
    // a failed completion answers without an id, so turns are matched by session and order
    const assembled = await waitFor(
      async () => {
        const value = (await callGatewayMethod(gateway, "clawscope-probe.turns")) as { turns: Turn[] };
        const ours = value.turns.filter((turn) => turn.sessionKey === `agent:main:${sessionKey}`);
        return ours.length >= turns.length
          ? ours.sort((left, right) => left.startedAt - right.startedAt)
          : undefined;
      },
      60_000,
      250,
      "the pack to assemble the three turns",
    );
    console.log("\nWhat the pack assembled:");
    assembled.forEach((turn, index) => {
      console.log(`  ${index + 1}. ${turns[index]?.label} (run ${turn.runId})\n      ${describeTurn(turn)}`);
    });
    const packTokens = assembled.reduce((sum, turn) => sum + turn.usage.total, 0);
    const packCost = assembled.reduce((sum, turn) => sum + (turn.cost.usd ?? 0), 0);
    const usage = await waitForSessionUsage(
      gateway,
      sessionKey,
      (value) => value.totalTokens >= packTokens,
      60_000,
    );
    const match = usage.totalTokens === packTokens && Math.abs(usage.totalCost - packCost) < 1e-9;
    console.log(
      `\nThe gateway's own figures (sessions.usage): ${usage.totalTokens} tokens, $${usage.totalCost.toFixed(6)}` +
        ` — the pack: ${packTokens} tokens, $${packCost.toFixed(6)} ${match ? "(equal)" : "(DIFFERENT)"}`,
    );
    gatewayTokens = usage.totalTokens;
    // the extension sends traces in batches: let them land so its health line shows them exported
    if (backends.mlflow) await waitForMlflowTraces(backends.mlflow, turns.length, 30_000);
    const langfuseWait = backends.langfuse
      ? await waitForLangfuse(backends.langfuse, turns.length, 30_000)
      : undefined;

    console.log("\nWhere each extension put its data:");
    for (const id of extensionIds) {
      const health = (await callGatewayMethod(gateway, `${id}.status`)) as HealthSnapshot;
      console.log(`  ${formatHealthLine(health)}`);
      for (const [key, value] of Object.entries(health.details ?? {})) {
        console.log(
          `      ${key}: ${typeof value === "string" && value.startsWith("/") ? relative(value) : JSON.stringify(value)}`,
        );
      }
      console.log(`      state dir: ${relative(gateway.pluginStateDir(id))} (health.json, spool/)`);
    }
    if (backends.collector) {
      // give the last batches and one metric collection time to land
      await new Promise((resolve) => setTimeout(resolve, 3000));
      console.log(`\nWhat the OpenTelemetry Collector received (${relative(backends.collector.dir)}):`);
      for (const line of describeCollector(backends.collector)) console.log(`  ${line}`);
    }
    if (backends.langfuse) {
      console.log(`\nWhat Langfuse received (${backends.langfuse.url}), read the way Langfuse reads it:`);
      const labelled = assembled.map((turn, index) => ({
        label: `${index + 1}. ${turns[index]?.label}`,
        turnId: turn.id,
      }));
      for (const line of describeLangfuse(backends.langfuse, labelled, langfuseWait))
        console.log(`  ${line}`);
    }
    if (withMemory) {
      for (const line of await describeMemory(gateway, turns.length)) console.log(line);
    }
    if (extensionIds.includes("clawscope-knowledge-base"))
      for (const line of await describeKnowledge(gateway)) console.log(line);
    console.log(`\nGateway log: ${relative(gateway.logFile)}`);
    // the CLI knows `clawscope` only from a config that loads the pack: name the demo's
    console.log(
      `Ask the pack any time: OPENCLAW_CONFIG_PATH=${relative(gateway.configPath)} OPENCLAW_STATE_DIR=${relative(gateway.stateDir)} node_modules/.bin/openclaw clawscope status`,
    );
  } finally {
    const code = await gateway.stop();
    await gateway.close();
    await backends.collector?.stop();
    await backends.langfuse?.close();
    console.log(`\nGateway stopped (exit ${code}). Everything above is kept in ${relative(demoDir)}/.`);
    if (backends.mlflow) await finishMlflow(backends.mlflow, gatewayTokens);
  }
}

/**
 * After the gateway stopped (so the run is closed): what MLflow holds, then MLflow is stopped, or
 * with `--keep-mlflow` left running until Ctrl+C.
 */
async function finishMlflow(mlflow: MlflowServer, gatewayTokens: number | undefined): Promise<void> {
  try {
    console.log(`\nWhat MLflow received (${relative(demoDir)}/mlflow):`);
    for (const line of await describeMlflow(mlflow, gatewayTokens ?? Number.NaN)) console.log(`  ${line}`);
  } catch (error) {
    console.log(`  could not read MLflow back: ${String(error).split("\n")[0]}`);
  }
  if (keepMlflow) {
    console.log(`\nMLflow keeps running on ${mlflow.trackingUri} (pid ${mlflow.pid}); Ctrl+C stops it.`);
    // keep a listener for good: a terminal's Ctrl+C reaches this process twice (directly and relayed
    // by tsx), and a second SIGINT without a listener would end it before MLflow is stopped
    await new Promise<void>((resolve) => {
      process.on("SIGINT", () => resolve());
      process.on("SIGTERM", () => resolve());
    });
  }
  await mlflow.stop();
  console.log(
    `MLflow stopped${keepMlflow ? "" : " (browse it again: pnpm demo --keep-mlflow; README images: pnpm demo:screenshots)"}.`,
  );
}

try {
  await main();
  // the harness's clients may keep sockets alive; the demo is done
  process.exit(0);
} catch (error) {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

/**
 * Where the operational memory is and what it holds, then today's consolidation, run now through
 * the gateway's route (the scheduled clock has passed midnight): its summary is printed, and its
 * HTML digest written beside the gateway's folder.
 */
async function describeMemory(gateway: GatewayHandle, turns: number): Promise<string[]> {
  const call = async (route: string, init: RequestInit = {}) =>
    fetch(`${gateway.baseUrl}${route}`, {
      ...init,
      headers: { authorization: `Bearer ${gateway.token}`, "content-type": "application/json" },
    });
  const read = async (route: string) => (await (await call(route)).json()) as Record<string, unknown>;
  type Health = {
    store?: { target?: string };
    collections?: Record<string, number>;
    lastRollup?: { at: string } | null;
    pendingFacts?: number;
  };
  let health: Health = {};
  // the turns' facts are written within a second or two of each turn, and rolled up the minute after
  const started = Date.now();
  while (Date.now() - started < 90_000) {
    health = (await read("/api/persistence/health")) as Health;
    const rolled = (health.collections?.metrics ?? 0) > 0 && health.lastRollup && health.pendingFacts === 0;
    if ((health.collections?.turn_facts ?? 0) >= turns && rolled) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const counts = Object.entries(health.collections ?? {})
    .map(([name, count]) => `${name} ${count}`)
    .join(", ");
  const lines = [
    `\nThe pack's operational memory (${health.store?.target ? relative(health.store.target) : "store"}): ${counts}`,
    "  minute rollups (metrics) every minute, a snapshot (snapshots) on the hour, the previous day's",
    "  consolidation (consolidations) at 01:00 UTC; on a running gateway's port, with its token:",
    "  GET /api/persistence/health, /api/persistence/historical?days=7, /api/consolidation/latest?format=json|markdown|html",
  ];
  const date = new Date().toISOString().slice(0, 10);
  const run = await call("/api/consolidation/run", { method: "POST", body: JSON.stringify({ date }) });
  if (run.status !== 200) {
    lines.push(
      `  today's consolidation could not run: HTTP ${run.status} ${(await run.text()).slice(0, 200)}`,
    );
    return lines;
  }
  const markdown = await (await call(`/api/consolidation/${date}?format=markdown`)).text();
  const html = await (await call(`/api/consolidation/${date}?format=html`)).text();
  const htmlFile = path.join(demoDir, `digest-${date}.html`);
  writeFileSync(htmlFile, html);
  lines.push(
    `\nToday's consolidation (${date}), run now with POST /api/consolidation/run (the memory's clock is past midnight in this demo):`,
    ...digestSummary(markdown).map((line) => `  ${line}`),
    `  the whole digest: GET /api/consolidation/${date}?format=markdown; as HTML: ${relative(htmlFile)}`,
  );
  return lines;
}

/**
 * What the knowledge base made of the failed turn: its issue (recomputed a few seconds after the
 * minute), the first solution it offers, and where to read more; the issue's HTML page is written
 * beside the gateway's folder.
 */
async function describeKnowledge(gateway: GatewayHandle): Promise<string[]> {
  const read = async (route: string) => {
    const response = await fetch(`${gateway.baseUrl}${route}`, {
      headers: { authorization: `Bearer ${gateway.token}` },
    });
    return response.ok ? await response.text() : "";
  };
  type Issue = {
    id: string;
    title: string;
    state: string;
    count: number;
    solutions?: { title: string; steps: string[] }[];
  };
  let issues: Issue[] = [];
  const started = Date.now();
  while (Date.now() - started < 90_000) {
    const body = await read("/api/knowledge/export?format=json");
    issues = body ? ((JSON.parse(body) as { entries?: Issue[] }).entries ?? []) : [];
    if (issues.length > 0) break;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  const lines = ["\nThe knowledge base (recurring failures, fingerprinted into issues):"];
  const [top] = issues;
  if (!top) {
    lines.push("  no issue yet: entries are recomputed a few seconds after each minute");
    return lines;
  }
  lines.push(
    `  ${issues.length} issue${issues.length === 1 ? "" : "s"}; ${top.title} (${top.state}, ${top.count}×)`,
  );
  const fix = top.solutions?.[0];
  if (fix) lines.push(`  what fixes it (${fix.title}): ${fix.steps[0] ?? ""}`);
  const htmlFile = path.join(demoDir, "kb-issue.html");
  writeFileSync(htmlFile, await read(`/api/knowledge/entries/${top.id}?format=html`));
  lines.push(
    "  on the gateway's port, with its token: POST /api/knowledge/query, GET /api/knowledge/summary?format=html,",
    `  /api/knowledge/export?format=markdown; this issue's page: ${relative(htmlFile)}`,
  );
  return lines;
}

/** The digest's opening: its title and summary, up to the first table or chart. */
function digestSummary(markdown: string): string[] {
  const lines: string[] = [];
  for (const line of markdown.split("\n")) {
    if (line.startsWith("|") || lines.length >= 14) break;
    if (line.trim() !== "") lines.push(line);
  }
  return lines;
}
