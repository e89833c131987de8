/**
 * The extension in the fake host, fed by the real diagnostic bus, on a real SQLite file, with the
 * scheduler on a manual clock: failures become occurrences, the minute job rolls them into issue
 * entries, same-cause messages fold into one entry and different causes stay apart; a redelivered
 * turn is counted once; an entry goes quiet and regresses on the clock.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createPackPlugin, type SubscribeToBus } from "@clawscope/kit";
import { openStore, type Store } from "@clawscope/store";
import {
  createFakeHost,
  createManualClock,
  FAKE_GATEWAY_TOKEN,
  type FakeHost,
  type ManualClock,
  replayTurnSpec,
  type TurnSpec,
} from "@clawscope/testing";
import { onInternalDiagnosticEvent } from "openclaw/plugin-sdk/diagnostic-runtime";
import { afterEach, describe, expect, it } from "vitest";
import type { AlertRecord } from "./domain/alert.js";
import type { IssueEntry } from "./domain/issue-entry.js";
import type { Occurrence } from "./domain/occurrence.js";
import type { RecordedSolution } from "./knowledge-view.js";
import { createKnowledgeBasePluginSpec } from "./plugin-spec.js";
import { toCollections } from "./store/collections.js";

const START = 1_795_000_000_000;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const hosts: FakeHost[] = [];
const stores: Store[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const host of hosts.splice(0)) await host.cleanup();
});

async function startGateway(
  clock: ManualClock,
  stateDir: string,
  config: Record<string, unknown> = {},
  hostConfig: Record<string, unknown> = {},
): Promise<FakeHost> {
  const entry = () =>
    createPackPlugin(createKnowledgeBasePluginSpec(), {
      subscribe: onInternalDiagnosticEvent as SubscribeToBus,
      clock,
    });
  const host = await createFakeHost(entry, {
    stateDir,
    pluginConfig: {
      flushIntervalMs: 100,
      settleMs: 50,
      gatewayName: "gw-test",
      captureContent: true,
      ...config,
    },
    hostConfig: { agents: { list: [{ id: "main" }] }, ...hostConfig },
  });
  hosts.push(host);
  await host.startServices();
  return host;
}

async function openKnowledgeStore(stateDir: string): Promise<Store> {
  const store = await openStore({
    kind: "sqlite",
    path: path.join(stateDir, "plugins", "clawscope-knowledge-base", "store.sqlite"),
    collections: toCollections(30),
  });
  stores.push(store);
  return store;
}

/** Lets the assembler close the turns, the pipeline write them and the minute job recompute. */
async function settle(clock: ManualClock): Promise<void> {
  await clock.advance(2 * MINUTE_MS);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await clock.advance(MINUTE_MS);
}

const providerFailure = (runId: string, message: string, startTs: number): TurnSpec => ({
  runId,
  startTs,
  sessionKey: `agent:main:${runId}`,
  provider: "openai",
  model: "gpt-4o",
  modelCalls: [{ error: { category: "Error", message } }],
});

