/**
 * Issue 13, end to end on the real gateway: provider 400s whose messages differ only in ids and
 * numbers, 422s of another cause, a 429 the host retried, a tool that fails in two turns and a tool
 * loop the host detects become exactly the expected issue entries in the knowledge base's embedded
 * SQLite store — same-cause messages folded, different causes apart — with counts, first and last
 * seen, agents and models, and example traces that Langfuse (the contract receiver) and a real MLflow
 * hold, their links leading there. The temperature issue goes quiet (`quietAfterHours` of 144 s) and
 * regresses when it comes back. The query API, the summary, both exports, the HTML page, the CLI and
 * the agent tool (called by the mock model in a real turn) answer from it.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  createLangfuseReceiver,
  findFreePort,
  type LangfuseReceiver,
  type MlflowServer,
} from "@clawscope/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayHandle, REPO_ROOT, startGateway } from "./harness/gateway.js";
import { chatCompletion, runOpenClawCli, waitFor } from "./harness/gateway-client.js";
import { badSchema, badTemperature } from "./harness/kb-failures.js";
import { kbPlugin } from "./harness/kb-plugin.js";
import { langfusePlugin } from "./harness/langfuse-plugin.js";
import { toLangfuseTraceId } from "./harness/langfuse-traces.js";
import { mlflowPlugin } from "./harness/mlflow-plugin.js";
import { createMlflowReader, type MlflowReader, toMlflowTraceId } from "./harness/mlflow-rest.js";
import { startE2eMlflowServer } from "./harness/mlflow-server.js";
import { type MockProvider, startMockProvider } from "./harness/mock-provider.js";
import type { MockStep } from "./harness/mock-reply.js";
import { ECHO_TOOL_PLUGIN, writePluginFixture } from "./harness/plugin-fixtures.js";

const SESSION = "kb-e2e";
const CONTEXT = "SCNKBCTX";
const AUTH = "SCNKBAUTH";
const RATE = "SCNKBRATE";
const FAILING = "SCNKBFAIL";
const LOOP = "SCNKBLOOP";
const ASK = "SCNKBASK";
const LOOP_CALLS = 12;

type Entry = {
  id: string;
  title: string;
  kind: string;
  status?: number;
  model?: string;
  tool?: string;
  message: string;
  state: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
  agents: string[];
  models: string[];
};

describe("clawscope-knowledge-base on the real gateway", () => {
  let gateway: GatewayHandle;
  let provider: MockProvider;
  let langfuse: LangfuseReceiver;
  let mlflowServer: MlflowServer;
  let mlflow: MlflowReader;
  const mlflowDir = path.join(REPO_ROOT, ".e2e-tmp", `kb-turns-mlflow-${Date.now()}`);
  const experiment = `e2e-kb-turns-${Date.now()}`;
  let entries: Entry[];

  const api = async (
    route: string,
    init: { method?: string; body?: unknown; token?: string | null } = {},
  ) => {
    const token = init.token === null ? undefined : (init.token ?? gateway.token);
    const response = await fetch(`${gateway.baseUrl}${route}`, {
      method: init.method ?? (init.body === undefined ? "GET" : "POST"),
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(init.body === undefined
        ? {}
        : { body: typeof init.body === "string" ? init.body : JSON.stringify(init.body) }),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: response.status, text, json, contentType: response.headers.get("content-type") ?? "" };
  };
  const exportedEntries = async () =>
    ((await api("/api/knowledge/export")).json as { entries?: Entry[] } | undefined)?.entries ?? [];
  const send = async (content: string) =>
    (await chatCompletion(gateway, { sessionKey: SESSION, content })).status;

  beforeAll(async () => {
    langfuse = await createLangfuseReceiver();
    // a real MLflow: the example traces' MLflow ids must name traces it holds
    mlflowServer = await startE2eMlflowServer({ dir: mlflowDir, port: await findFreePort() });
    mlflow = createMlflowReader(mlflowServer.trackingUri);
    provider = await startMockProvider();
    provider.script(CONTEXT, [
      badTemperature(3.5),
      badTemperature(7.25),
      badTemperature(12),
      badTemperature(2.01),
    ]);
    provider.script(AUTH, [badSchema(3), badSchema(11)]);
    provider.script(RATE, [
      { kind: "error", status: 429, retryAfter: "1", message: "Rate limit reached for requests" },
      { kind: "text" },
    ]);
    provider.script(FAILING, [
      { kind: "tool", toolName: "fail_tool", arguments: { path: "reports/q3.csv" } },
      { kind: "text" },
      { kind: "tool", toolName: "fail_tool", arguments: { path: "reports/q4.csv" } },
      { kind: "text" },
    ]);
    const echo: MockStep = { kind: "tool" };
    provider.script(LOOP, [...Array.from({ length: LOOP_CALLS }, () => echo), { kind: "text" }]);
    provider.script(ASK, [
      {
        kind: "tool",
        toolName: "clawscope_kb_query",
        arguments: { query: "temperature above maximum value" },
      },
      { kind: "text" },
    ]);
    const fixtures = mkdtempSync(path.join(tmpdir(), "clawscope-kb-fixtures-"));
    const failTool = writePluginFixture({
      parentDir: fixtures,
      id: "e2e-fail-tool",
      tools: ["fail_tool"],
      registerBody: `api.registerTool({
        name: "fail_tool",
        description: "Reads a report; always fails in this test.",
        parameters: { type: "object", properties: { path: { type: "string" } }, required: ["path"], additionalProperties: false },
        async execute(_id, params) {
          throw new Error("ENOENT: no such file or directory, open '/srv/data/" + String(params?.path) + "." + Date.now() + "'");
        },
      });`,
    });
    gateway = await startGateway({
      provider,
      extraConfig: {
        tools: { loopDetection: { enabled: true }, toolSearch: false },
        skills: { workshop: { autonomous: { mode: "off" } } },
      },
      plugins: [
        kbPlugin({
          flushIntervalMs: 200,
          settleMs: 300,
          gatewayName: "e2e-kb",
          // the error text the fingerprints read is kept only with content capture on
          captureContent: true,
          quietAfterHours: 0.04,
          traceLinks: {
            langfuse: `${langfuse.url}/project/e2e/traces/{langfuseTraceId}`,
            // MLflow's REST API for the trace, so the test can follow the link
            mlflow: `${mlflowServer.trackingUri}/api/3.0/mlflow/traces/get?trace_id={mlflowTraceId}`,
          },
        }),
        langfusePlugin(langfuse, { flushIntervalMs: 200 }),
        mlflowPlugin({
          trackingUri: mlflowServer.trackingUri,
          experimentName: experiment,
          gatewayName: "e2e-kb",
          flushIntervalMs: 500,
          settleMs: 300,
        }),
        ECHO_TOOL_PLUGIN,
        failTool,
      ],
    });
    const statuses: number[] = [];
    for (let turn = 0; turn < 3; turn += 1) statuses.push(await send(`please ${CONTEXT} ${turn}`));
    for (let turn = 0; turn < 2; turn += 1) statuses.push(await send(`please ${AUTH} ${turn}`));
    statuses.push(await send(`please ${RATE}`));
    for (let turn = 0; turn < 2; turn += 1) statuses.push(await send(`please ${FAILING} ${turn}`));
    statuses.push(await send(`please ${LOOP}`));
    expect(statuses).toEqual([400, 400, 400, 422, 422, 200, 200, 200, 200]);
    // the entries are recomputed a few seconds after each minute
    entries = await waitFor(
      async () => {
        const found = await exportedEntries();
        const count = (kind: string) =>
          found.filter((entry) => entry.kind === kind).reduce((sum, entry) => sum + entry.count, 0);
        return count("provider_error") >= 6 && count("tool_error") >= 2 && count("tool_loop") >= 1
          ? found
          : undefined;
      },
      180_000,
      1_000,
      "every failure in the knowledge base",
    );
  }, 480_000);

  afterAll(async () => {
    await gateway?.close();
    await provider?.close();
    await langfuse?.close();
    await mlflowServer?.stop();
    if (process.env.CLAWSCOPE_E2E_KEEP !== "1" && existsSync(mlflowDir))
      rmSync(mlflowDir, { recursive: true });
  });

  it("folds same-cause failures into one entry each and keeps the causes apart", () => {
    const byKind = (kind: string) => entries.filter((entry) => entry.kind === kind);
    const providers = byKind("provider_error");
    const context = providers.filter((entry) => entry.message.includes("temperature"));
    const auth = providers.filter((entry) => entry.status === 422);
    const rate = providers.filter((entry) => entry.status === 429);
    expect(context).toHaveLength(1);
    expect(auth).toHaveLength(1);
    expect(rate).toHaveLength(1);
    expect(providers).toHaveLength(3);
    expect(context[0]).toMatchObject({ count: 3, status: 400, agents: ["main"], models: ["mock-model"] });
    // the numbers and the request id are placeholders; the words that carry the cause stay
    expect(context[0]?.message).not.toMatch(/7\.25|req_/);
    expect(context[0]?.message).toContain("Expected a value <= <n>, but got <n> instead");
    expect(auth[0]).toMatchObject({ count: 2 });
    expect(auth[0]?.message).toContain("'minimum' is not permitted");
    // the 429 the host retried is a recurring issue even though the retry got through
    expect(rate[0]?.count).toBeGreaterThanOrEqual(1);
    expect(byKind("tool_error")).toEqual([expect.objectContaining({ tool: "fail_tool", count: 2 })]);
    expect(byKind("tool_error")[0]?.message).toContain("ENOENT: no such file or directory");
    expect(byKind("tool_loop")).toEqual([expect.objectContaining({ tool: "echo_tool" })]);
    expect(entries).toHaveLength(5);
    for (const entry of entries)
      expect(Date.parse(entry.firstSeen)).toBeLessThanOrEqual(Date.parse(entry.lastSeen));
  });

  it("gives example traces that the exporter's backend holds, with links", async () => {
    const context = entries.find((entry) => entry.message.includes("temperature"));
    const detail = (await api(`/api/knowledge/entries/${context?.id}`)).json as {
      examples: { turnId?: string; links: Record<string, string> }[];
    };
    expect(detail.examples.length).toBe(3);
    await waitFor(
      () => {
        const traces = new Set(langfuse.spans.map((span) => span.traceId));
        return detail.examples.every((example) => traces.has(toLangfuseTraceId(example.turnId ?? "")));
      },
      60_000,
      500,
      "the examples' traces at Langfuse",
    );
    for (const example of detail.examples)
      expect(example.links.langfuse).toBe(
        `${langfuse.url}/project/e2e/traces/${toLangfuseTraceId(example.turnId ?? "")}`,
      );
    // the MLflow links lead to the failed turns' traces in the real MLflow
    const experimentId = await waitFor(() => mlflow.experimentId(experiment), 60_000, 500, "the experiment");
    await waitFor(
      async () => {
        const held = new Set((await mlflow.searchTraces(experimentId)).map((trace) => trace.trace_id));
        return detail.examples.every((example) => held.has(toMlflowTraceId(example.turnId ?? "")));
      },
      90_000,
      1_000,
      "the examples' traces in MLflow",
    );
    for (const example of detail.examples) {
      const link = example.links.mlflow ?? "";
      expect(link).toContain(toMlflowTraceId(example.turnId ?? ""));
      const followed = await fetch(link);
      expect(followed.status, link).toBe(200);
      expect(JSON.stringify(await followed.json())).toContain(toMlflowTraceId(example.turnId ?? ""));
    }
  });

  it("answers the query API, summary, exports and HTML page behind gateway auth, and the CLI", async () => {
    const answer = await api("/api/knowledge/query", { body: { query: "temperature above maximum value" } });
    expect(answer.status).toBe(200);
    const top = (answer.json as { results: { entries: Entry[]; solutions: { steps: string[] }[] } }).results;
    expect(top.entries[0]?.message).toContain("temperature");
    expect(top.entries[0]?.count).toBe(3);
    expect((await api("/api/knowledge/query", { body: { query: "x" }, token: null })).status).toBe(401);
    const bad = await api("/api/knowledge/query", { body: { query: "x", filters: { colour: "red" } } });
    expect(bad.status).toBe(400);
    expect((bad.json as { error: string }).error).toBe(
      "unknown filter `colour` (known: since, until, agent, model, tool, status, kind, provider)",
    );
    expect((await api("/api/knowledge/query", { body: "{not json" })).status).toBe(400);
    expect((await api("/api/knowledge/query", { body: { query: "x".repeat(5_000) } })).status).toBe(400);

    const summary = (await api("/api/knowledge/summary")).json as {
      stats: { entries: number };
      networkStats: { nodes: number };
    };
    expect(summary.stats.entries).toBe(5);
    const markdown = await api("/api/knowledge/export?format=markdown");
    expect(markdown.contentType).toContain("text/markdown");
    expect(markdown.text).toContain("# Knowledge base runbook");
    const context = entries.find((entry) => entry.message.includes("temperature"));
    const page = await api(`/api/knowledge/entries/${context?.id}?format=html`);
    expect(page.contentType).toContain("text/html");
    expect(page.text).toContain("<svg");
    const artifacts = path.resolve(import.meta.dirname, "../../.cache/e2e-artifacts");
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(path.join(artifacts, "kb-issue.html"), page.text);
    writeFileSync(
      path.join(artifacts, "kb-summary.html"),
      (await api("/api/knowledge/summary?format=html")).text,
    );

    const said = (result: { exitCode: number | null; stdout: string; stderr: string }) =>
      `exit ${result.exitCode}\n--- stdout ---\n${result.stdout.slice(0, 2000)}\n--- stderr ---\n${result.stderr.slice(-2000)}`;
    const query = await runOpenClawCli(gateway, [
      "clawscope",
      "kb",
      "query",
      "invalid",
      "temperature",
      "--json",
    ]);
    expect(query.exitCode, said(query)).toBe(0);
    expect((query.json as { results: { entries: Entry[] } }).results.entries[0]?.id).toBe(context?.id);
    const solve = await runOpenClawCli(gateway, [
      "clawscope",
      "kb",
      "solve",
      context?.id ?? "",
      "Clamp",
      "temperature",
      "in",
      "the",
      "agent",
      "params",
      "--author",
      "ops",
    ]);
    expect(solve.exitCode, said(solve)).toBe(0);
    const show = await runOpenClawCli(gateway, ["clawscope", "kb", "show", context?.id ?? ""]);
    expect(show.exitCode, said(show)).toBe(0);
    expect(show.stdout).toContain("Clamp temperature in the agent params");
    const unknown = await runOpenClawCli(gateway, ["clawscope", "kb", "frobnicate"]);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain("unknown kb action");
  }, 240_000);

  it("lets the gateway's agent ask the knowledge base through clawscope_kb_query in a real turn", async () => {
    provider.clearRequests();
    expect(await send(`please ${ASK}`)).toBe(200);
    expect(provider.remainingSteps(ASK)).toBe(0);
    const followUp = JSON.stringify(provider.requests.at(-1)?.body ?? "");
    expect(followUp).toContain("Known issue");
    expect(followUp).toContain("temperature");
  }, 120_000);

  it("marks the temperature issue quiet, then regressed when it comes back", async () => {
    const context = entries.find((entry) => entry.message.includes("temperature"));
    await waitFor(
      async () =>
        (await exportedEntries()).find((entry) => entry.id === context?.id && entry.state === "quiet"),
      180_000,
      1_000,
      "the issue quiet",
    );
    expect(await send(`please ${CONTEXT} again`)).toBe(400);
    const back = await waitFor(
      async () =>
        (await exportedEntries()).find((entry) => entry.id === context?.id && entry.state === "regressed"),
      180_000,
      1_000,
      "the issue regressed",
    );
    expect(back.count).toBe(4);
  }, 420_000);
});
