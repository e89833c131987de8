/**
 * The extension in the fake host, fed by the real diagnostic bus, on a real SQLite file, with the
 * scheduler on a manual clock: turns become facts, the minute job rolls them up, and the rollups
 * equal the gateway's own figures — also after a restart with facts written twice.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createPackPlugin, readPackGauges, type SubscribeToBus } from "@clawscope/kit";
import { openStore, type Store } from "@clawscope/store";
import {
  type BuiltTurn,
  createFakeHost,
  createManualClock,
  type FakeHost,
  type ManualClock,
  replayTurnSpec,
  type TurnSpec,
  waitFor,
} from "@clawscope/testing";
import {
  emitDiagnosticEvent,
  emitTrustedDiagnosticEvent,
  onInternalDiagnosticEvent,
  waitForDiagnosticEventsDrained,
} from "openclaw/plugin-sdk/diagnostic-runtime";
import { afterEach, describe, expect, it } from "vitest";
import type { Consolidation } from "./domain/consolidation.js";
import type { HourSnapshot } from "./domain/hour-snapshot.js";
import { latencyCount } from "./domain/latency-histogram.js";
import type { MinuteRollup } from "./domain/minute-rollup.js";
import { makeRollup } from "./domain/rollup-fixture.js";
import { createToolWindow, foldToolActivity, type ToolActivity } from "./domain/tool-activity.js";
import type { TurnFact } from "./domain/turn-fact.js";
import { createMemoryPluginSpec } from "./plugin-spec.js";
import { COLLECTIONS } from "./store/collections.js";

const START = 1_795_000_000_000;
const hosts: FakeHost[] = [];
const stores: Store[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const host of hosts.splice(0)) await host.cleanup();
});

async function startGateway(
  clock: ManualClock,
  stateDir?: string,
  config: Record<string, unknown> = {},
): Promise<FakeHost> {
  const entry = () =>
    createPackPlugin(createMemoryPluginSpec(), {
      subscribe: onInternalDiagnosticEvent as SubscribeToBus,
      clock,
    });
  const host = await createFakeHost(entry, {
    ...(stateDir ? { stateDir } : {}),
    pluginConfig: { flushIntervalMs: 100, settleMs: 50, gatewayName: "gw-test", ...config },
    hostConfig: { agents: { list: [{ id: "main" }] } },
  });
  hosts.push(host);
  await host.startServices();
  return host;
}

const storeFileIn = (stateDir: string) =>
  path.join(stateDir, "plugins", "clawscope-memory-consolidation", "store.sqlite");

/** Opens the extension's SQLite file from the test (closed after the test). */
async function openStoreFile(file: string): Promise<Store> {
  const store = await openStore({ kind: "sqlite", path: file, collections: COLLECTIONS });
  stores.push(store);
  return store;
}

/** Writes records into a store file before a gateway opens it. */
async function seedStore(file: string, fill: (store: Store) => Promise<unknown>): Promise<void> {
  const store = await openStore({ kind: "sqlite", path: file, collections: COLLECTIONS });
  try {
    await fill(store);
  } finally {
    await store.close();
  }
}

/** A fresh gateway state dir whose plugin folder exists, and the path its store file will have. */
async function newStateDir(label: string): Promise<{ stateDir: string; storeFile: string }> {
  const stateDir = await mkdtemp(path.join(tmpdir(), `clawscope-memory-${label}-`));
  const storeFile = storeFileIn(stateDir);
  await mkdir(path.dirname(storeFile), { recursive: true });
  return { stateDir, storeFile };
}

async function openSameStore(host: FakeHost): Promise<Store> {
  const store = await openStoreFile(storeFileIn(host.stateDir));
  return store;
}

const health = async (host: FakeHost) =>
  (await host.callRoute("/api/persistence/health")).json as {
    store: { kind: string; reachable: boolean };
    collections: Record<string, number>;
    lastRollup: { at: string; minutes: number } | null;
    lastSnapshot: { hour: string; takenAt: string } | null;
    pendingFacts: number;
  };