describe("clawscope-knowledge-base service", () => {
  it("folds same-cause failures into one entry, keeps causes apart, and counts a redelivered turn once", async () => {
    const clock = createManualClock(START);
    const stateDir = await mkdtemp(path.join(tmpdir(), "clawscope-kb-"));
    const host = await startGateway(clock, stateDir);
    const contextLength = (tokens: number, request: string) =>
      `400 {"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in ${tokens} tokens. Please reduce the length of the messages.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"},"request_id":"${request}"}`;
    await replayTurnSpec(host, providerFailure("r1", contextLength(130512, "req_a1b2c3d4e5f6"), START));
    await replayTurnSpec(
      host,
      providerFailure("r2", contextLength(191004, "req_99ffee77dd66"), START + 1_000),
    );
    await replayTurnSpec(
      host,
      providerFailure(
        "r3",
        "400 Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 3.5 instead.",
        START + 2_000,
      ),
    );
    await replayTurnSpec(host, {
      runId: "r4",
      startTs: START + 3_000,
      sessionKey: "agent:main:r4",
      tools: [{ toolName: "read", error: "ENOENT: no such file or directory, open '/srv/a/notes-1.md'" }],
    });
    await replayTurnSpec(host, {
      runId: "r5",
      startTs: START + 4_000,
      sessionKey: "agent:main:r5",
      tools: [{ toolName: "read", error: "ENOENT: no such file or directory, open '/srv/b/c/notes-2.md'" }],
    });
    await settle(clock);

    const store = await openKnowledgeStore(stateDir);
    const entries = await store.collection<IssueEntry>("knowledge_base").find({});
    const byKind = (kind: string) => entries.filter((entry) => entry.kind === kind);
    expect(byKind("provider_error")).toHaveLength(2);
    const overflow = byKind("provider_error").find((entry) =>
      entry.message.includes("context_length_exceeded"),
    );
    expect(overflow).toMatchObject({
      count: 2,
      firstSeen: expect.any(Number),
      state: "open",
      provider: "openai",
      model: "gpt-4o",
      affected: { agents: [{ name: "main", count: 2 }], models: [{ name: "gpt-4o", count: 2 }] },
    });
    expect(overflow?.affected.gateways.map((gateway) => gateway.count)).toEqual([2]);
    expect(overflow?.message).not.toContain("130512");
    expect(overflow?.examples.map((example) => example.traceId).filter(Boolean)).toHaveLength(2);
    expect(byKind("tool_error")).toEqual([expect.objectContaining({ count: 2, tool: "read" })]);

    // the same turn again (a redelivery after a crash) changes no count
    await replayTurnSpec(host, providerFailure("r1", contextLength(130512, "req_a1b2c3d4e5f6"), START));
    await settle(clock);
    const again = await store.collection<IssueEntry>("knowledge_base").get(overflow?.id ?? "");
    expect(again?.count).toBe(2);
    expect(await store.collection<Occurrence>("kb_occurrences").count()).toBe(5);
  });

  it("marks an entry quiet after quietAfterHours and regressed when it comes back", async () => {
    const clock = createManualClock(START);
    const stateDir = await mkdtemp(path.join(tmpdir(), "clawscope-kb-quiet-"));
    const host = await startGateway(clock, stateDir, { quietAfterHours: 1 });
    const message = (n: number) =>
      `429 Rate limit reached for gpt-4o on requests per min (RPM): Limit 500, Used ${n}, Requested 1.`;
    await replayTurnSpec(host, providerFailure("q1", message(499), START));
    await settle(clock);
    const store = await openKnowledgeStore(stateDir);
    const [entry] = await store.collection<IssueEntry>("knowledge_base").find({});
    expect(entry?.state).toBe("open");

    await clock.advance(2 * HOUR_MS);
    expect((await store.collection<IssueEntry>("knowledge_base").get(entry?.id ?? ""))?.state).toBe("quiet");

    await replayTurnSpec(host, providerFailure("q2", message(512), clock.now()));
    await settle(clock);
    const back = await store.collection<IssueEntry>("knowledge_base").get(entry?.id ?? "");
    expect(back).toMatchObject({ state: "regressed", count: 2, regression: { after: "quiet" } });
  });

  it("learns a candidate solution when an issue goes quiet right after a config change, and only then", async () => {
    const clock = createManualClock(START);
    const stateDir = await mkdtemp(path.join(tmpdir(), "clawscope-kb-learn-"));
    const settings = { quietAfterHours: 1 };
    const before = {
      tools: { loopDetection: { enabled: false } },
      models: { providers: { openai: { apiKey: "sk-old-0123456789abcdef" } } },
    };
    const first = await startGateway(clock, stateDir, settings, before);
    const temperature =
      "400 Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 3.5 instead.";
    const rateLimit = (n: number) =>
      `429 Rate limit reached for gpt-4o on requests per min (RPM): Limit 500, Used ${n}, Requested 1.`;
    await replayTurnSpec(first, providerFailure("l1", temperature, clock.now()));
    await replayTurnSpec(first, providerFailure("l2", rateLimit(501), clock.now()));
    await settle(clock);
    await first.stopServices();

    // the same gateway restarted ten minutes later with a changed config: loop detection on, a new key
    await clock.advance(10 * MINUTE_MS);
    const changedAt = clock.now();
    const second = await startGateway(clock, stateDir, settings, {
      tools: { loopDetection: { enabled: true } },
      models: { providers: { openai: { apiKey: "sk-new-fedcba9876543210" } } },
    });
    // the rate limit goes on well after the change; the temperature error never comes back
    await clock.advance(20 * MINUTE_MS);
    await replayTurnSpec(second, providerFailure("l3", rateLimit(502), clock.now()));
    await settle(clock);
    await clock.advance(2 * HOUR_MS);

    const store = await openKnowledgeStore(stateDir);
    const entries = await store.collection<IssueEntry>("knowledge_base").find({});
    expect(entries.map((entry) => entry.state)).toEqual(["quiet", "quiet"]);
    const solutions = await store.collection<RecordedSolution>("kb_solutions").find({});
    const stopped = entries.find((entry) => entry.message.includes("temperature"));
    expect(solutions).toEqual([
      expect.objectContaining({
        entry: stopped?.id,
        source: "learned",
        evidence: {
          configChangedAt: changedAt,
          gateway: expect.stringMatching(/^gw-test@/),
          keys: ["models.providers.openai", "tools.loopDetection.enabled"],
        },
      }),
    ]);
    expect(solutions[0]?.text).toContain(
      `Stopped after the config change at ${new Date(changedAt).toISOString()}`,
    );
    expect(JSON.stringify(await store.collection("kb_config").find({}))).not.toContain("sk-new");
    // the issue page and the summary show it as a candidate
    const page = await second.callRoute(`/api/knowledge/entries/${stopped?.id}?format=html`);
    expect(page.body).toContain("candidate");
    const summary = (await second.callRoute("/api/knowledge/summary")).json as {
      recentLearnings: Array<{ source: string; entry: string }>;
    };
    expect(summary.recentLearnings).toEqual([
      expect.objectContaining({ source: "learned", entry: stopped?.id }),
    ]);
    await settle(clock);
    const audit = await store.collection<{ id: string; action: string }>("audit_logs").find({});
    expect(audit.map((record) => record.action)).toEqual(
      expect.arrayContaining(["config.change", "kb.entry.status", "kb.solution.learned"]),
    );
  });

  it("records the pack's own export failures and dropped input from the extensions' health, once each", async () => {
    const clock = createManualClock(START);
    const stateDir = await mkdtemp(path.join(tmpdir(), "clawscope-kb-pack-"));
    // another extension of the pack in this process, as the kit's shared registry lists it
    const shared = globalThis as Record<symbol, unknown>;
    const key = Symbol.for("clawscope.runtimes.v1");
    shared[key] ??= new Map();
    const registry = shared[key] as Map<string, unknown>;
    let mlflow = { retried: 0, dropped: 0, deadLettered: 0, authPaused: false };
    let lastError: { message: string; at: number } | undefined;
    registry.set("clawscope-mlflow", {
      pluginId: "clawscope-mlflow",
      health: () => ({
        pluginId: "clawscope-mlflow",
        startedAt: START,
        events: { seen: 0, malformed: 0, ignored: 0, overflowed: 0 },
        turns: { late: 0 },
        export: mlflow,
        ...(lastError ? { lastError } : {}),
      }),
    });
    try {
      await startGateway(clock, stateDir);
      await settle(clock);
      mlflow = { ...mlflow, retried: 4 };
      lastError = {
        message: "MLflow answered HTTP 503 at http://127.0.0.1:5000/api/2.0/mlflow/runs/log-batch",
        at: Date.now(),
      };
      await settle(clock);
      mlflow = { ...mlflow, retried: 6 };
      await settle(clock);
      await settle(clock);
      const store = await openKnowledgeStore(stateDir);
      const entries = await store.collection<IssueEntry>("knowledge_base").find({});
      expect(entries).toEqual([
        expect.objectContaining({
          kind: "export_failure",
          category: "retried",
          tool: "clawscope-mlflow",
          count: 2,
        }),
      ]);
      expect(entries[0]?.message).toBe("MLflow answered HTTP 503 at <url>");
    } finally {
      registry.delete("clawscope-mlflow");
    }
  });

  it("answers queries, summary, exports, issue pages and the agent tool; records solutions and actions", async () => {
    const clock = createManualClock(START);
    const stateDir = await mkdtemp(path.join(tmpdir(), "clawscope-kb-routes-"));
    const host = await startGateway(clock, stateDir, {
      quietAfterHours: 1,
      traceLinks: { langfuse: "https://langfuse.example/project/p1/traces/{traceId}" },
    });
    const rateLimit = (n: number) =>
      `429 {"type":"error","error":{"type":"rate_limit_error","message":"This request would exceed the rate limit for your organization of ${n} input tokens per minute."},"request_id":"req_011C${n}abcdefghij"}`;
    await replayTurnSpec(host, {
      ...providerFailure("a1", rateLimit(40000), START),
      provider: "anthropic",
      model: "claude-sonnet-4-5",
    });
    await replayTurnSpec(host, {
      ...providerFailure("a2", rateLimit(80000), START + 1_000),
      provider: "anthropic",
      model: "claude-sonnet-4-5",
    });
    await replayTurnSpec(host, {
      runId: "t1",
      startTs: START + 2_000,
      sessionKey: "agent:main:t1",
      tools: [{ toolName: "exec", error: "Command timed out after 30000ms" }],
    });
    await settle(clock);

    const post = (body: unknown) =>
      host.callRoute("/api/knowledge/query", {
        method: "POST",
        body: JSON.stringify(body),
        headers: { "content-type": "application/json" },
      });
    const answer = await post({ query: "rate limit exceeded for input tokens" });
    expect(answer.status).toBe(200);
    const results = answer.json as {
      success: boolean;
      results: {
        entries: { id: string; count: number; kind: string }[];
        solutions: { source: string; steps: string[] }[];
      };
      sources: { examples: { links: Record<string, string> }[] }[];
    };
    expect(results.success).toBe(true);
    expect(results.results.entries[0]).toMatchObject({ kind: "provider_error", count: 2 });
    // the runbook names the concrete OpenClaw settings for a rate limit
    expect(
      results.results.solutions.some((solution) =>
        solution.steps.join(" ").includes("agents.defaults.model.fallbacks"),
      ),
    ).toBe(true);
    expect(results.sources[0]?.examples[0]?.links.langfuse).toMatch(
      /^https:\/\/langfuse\.example\/project\/p1\/traces\/[0-9a-f]{32}$/,
    );
    const filtered = (await post({ query: "timed out", filters: { tool: "exec" } })).json as {
      results: { entries: { tool?: string }[] };
    };
    expect(filtered.results.entries).toEqual([expect.objectContaining({ tool: "exec" })]);
    expect((await post({ query: "rate limit", filters: { tool: "nope" } })).json).toMatchObject({
      results: { entries: [] },
    });

    // bad requests: one line, 400
    for (const body of [
      {},
      { query: "" },
      { query: "x".repeat(1_001) },
      { query: "x", filters: { colour: "red" } },
      { query: "x", filters: { status: "burning" } },
    ]) {
      const bad = await post(body);
      expect(bad.status).toBe(400);
      expect((bad.json as { error: string }).error).not.toContain("\n");
    }
    expect(
      (
        await host.callRoute("/api/knowledge/query", {
          method: "POST",
          body: "{not json",
          headers: { "content-type": "application/json" },
        })
      ).status,
    ).toBe(400);
    const oversized = await host.callRoute("/api/knowledge/query", {
      method: "POST",
      body: JSON.stringify({ query: "x", padding: "y".repeat(1024 * 1024) }),
      headers: { "content-type": "application/json" },
    });
    expect(oversized).toMatchObject({ status: 400, json: { error: "request body over 1048576 bytes" } });
    expect((await host.callRoute("/api/knowledge/summary", { anonymous: true })).status).toBe(401);

    // the concept graph is rebuilt every 5 minutes from every gateway's co-occurrence counts
    await clock.advance(6 * MINUTE_MS);
    const graphQuery = (await post({ query: "what goes wrong with claude-sonnet-4-5" })).json as {
      results: { entries: { id: string }[]; concepts: { id: string; neighbours: { id: string }[] }[] };
    };
    expect(graphQuery.results.concepts[0]?.id).toBe("model:claude-sonnet-4-5");
    expect(graphQuery.results.concepts[0]?.neighbours.map((neighbour) => neighbour.id)).toContain(
      `issue:${results.results.entries[0]?.id}`,
    );
    // the issue linked to the model the query names comes first
    expect(graphQuery.results.entries[0]?.id).toBe(results.results.entries[0]?.id);
    const summary = (await host.callRoute("/api/knowledge/summary")).json as {
      stats: { entries: number };
      topIssues: unknown[];
      networkStats: { nodes: number; links: number; density: number; components: number; central: unknown[] };
    };
    expect(summary.networkStats.nodes).toBeGreaterThanOrEqual(8);
    expect(summary.networkStats.links).toBeGreaterThan(0);
    expect(summary.networkStats.central.length).toBeGreaterThan(0);
    const metrics = await host.callRoute("/api/knowledge-metrics");
    expect(metrics.body).toContain('clawscope_kb_issues{clawscope_issue_state="open"} 2');
    expect(metrics.body).toMatch(/^clawscope_kb_new_issues 2$/m);
    expect((await host.callRoute("/api/knowledge-metrics", { anonymous: true })).status).toBe(401);
    expect(await (await openKnowledgeStore(stateDir)).collection("concept_links").count()).toBe(
      summary.networkStats.links,
    );
    expect(summary.stats.entries).toBe(2);
    expect(summary.topIssues).toHaveLength(2);
    const markdown = await host.callRoute("/api/knowledge/export?format=markdown");
    expect(markdown.body).toContain("# Knowledge base runbook");
    expect(markdown.body).toContain("tools.exec.timeoutSeconds");
    expect(
      ((await host.callRoute("/api/knowledge/export")).json as { entries: unknown[] }).entries,
    ).toHaveLength(2);
    expect((await host.callRoute("/api/knowledge/export?format=pdf")).status).toBe(400);

    const rateEntry = results.results.entries[0]?.id ?? "";
    const page = await host.callRoute(`/api/knowledge/entries/${rateEntry}?format=html`);
    expect(page.headers["content-type"]).toContain("text/html");
    expect(page.body).toContain("<svg");
    expect(page.body).not.toMatch(/<script|https?:\/\/(?!langfuse\.example|www\.w3\.org)/);

    // an operator's solution is kept with its author and ranks the entry for its words
    const solved = await host.callRoute(`/api/knowledge/entries/${rateEntry}/solutions`, {
      method: "POST",
      body: JSON.stringify({ text: "Moved the support agent to the batch tier quota", author: "alice" }),
      headers: { "content-type": "application/json" },
    });
    expect(solved.status).toBe(200);
    const bySolution = (await post({ query: "batch tier quota" })).json as {
      results: { entries: { id: string }[]; solutions: { source: string; author?: string }[] };
    };
    expect(bySolution.results.entries[0]?.id).toBe(rateEntry);
    expect(bySolution.results.solutions[0]).toMatchObject({ source: "operator", author: "alice" });

    // the agent tool answers from the same knowledge, bounded
    const toolText = async (params: unknown) =>
      ((await host.callTool("clawscope_kb_query", params)) as { content: { text: string }[] }).content[0]
        ?.text ?? "";
    const toolAnswer = await toolText({ query: "exceed the rate limit for your organization" });
    expect(toolAnswer).toContain("Known issue (open, 2 occurrence(s)");
    expect(toolAnswer).toContain("agents.defaults.model.fallbacks");
    expect(toolAnswer.length).toBeLessThanOrEqual(4_000);
    expect(await toolText({})).toContain("`query` must be a non-empty string");

    // resolve, then it comes back: regressed
    const resolved = await host.callRoute(`/api/knowledge/entries/${rateEntry}/actions`, {
      method: "POST",
      body: JSON.stringify({ action: "resolve", actor: "alice" }),
      headers: { "content-type": "application/json" },
    });
    expect(resolved.status).toBe(200);
    const entries = (await openKnowledgeStore(stateDir)).collection<IssueEntry>("knowledge_base");
    expect((await entries.get(rateEntry))?.state).toBe("resolved");
    await clock.advance(5 * MINUTE_MS);
    await replayTurnSpec(host, {
      ...providerFailure("a3", rateLimit(60000), clock.now()),
      provider: "anthropic",
      model: "claude-sonnet-4-5",
    });
    await settle(clock);
    expect(await entries.get(rateEntry)).toMatchObject({
      state: "regressed",
      count: 3,
      regression: { after: "resolved" },
    });
    const audit = await (await openKnowledgeStore(stateDir))
      .collection<{ id: string; action: string }>("audit_logs")
      .find({});
    expect(audit.map((record) => record.action)).toEqual(
      expect.arrayContaining([
        "config.load",
        "kb.entry.created",
        "kb.solution.add",
        "kb.entry.resolve",
        "kb.entry.status",
      ]),
    );
  });

  it("stores Alertmanager's alerts once, firing then resolved, linked to the issues they are about; 401 without its token", async () => {
    const clock = createManualClock(START);
    const stateDir = await mkdtemp(path.join(tmpdir(), "clawscope-kb-alerts-"));
    const token = "am-webhook-token-0123456789";
    const host = await startGateway(clock, stateDir, { alertWebhook: { token } });
    await replayTurnSpec(
      host,
      providerFailure("al1", "503 That model is currently overloaded with other requests.", START),
    );
    await settle(clock);
    const alert = (status: "firing" | "resolved") => ({
      version: "4",
      groupKey: '{}:{alertname="ClawscopeProviderErrors"}',
      truncatedAlerts: 0,
      status,
      receiver: "clawscope-kb",
      groupLabels: { alertname: "ClawscopeProviderErrors" },
      commonLabels: {},
      commonAnnotations: {},
      externalURL: "http://127.0.0.1:9093",
      alerts: [
        {
          status,
          labels: {
            alertname: "ClawscopeProviderErrors",
            severity: "warning",
            provider: "openai",
            model: "gpt-4o",
          },
          annotations: { summary: "Provider errors above 5% for openai/gpt-4o" },
          startsAt: "2026-12-05T08:00:00.000Z",
          endsAt: status === "resolved" ? "2026-12-05T08:30:00.000Z" : "0001-01-01T00:00:00Z",
          generatorURL: "http://127.0.0.1:9090/graph?g0.expr=x",
          fingerprint: "1a2b3c4d5e6f7a8b",
        },
      ],
    });
    const send = (body: unknown, authorization?: string) =>
      host.callRoute("/webhook/alerts", {
        method: "POST",
        body: typeof body === "string" ? body : JSON.stringify(body),
        headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
        anonymous: true,
      });
    expect((await send(alert("firing"))).status).toBe(401);
    expect((await send(alert("firing"), "Bearer wrong-token-0123456789xx")).status).toBe(401);
    expect((await send(alert("firing"), `Bearer ${FAKE_GATEWAY_TOKEN}`)).status).toBe(401);
    const malformed = await send({ version: "4", alerts: [{ status: "firing" }] }, `Bearer ${token}`);
    expect(malformed.status).toBe(400);
    expect((malformed.json as { error: string }).error).toMatch(/^alerts\[0\]\.labels/);
    expect((await send("{oops", `Bearer ${token}`)).status).toBe(400);
    const oversized = await send(
      { version: "4", alerts: [], padding: "y".repeat(4 * 1024 * 1024) },
      `Bearer ${token}`,
    );
    expect(oversized).toMatchObject({ status: 400, json: { error: "request body over 4194304 bytes" } });
    await settle(clock);
    const alerts = (await openKnowledgeStore(stateDir)).collection<AlertRecord>("alerts");
    expect(await alerts.count()).toBe(0);

    expect((await send(alert("firing"), `Bearer ${token}`)).status).toBe(200);
    expect((await send(alert("firing"), `Bearer ${token}`)).status).toBe(200);
    await settle(clock);
    const [firing, ...others] = await alerts.find({});
    expect(others).toHaveLength(0);
    expect(firing).toMatchObject({
      name: "ClawscopeProviderErrors",
      status: "firing",
      entries: [expect.any(String)],
    });
    const entries = (await openKnowledgeStore(stateDir)).collection<IssueEntry>("knowledge_base");
    expect((await entries.get(firing?.entries[0] ?? ""))?.message).toContain("overloaded");
    // the alert is an issue of its own too, counted once for its firing
    const alertEntries = (await entries.find({})).filter((entry) => entry.kind === "alert");
    expect(alertEntries).toEqual([
      expect.objectContaining({ count: 1, category: "ClawscopeProviderErrors" }),
    ]);

    expect((await send(alert("resolved"), `Bearer ${token}`)).status).toBe(200);
    await settle(clock);
    expect(await alerts.find({})).toEqual([
      expect.objectContaining({ status: "resolved", endsAt: Date.parse("2026-12-05T08:30:00.000Z") }),
    ]);
  });
});