function sum(rollups: readonly MinuteRollup[], field: keyof MinuteRollup): number {
  return rollups.reduce((total, rollup) => total + (rollup[field] as number), 0);
}

const TURNS: TurnSpec[] = [
  {
    runId: "mc-plain",
    startTs: START + 1_000,
    modelCalls: [{ usage: { input: 100, output: 20, cacheRead: 30 } }],
  },
  {
    runId: "mc-tool",
    startTs: START + 2_000,
    modelCalls: [{ usage: { input: 200, output: 40, cacheWrite: 12 } }, { usage: { input: 50, output: 5 } }],
    tools: [{ toolName: "web_search" }, { toolName: "exec", error: "exit 1", afterCall: 1 }],
  },
  {
    runId: "mc-other-model",
    startTs: START + 61_000,
    model: "other-model",
    modelCalls: [{ usage: { input: 300, output: 60 }, costUsd: 0.125 }],
  },
  {
    runId: "mc-unpriced",
    startTs: START + 62_000,
    modelCalls: [{ usage: { input: 10, output: 1 }, costUsd: null }],
  },
  {
    runId: "mc-failed",
    startTs: START + 63_000,
    modelCalls: [{ error: { category: "provider", failureKind: "http_400", message: "400 bad request" } }],
  },
];

describe("clawscope-memory-consolidation", () => {
  it("rolls turns up by minute with the gateway's own tokens and cost, cost provenance apart, and latency as a histogram", async () => {
    const clock = createManualClock(Date.now());
    const host = await startGateway(clock);
    const built: BuiltTurn[] = [];
    for (const spec of TURNS) built.push(await replayTurnSpec(host, spec));
    await waitFor(async () => (await health(host)).collections?.turn_facts === TURNS.length, 10_000);
    await waitFor(async () => (await health(host)).pendingFacts === 0, 10_000);

    await clock.advance(3 * 60_000);
    await waitFor(async () => (await health(host)).lastRollup !== null, 10_000);

    const store = await openSameStore(host);
    const rollups = await store
      .collection<MinuteRollup>("metrics")
      .find({ from: 0, to: Number.MAX_SAFE_INTEGER });
    const totals = built.reduce(
      (all, turn) => ({
        input: all.input + turn.totals.input,
        output: all.output + turn.totals.output,
        cacheRead: all.cacheRead + turn.totals.cacheRead,
        cacheWrite: all.cacheWrite + turn.totals.cacheWrite,
      }),
      { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
    );
    expect(sum(rollups, "turns")).toBe(TURNS.length);
    expect(sum(rollups, "inputTokens")).toBe(totals.input);
    expect(sum(rollups, "outputTokens")).toBe(totals.output);
    expect(sum(rollups, "cacheReadTokens")).toBe(totals.cacheRead);
    expect(sum(rollups, "cacheWriteTokens")).toBe(totals.cacheWrite);
    expect(sum(rollups, "toolCalls")).toBe(2);
    expect(sum(rollups, "toolFailures")).toBe(1);
    expect(sum(rollups, "costUnknownTurns")).toBeGreaterThanOrEqual(1);
    // the facts hold each turn's cost as the assembler priced it; the rollups add exactly those up
    const facts = await store
      .collection<TurnFact>("turn_facts")
      .find({ from: 0, to: Number.MAX_SAFE_INTEGER });
    const factCost = facts.reduce((total, fact) => total + fact.costProviderUsd + fact.costEstimatedUsd, 0);
    expect(sum(rollups, "costProviderUsd") + sum(rollups, "costEstimatedUsd")).toBeCloseTo(factCost, 12);
    const other = rollups.find((rollup) => rollup.model === "other-model" && rollup.turns > 0);
    expect(other?.costProviderUsd ?? other?.costEstimatedUsd).toBeCloseTo(0.125, 12);
    // minutes of the turns' ends (the assembler's time, when it heard the end), one gateway, and one
    // latency observation per turn
    for (const rollup of rollups) expect(rollup.ts % 60_000).toBe(0);
    expect(new Set(facts.map((fact) => fact.ts))).toEqual(new Set(rollups.map((rollup) => rollup.ts)));
    expect(new Set(rollups.map((rollup) => rollup.gateway)).size).toBe(1);
    expect(rollups[0]?.gateway).toMatch(/^gw-test/);
    expect(rollups.reduce((total, rollup) => total + latencyCount(rollup.latency.counts), 0)).toBe(
      TURNS.length,
    );
    expect(rollups.find((rollup) => rollup.outcome === "error" && rollup.turns > 0)?.failedModelCalls).toBe(
      1,
    );
    // beside them, each minute's tools and error categories
    const window = createToolWindow();
    for (const activity of await store.collection<ToolActivity>("tool_rollups").find({ from: 0 }))
      foldToolActivity(window, activity);
    expect(Object.keys(window.tools).sort()).toEqual(["exec", "web_search"]);
    expect(window.tools.exec).toMatchObject({ calls: 1, failures: 1 });
    // the failed model call's category, and the failed tool's as the host named it
    expect(window.errors).toEqual({ provider: 1, "tool:Error": 1 });
  });

  it("counts a fact written twice once, and rolls up at the next start what a crash left unrolled", async () => {
    const clock = createManualClock(Date.now());
    const first = await startGateway(clock);
    for (const spec of TURNS.slice(0, 2)) await replayTurnSpec(first, spec);
    await waitFor(async () => (await health(first)).collections?.turn_facts === 2, 10_000);
    // stopped before any rollup ran: as after a crash right after the facts were written
    await first.stopServices();

    // a batch re-sent after the crash: the same facts again
    const direct = await openSameStore(first);
    const facts = await direct
      .collection<TurnFact>("turn_facts")
      .find({ from: 0, to: Number.MAX_SAFE_INTEGER });
    await direct.collection<TurnFact>("turn_facts").upsert(facts);
    expect(await direct.collection("metrics").count()).toBe(0);

    const second = await startGateway(clock, first.stateDir);
    await clock.advance(60_000);
    await waitFor(async () => (await health(second)).lastRollup !== null, 10_000);
    const rollups = await direct
      .collection<MinuteRollup>("metrics")
      .find({ from: 0, to: Number.MAX_SAFE_INTEGER });
    expect(sum(rollups, "turns")).toBe(2);
    expect(sum(rollups, "inputTokens")).toBe(100 + 200 + 50);
  });

  it("takes one snapshot per hour with the hour's figures, percentiles and activity, also across a restart", async () => {
    const clock = createManualClock(Date.now());
    const first = await startGateway(clock);
    for (const spec of TURNS.slice(0, 3)) await replayTurnSpec(first, spec);
    emitDiagnosticEvent({
      type: "session.state",
      sessionKey: "agent:main:s1",
      state: "processing",
      queueDepth: 3,
    } as never);
    emitDiagnosticEvent({ type: "queue.lane.dequeue", lane: "main", queueSize: 0, waitMs: 40 } as never);
    emitDiagnosticEvent({ type: "queue.lane.dequeue", lane: "main", queueSize: 0, waitMs: 10 } as never);
    emitTrustedDiagnosticEvent({
      type: "tool.loop",
      toolName: "web_search",
      count: 4,
      level: "warning",
    } as never);
    emitDiagnosticEvent({
      type: "session.stuck",
      sessionKey: "agent:main:s2",
      state: "processing",
      ageMs: 200_000,
    } as never);
    await waitForDiagnosticEventsDrained();
    await waitFor(async () => (await health(first)).collections?.turn_facts === 3, 10_000);

    const store = await openSameStore(first);
    const facts = await store
      .collection<TurnFact>("turn_facts")
      .find({ from: 0, to: Number.MAX_SAFE_INTEGER });
    const hour = Math.floor((facts[0]?.ts ?? 0) / 3_600_000) * 3_600_000;
    await clock.advance(hour + 3_600_000 + 10_000 - clock.now());
    const snapshots = store.collection<HourSnapshot>("snapshots");
    await waitFor(async () => (await snapshots.count()) === 1, 10_000);
    const snapshot = await snapshots.get(`${facts[0]?.gateway}:${hour}`);
    expect(snapshot?.totals.turns).toBe(3);
    expect(snapshot?.totals.inputTokens).toBe(facts.reduce((total, fact) => total + fact.inputTokens, 0));
    expect(snapshot?.by.model["other-model"]?.turns).toBe(1);
    expect(snapshot?.latency.count).toBe(3);
    expect(snapshot?.latency.p95Ms).toBeGreaterThanOrEqual(snapshot?.latency.p50Ms ?? 0);
    expect(snapshot?.activity).toMatchObject({
      sessions: { active: 1, stuck: 1 },
      queue: { maxDepth: 3, waits: 2, totalWaitMs: 50, maxWaitMs: 40 },
      toolLoops: 1,
    });
    expect(snapshot?.pack["clawscope-memory-consolidation"]?.state).toBe("running");
    expect(snapshot?.process.rssBytes).toBeGreaterThan(0);
    expect(snapshot?.versions["clawscope-memory-consolidation"]).toMatch(/^\d+\.\d+\.\d+/);
    expect(snapshot?.configHash).toMatch(/^[0-9a-f]{16}$/);

    // a restart inside the next hour: that hour gets its own snapshot, the first is not written twice
    await first.stopServices();
    const second = await startGateway(clock, first.stateDir);
    await clock.advance(3_600_000);
    await waitFor(async () => (await snapshots.count()) === 2, 10_000);
    const all = await snapshots.find({ from: 0, to: Number.MAX_SAFE_INTEGER });
    expect((await health(second)).lastSnapshot?.hour).toBe(new Date(hour + 3_600_000).toISOString());
    expect(all.map((each) => each.ts)).toEqual([hour, hour + 3_600_000]);
    expect(all[1]?.totals.turns).toBe(0);
    await second.stopServices();
  });

  it("keeps facts in the spool while the store cannot be opened, and rolls them up once it can", async () => {
    const clock = createManualClock(Date.now());
    const dir = await mkdtemp(path.join(tmpdir(), "clawscope-memory-down-"));
    // the store's folder is a file: nothing can be created there until it is removed
    const blocker = path.join(dir, "blocked");
    await writeFile(blocker, "not a folder");
    const host = await startGateway(clock, undefined, {
      store: { path: path.join(blocker, "store.sqlite") },
    });
    try {
      for (const spec of TURNS.slice(0, 2)) await replayTurnSpec(host, spec);
      await waitFor(async () => {
        const answer = await health(host);
        return answer.store.reachable === false && answer.pendingFacts === 2;
      }, 10_000);
      expect(host.logs.messages().some((line) => line.includes(blocker))).toBe(true);

      await rm(blocker);
      // the store is tried again at most every 5 s of its clock
      await clock.advance(10_000);
      await waitFor(async () => (await health(host)).collections?.turn_facts === 2, 20_000);
      await clock.advance(60_000);
      await waitFor(async () => (await health(host)).lastRollup !== null, 10_000);
      const store = await openStoreFile(path.join(blocker, "store.sqlite"));
      const rollups = await store
        .collection<MinuteRollup>("metrics")
        .find({ from: 0, to: Number.MAX_SAFE_INTEGER });
      expect(sum(rollups, "turns")).toBe(2);
      expect(sum(rollups, "inputTokens")).toBe(100 + 200 + 50);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("moves a corrupt store file aside, says where, and keeps counting turns in a new one", async () => {
    const clock = createManualClock(Date.now());
    const { stateDir, storeFile } = await newStateDir("corrupt");
    await writeFile(storeFile, "this is not a SQLite database ".repeat(200));
    const host = await startGateway(clock, stateDir);
    await replayTurnSpec(host, TURNS[0] as TurnSpec);
    await waitFor(async () => (await health(host)).collections?.turn_facts === 1, 10_000);
    const answer = (await host.callRoute("/api/persistence/health")).json as {
      store: { movedAside?: string };
    };
    expect(answer.store.movedAside).toMatch(/store\.sqlite/);
    expect(host.logs.messages().some((line) => line.includes(answer.store.movedAside ?? "?"))).toBe(true);
    await clock.advance(60_000);
    await waitFor(async () => (await health(host)).lastRollup !== null, 10_000);
  });

  it("consolidates missed days at start and yesterday at 01:00, naming a planted cost spike and its model; a rerun replaces", async () => {
    const HOUR = 3_600_000;
    const today = Math.floor(Date.now() / 86_400_000) * 86_400_000;
    const { stateDir, storeFile } = await newStateDir("days");
    // nine days of steady rollups, written as a gateway of the fleet did, with a spike yesterday at 14:00
    const records: MinuteRollup[] = [];
    const rollupOf = (ts: number, model: string, turns: number, cost: number) => [
      makeRollup("gw-seed@0000", ts, model, { turns, costUsd: cost }),
    ];
    for (let day = 1; day <= 9; day += 1)
      for (let hour = 0; hour < 24; hour += 1)
        records.push(
          ...rollupOf(
            today - day * 86_400_000 + hour * HOUR,
            "gpt-small",
            10,
            0.1 + ((hour + day) % 3) / 1000,
          ),
        );
    records.push(...rollupOf(today - 86_400_000 + 14 * HOUR + 60_000, "gpt-big", 5, 4));
    await seedStore(storeFile, (store) => store.collection<MinuteRollup>("metrics").upsert(records));

    const clock = createManualClock(today + 30 * 60_000);
    const host = await startGateway(clock, stateDir, { consolidation: { dailyBudgetUsd: 3 } });
    const fleet = async (date: string) =>
      (await host.callRoute(`/api/consolidation/${date}`)).json as Consolidation & { error?: string };
    const dateOf = (time: number) => new Date(time).toISOString().slice(0, 10);
    const yesterday = dateOf(today - 86_400_000);

    // within a minute of start: the seven due days before yesterday (yesterday is due at 01:00)
    await clock.advance(60_000);
    await waitFor(async () => (await fleet(dateOf(today - 2 * 86_400_000))).date !== undefined, 10_000);
    expect((await host.callRoute(`/api/consolidation/${yesterday}`)).status).toBe(404);
    const older = await fleet(dateOf(today - 2 * 86_400_000));
    expect(older.totals.turns).toBe(240);
    expect(older.anomalies).toEqual([]);

    await clock.advance(31 * 60_000);
    await waitFor(
      async () => (await host.callRoute(`/api/consolidation/${yesterday}`)).status === 200,
      10_000,
    );
    const record = await fleet(yesterday);
    expect(record.totals.turns).toBe(245);
    expect(record.totals.costUsd).toBeCloseTo(
      records
        .filter((each) => each.ts >= today - 86_400_000)
        .reduce((sum, each) => sum + each.costProviderUsd, 0),
      9,
    );
    const spike = record.anomalies.find((anomaly) => anomaly.kind === "cost");
    expect(spike?.hour).toBe(new Date(today - 86_400_000 + 14 * HOUR).toISOString());
    expect(spike?.driver).toMatchObject({ dimension: "model", value: "gpt-big" });
    expect(record.budget.overDaily).toBe(true);
    expect(record.newValues.model).toEqual(["gpt-big"]);
    const perGateway = (await host.callRoute(`/api/consolidation/${yesterday}?scope=gw-seed@0000`))
      .json as Consolidation;
    expect(perGateway.totals.turns).toBe(245);

    const markdown = await host.callRoute("/api/consolidation/latest?format=markdown");
    expect(markdown.status).toBe(200);
    expect(markdown.body).toContain("gpt-big");
    expect(markdown.body).toContain("OVER BUDGET");

    const html = await host.callRoute(`/api/consolidation/${yesterday}?format=html`);
    expect(html.headers["content-type"], html.body.slice(0, 300)).toMatch(/text\/html/);
    expect(html.body.match(/<svg /g)?.length).toBe(3);
    expect(html.body).toContain("gpt-big");
    // self-contained: no script, and nothing fetched from anywhere
    expect(html.body).not.toMatch(/<script|<link|<img|src=|url\(/i);

    // the figures Prometheus alerts on: on the memory's own endpoint, and published for clawscope-otel
    const metrics = await host.callRoute("/api/persistence/metrics");
    expect(metrics.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(metrics.body).toMatch(/^clawscope_memory_over_budget\{clawscope_budget_period="daily"\} 1$/m);
    expect(metrics.body).toMatch(/^clawscope_memory_anomalies\{clawscope_anomaly_kind="cost"\} 1$/m);
    expect(metrics.body).toMatch(/^clawscope_memory_anomalies\{clawscope_anomaly_kind="error_rate"\} 0$/m);
    expect(metrics.body).toMatch(/^clawscope_memory_budget_limit\{clawscope_budget_period="daily"\} 3$/m);
    expect(metrics.body).toMatch(
      new RegExp(
        `^clawscope_memory_spend\\{clawscope_spend_window="day"\\} ${record.budget.dayCostUsd}$`,
        "m",
      ),
    );
    expect(metrics.body).toMatch(/^clawscope_memory_last_consolidation_time \d{10}$/m);
    expect(
      readPackGauges().filter((reading) => reading.name === "clawscope.memory.over_budget"),
    ).toHaveLength(3);
    expect((await host.callRoute("/api/persistence/metrics", { anonymous: true })).status).toBe(401);

    const history = (await host.callRoute("/api/persistence/historical?days=3")).json as {
      history: { date: string; turns: number; costUsd: number; consolidated: boolean }[];
    };
    expect(history.history.map((day) => day.date)).toEqual([
      dateOf(today - 2 * 86_400_000),
      yesterday,
      dateOf(today),
    ]);
    expect(history.history[1]).toMatchObject({ turns: 245, consolidated: true });
    expect(history.history[1]?.costUsd).toBeCloseTo(record.totals.costUsd, 9);
    expect((await host.callRoute("/api/persistence/historical?days=0")).status).toBe(400);
    const exported = (await host.callRoute("/api/persistence/export")).json as {
      store: { kind: string; fileBytes: number };
      collections: Record<string, { records: number }>;
    };
    expect(exported.store.fileBytes).toBeGreaterThan(0);
    expect(exported.collections.metrics?.records).toBe(records.length);

    // run again: replaced, not duplicated
    const rerun = await host.callRoute("/api/consolidation/run", {
      method: "POST",
      body: JSON.stringify({ date: yesterday }),
    });
    expect(rerun.status).toBe(200);
    const direct = await openSameStore(host);
    expect(await direct.collection("consolidations").count({ where: { scope: "fleet" } })).toBe(8);

    // every consolidation and the config load are in the audit log, with who did them
    await waitFor(async () => (await direct.collection("audit_logs").count()) >= 10, 10_000);
    const audit = await direct
      .collection<{ id: string; actor: string; action: string; outcome: string; detail: { date?: string } }>(
        "audit_logs",
      )
      .find({ from: 0, to: Number.MAX_SAFE_INTEGER, sort: { field: "ts" } });
    expect(audit.filter((entry) => entry.action === "config.load")).toHaveLength(1);
    const runs = audit.filter((entry) => entry.action === "consolidate");
    expect(runs.filter((entry) => entry.actor === "start")).toHaveLength(7);
    expect(runs.find((entry) => entry.actor === "schedule")?.detail.date).toBe(yesterday);
    expect(runs.find((entry) => entry.actor === "api")).toMatchObject({
      outcome: "ok",
      detail: { date: yesterday },
    });

    // bad requests: one line naming the parameter
    const badDate = await host.callRoute("/api/consolidation/2026-13-45");
    expect(badDate.status).toBe(400);
    expect((await host.callRoute("/api/consolidation/latest?format=pdf")).json).toEqual({
      error: 'parameter "format" must be json, markdown or html, not "pdf"',
    });
    const future = await host.callRoute("/api/consolidation/run", {
      method: "POST",
      body: JSON.stringify({ date: dateOf(today) }),
    });
    expect(future.status).toBe(400);
    expect((await host.callRoute("/api/consolidation/latest", { anonymous: true })).status).toBe(401);
  });

  it("takes over a day whose consolidating gateway died holding its lease, once the lease expires", async () => {
    const DAY = 86_400_000;
    const today = Math.floor(Date.now() / DAY) * DAY;
    const yesterday = new Date(today - DAY).toISOString().slice(0, 10);
    const { stateDir, storeFile } = await newStateDir("takeover");
    // the gateway that took yesterday at 01:00 was killed before it wrote anything: its lease runs to 01:01:30
    const seeded = await openStore({
      kind: "sqlite",
      path: storeFile,
      collections: COLLECTIONS,
      now: () => today + 3_600_000,
    });
    await seeded
      .collection<MinuteRollup>("metrics")
      .upsert([makeRollup("gw-dead@0000", today - DAY + 3_600_000, "gpt-small", { turns: 7, costUsd: 0.5 })]);
    expect((await seeded.acquireLease(`consolidation:${yesterday}`, "gw-dead@0000", 90_000)).acquired).toBe(
      true,
    );
    await seeded.close();
    const clock = createManualClock(today + 3_600_000 + 30_000);
    const host = await startGateway(clock, stateDir, { consolidation: { leaseSeconds: 90 } });
    await clock.advance(60_000);
    await waitFor(
      () => host.logs.messages("info").some((line) => line.includes("gw-dead@0000 is on it")),
      10_000,
    );
    expect((await host.callRoute(`/api/consolidation/${yesterday}`)).status).toBe(404);

    // the lease expires at 01:01:30; the next minute's job takes the day over
    await clock.advance(60_000);
    await waitFor(
      async () => (await host.callRoute(`/api/consolidation/${yesterday}`)).status === 200,
      10_000,
    );
    const record = (await host.callRoute(`/api/consolidation/${yesterday}`)).json as Consolidation;
    expect(record.totals.turns).toBe(7);
    expect(record.consolidatedBy).toMatch(/^gw-test@/);
    const direct = await openSameStore(host);
    await waitFor(async () => (await direct.collection("audit_logs").count()) >= 2, 10_000);
    const audit = await direct
      .collection<{ id: string; actor: string; action: string }>("audit_logs")
      .find({ from: 0 });
    expect(audit.filter((entry) => entry.action === "consolidate").map((entry) => entry.actor)).toEqual([
      "takeover",
    ]);
  });

  it("applies each collection's retention on the hour: records past their limit go, the rest stay", async () => {
    const DAY = 86_400_000;
    const now = Date.now();
    const { stateDir, storeFile } = await newStateDir("retention");
    const minute = (time: number) => Math.floor(time / 60_000) * 60_000;
    const rollup = (age: number) =>
      makeRollup("gw-old@0000", minute(now - age), "gpt-small", { turns: 1, costUsd: 0.01 });
    await seedStore(storeFile, async (store) => {
      await store.collection<MinuteRollup>("metrics").upsert([rollup(91 * DAY), rollup(89 * DAY)]);
      await store.collection("snapshots").upsert([
        { id: "old", ts: now - 31 * DAY },
        { id: "kept", ts: now - 29 * DAY },
      ]);
      await store.collection("turn_facts").upsert([
        { id: "old-fact", ts: now - 4 * DAY, gateway: "gw-old@0000" },
        { id: "kept-fact", ts: now - 2 * DAY, gateway: "gw-old@0000" },
      ]);
      await store
        .collection("consolidations")
        .upsert([{ id: "fleet:old", ts: now - 200 * DAY, scope: "fleet" }]);
    });

    const clock = createManualClock(now);
    const host = await startGateway(clock, stateDir, { store: { retentionDays: { consolidations: 100 } } });
    await clock.advance(61 * 60_000);
    const direct = await openSameStore(host);
    await waitFor(
      async () =>
        (await direct.collection("snapshots").count()) <= 2 &&
        (await direct.collection("metrics").count()) === 1,
      10_000,
    );
    const ids = async (name: string) =>
      (await direct.collection(name).find({ from: 0, to: Number.MAX_SAFE_INTEGER }))
        .map((record) => record.id)
        .sort();
    expect(
      (await direct.collection<MinuteRollup>("metrics").find({ from: 0, to: Number.MAX_SAFE_INTEGER }))[0]
        ?.ts,
    ).toBe(minute(now - 89 * DAY));
    expect((await ids("snapshots")).filter((id) => id === "old" || id === "kept")).toEqual(["kept"]);
    expect((await ids("turn_facts")).filter((id) => id.endsWith("-fact"))).toEqual(["kept-fact"]);
    // the operator's retentionDays override the defaults (a year for consolidations)
    expect(await ids("consolidations")).not.toContain("fleet:old");
  });

  it("keeps counting when the clock steps back an hour: nothing lost, nothing counted twice", async () => {
    const clock = createManualClock(Date.now());
    const host = await startGateway(clock);
    for (const spec of TURNS.slice(0, 2)) await replayTurnSpec(host, spec);
    await waitFor(async () => (await health(host)).collections?.turn_facts === 2, 10_000);
    await clock.advance(2 * 60_000);
    await waitFor(async () => (await health(host)).lastRollup !== null, 10_000);
    clock.set(clock.now() - 3_600_000);
    for (const spec of TURNS.slice(2, 4)) await replayTurnSpec(host, spec);
    await waitFor(async () => (await health(host)).collections?.turn_facts === 4, 10_000);
    // the minute job runs again at the next boundary after the last one it ran, an hour on
    await clock.advance(62 * 60_000);
    const store = await openSameStore(host);
    await waitFor(async () => {
      const rollups = await store
        .collection<MinuteRollup>("metrics")
        .find({ from: 0, to: Number.MAX_SAFE_INTEGER });
      return sum(rollups, "turns") === 4;
    }, 10_000);
    const status = (await host.callGatewayMethod("clawscope-memory-consolidation.status")).payload as {
      schedules?: Record<string, { failures: number }>;
    };
    expect(status.schedules?.rollups?.failures).toBe(0);
  });

  it("answers its health route behind gateway auth", async () => {
    const clock = createManualClock(Date.now());
    const host = await startGateway(clock);
    expect((await host.callRoute("/api/persistence/health", { anonymous: true })).status).toBe(401);
    const answer = await health(host);
    expect(answer.store).toMatchObject({ kind: "sqlite", reachable: true });
    expect(answer.collections).toMatchObject({ turn_facts: 0, metrics: 0, snapshots: 0, consolidations: 0 });
    expect(Object.keys(answer.collections).sort()).toEqual([
      "audit_logs",
      "consolidations",
      "deliveries",
      "metrics",
      "snapshots",
      "tool_rollups",
      "turn_facts",
    ]);
    const post = await host.callRoute("/api/persistence/health", { method: "POST", body: "{}" });
    expect(post.status).toBe(405);
  });
});
