/**
 * Issue 12, a fleet: three real gateways with clawscope-memory-consolidation on one MongoDB-wire
 * server (FerretDB). Their scheduled jobs run on a clock shifted to just before 01:00 of tomorrow
 * (CLAWSCOPE_CLOCK_OFFSET_MS), so today, when the test's turns happen, is the day they consolidate
 * at "01:00", a minute or two after start. Exactly one gateway takes the day; it is SIGKILLed while
 * it consolidates; a survivor takes the day over once the lease expires, and the day is
 * consolidated once. Every gateway's hourly snapshot is in the store, and each gateway's
 * consolidation holds the tokens and cost of its own `sessions.usage`; the fleet's names a planted
 * cost spike and its model. One gateway's turns take two models, a tool and a provider 400; the
 * fleet's HTML digest is written to `.cache/e2e-artifacts/` (the README's screenshot is of it).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { openStore, type Store } from "@clawscope/store";
import { type FerretDbServer, startFerretDb } from "@clawscope/testing";
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// relative: the e2e package does not depend on the extension's sources
import type { MinuteRollup } from "../../extensions/memory-consolidation/src/domain/minute-rollup.js";
import { makeRollup } from "../../extensions/memory-consolidation/src/domain/rollup-fixture.js";
import { type GatewayHandle, startGateway } from "./harness/gateway.js";
import { chatCompletion, waitFor } from "./harness/gateway-client.js";
import { secondModelConfig } from "./harness/gateway-config.js";
import { type GatewaySessionUsage, waitForSessionUsage } from "./harness/gateway-usage.js";
import { memoryPlugin } from "./harness/memory-plugin.js";
import { type MockProvider, startMockProvider } from "./harness/mock-provider.js";
import { ECHO_TOOL_PLUGIN } from "./harness/plugin-fixtures.js";

const DAY = 86_400_000;
const HOUR = 3_600_000;
const NAMES = ["fleet-a", "fleet-b", "fleet-c"] as const;
const LEASE_SECONDS = 20;
/** A past gateway's minute rollups today (two models), so the consolidation takes long enough to be killed in. */
const SEED_MINUTES = 1_440;
const SEED_COMBINATIONS = 2;
/** Its steady week before (hourly rollups), and a cost spike of one model in one hour of today. */
const BASELINE_DAYS = 7;
const SPIKE = { model: "gpt-spike", hour: 3, minutes: 30, turnsPerMinute: 2, costPerMinute: 0.4 };
/** Each gateway's turns: a plain one per index, and on the last a tool, a provider 400 and a second model. */
const TURNS: Record<(typeof NAMES)[number], { content: string; model?: string; status: number }[]> = {
  "fleet-a": [{ content: "turn 0 of fleet-a", status: 200 }],
  "fleet-b": [
    { content: "turn 0 of fleet-b", status: 200 },
    { content: "turn 1 of fleet-b", status: 200 },
  ],
  "fleet-c": [
    { content: "turn 0 of fleet-c", status: 200 },
    { content: "please USE_TOOL for fleet-c", status: 200 },
    { content: "FAIL_400 for fleet-c", status: 400 },
    { content: "turn 3 of fleet-c", model: "mock2/mock-model-b", status: 200 },
  ],
};

type ConsolidationView = {
  id: string;
  scope: string;
  date: string;
  createdAt: string;
  consolidatedBy: string;
  gateways: string[];
  anomalies: { kind: string; hour: string; driver?: { dimension: string; value: string } }[];
  by: { model: { value: string; turns: number }[] };
  tools: { name: string; calls: number }[];
  errorCategories: { category: string; count: number }[];
  totals: {
    turns: number;
    inputTokens: number;
    outputTokens: number;
    cacheReadTokens: number;
    cacheWriteTokens: number;
    costUsd: number;
  };
};

describe("a fleet of three gateways on one FerretDB", () => {
  let ferret: FerretDbServer;
  let store: Store;
  let mongo: MongoClient;
  const gateways = new Map<string, GatewayHandle>();
  const providers: MockProvider[] = [];
  const usage = new Map<string, GatewaySessionUsage>();
  const today = Math.floor(Date.now() / DAY) * DAY;
  const date = new Date(today).toISOString().slice(0, 10);

  beforeAll(async () => {
    ferret = await startFerretDb();
    const uri = `${ferret.uri}?directConnection=true`;
    store = await openStore({
      kind: "mongodb",
      uri,
      database: "clawscope",
      collections: [
        { name: "metrics" },
        { name: "snapshots" },
        { name: "consolidations" },
        { name: "audit_logs" },
      ],
    });
    mongo = await MongoClient.connect(uri);
    await store.collection<MinuteRollup>("metrics").upsert(seedRollups(today));
    for (const _ of NAMES)
      providers.push(
        await startMockProvider({
          usageByModel: { "mock-model-b": { promptTokens: 205, completionTokens: 51 } },
        }),
      );
    // 01:00 of their tomorrow comes 180 s after this: time for three starts and the turns
    const offset = today + DAY + HOUR - 180_000 - Date.now();
    const started = await Promise.all(
      NAMES.map((name, index) =>
        startGateway({
          provider: providers[index],
          extraConfig: secondModelConfig((providers[index] as MockProvider).baseUrl),
          plugins: [
            ECHO_TOOL_PLUGIN,
            memoryPlugin({
              store: { kind: "mongodb", uri },
              gatewayName: name,
              flushIntervalMs: 200,
              settleMs: 300,
              // the newest due day only: at start the day before today, at "01:00" today
              consolidation: { leaseSeconds: LEASE_SECONDS, catchUpDays: 1 },
            }),
          ],
          env: { CLAWSCOPE_CLOCK_OFFSET_MS: String(offset) },
        }),
      ),
    );
    for (const [index, gateway] of started.entries()) gateways.set(NAMES[index] as string, gateway);
    for (const name of NAMES) {
      const gateway = gateways.get(name) as GatewayHandle;
      const statuses: number[] = [];
      for (const turn of TURNS[name])
        statuses.push(
          (
            await chatCompletion(gateway, {
              sessionKey: `fleet-${name}`,
              content: turn.content,
              ...(turn.model ? { model: turn.model } : {}),
            })
          ).status,
        );
      expect(statuses, name).toEqual(TURNS[name].map((turn) => turn.status));
      // a tool turn answers twice, the others once
      const answers =
        TURNS[name].length + TURNS[name].filter((turn) => turn.content.includes("USE_TOOL")).length;
      usage.set(
        name,
        await waitForSessionUsage(
          gateway,
          `fleet-${name}`,
          (entry) => entry.messageCounts?.assistant === answers,
          60_000,
        ),
      );
    }
  }, 300_000);

  afterAll(async () => {
    for (const gateway of gateways.values()) await gateway.close();
    for (const provider of providers) await provider.close();
    await mongo?.close();
    await store?.close();
    await ferret?.dispose();
  });

  it("consolidates the day once: the consolidating gateway is killed mid-run and a survivor takes the day over", async () => {
    const leases = mongo.db("clawscope").collection<{ _id: string; holder: string }>("_clawscope_leases");
    // at "01:00" every gateway tries the day; the one holding its lease is killed while it works
    const holder = await waitFor(
      async () => (await leases.findOne({ _id: `consolidation:${date}` }))?.holder,
      240_000,
      50,
      "a gateway took the day's lease",
    );
    const victimName = NAMES.find((name) => holder.startsWith(`${name}@`)) as string;
    const victim = gateways.get(victimName) as GatewayHandle;
    // its hour's snapshot (taken at the same "01:00") is written first: the kill is about the day
    await waitFor(
      async () =>
        (
          await store
            .collection<{ id: string; gateway: string }>("snapshots")
            .find({ from: today + DAY, to: today + DAY + 1 })
        ).some((record) => record.gateway === holder),
      30_000,
      50,
      "the consolidating gateway's snapshot",
    );
    await victim.kill();
    expect(
      await store.collection("consolidations").get(`fleet:${date}`),
      "the consolidation finished before the kill: seed more",
    ).toBeUndefined();

    // after the lease (20 s) a survivor's minute job takes the day over
    const fleet = await waitFor(
      async () => store.collection<ConsolidationView>("consolidations").get(`fleet:${date}`),
      150_000,
      1000,
      "the day consolidated by a survivor",
    );
    expect(fleet.consolidatedBy).not.toBe(holder);
    expect(
      NAMES.filter((name) => name !== victimName).some((name) => fleet.consolidatedBy.startsWith(`${name}@`)),
    ).toBe(true);

    // the fleet's figures: every gateway and the seeded one, each consolidated on its own too
    const perGateway = await store
      .collection<ConsolidationView>("consolidations")
      .find({ where: { date }, from: 0 });
    expect(perGateway.filter((record) => record.scope === "fleet")).toHaveLength(1);
    for (const name of NAMES) {
      const own = perGateway.find((record) => record.scope.startsWith(`${name}@`));
      const host = usage.get(name) as GatewaySessionUsage;
      expect(own?.totals, name).toMatchObject({
        inputTokens: host.input,
        outputTokens: host.output,
        cacheReadTokens: host.cacheRead,
        cacheWriteTokens: host.cacheWrite,
      });
      expect(Math.abs((own?.totals.costUsd ?? 0) - host.totalCost), name).toBeLessThan(1e-9);
    }
    expect(fleet.totals.turns).toBe(
      NAMES.reduce((sum, name) => sum + TURNS[name].length, 0) +
        SEED_MINUTES * SEED_COMBINATIONS +
        SPIKE.minutes * SPIKE.turnsPerMinute,
    );
    // the planted spike: an anomalous hour of cost, driven by its model (median/MAD over the week)
    const spike = fleet.anomalies.find((anomaly) => anomaly.kind === "cost");
    expect(spike?.hour).toBe(new Date(today + SPIKE.hour * HOUR).toISOString());
    expect(spike?.driver).toMatchObject({ dimension: "model", value: SPIKE.model });
    // the real turns' models, tool and failure beside the seeded ones
    expect(fleet.by.model.find((row) => row.value === "mock-model-b")?.turns).toBe(1);
    expect(fleet.tools.find((tool) => tool.name === "echo_tool")?.calls).toBe(1);
    expect(fleet.errorCategories.reduce((sum, entry) => sum + entry.count, 0)).toBeGreaterThanOrEqual(1);
    // the digest as the consolidating gateway serves it: kept for the README's screenshot
    const survivor = gateways.get(
      NAMES.find((name) => fleet.consolidatedBy.startsWith(`${name}@`)) as string,
    ) as GatewayHandle;
    const page = await fetch(`${survivor.baseUrl}/api/consolidation/${date}?format=html`, {
      headers: { authorization: `Bearer ${survivor.token}` },
    });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(SPIKE.model);
    const artifacts = path.resolve(import.meta.dirname, "../../.cache/e2e-artifacts");
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(path.join(artifacts, "memory-fleet-digest.html"), html);

    // one consolidation of the day in the audit log: the takeover; the killed one wrote nothing
    type AuditView = {
      id: string;
      gateway: string;
      actor: string;
      action: string;
      outcome: string;
      detail: { date?: string };
    };
    // the audit record follows the consolidation through its own pipeline
    const ofDay = await waitFor(
      async () => {
        const audits = await store
          .collection<AuditView>("audit_logs")
          .find({ where: { action: "consolidate" }, from: 0 });
        const found = audits.filter((entry) => entry.detail.date === date && entry.outcome === "ok");
        return found.length > 0 ? found : undefined;
      },
      10_000,
      200,
      "the takeover in the audit log",
    );
    expect(ofDay.map((entry) => entry.actor)).toEqual(["takeover"]);
    expect(ofDay[0]?.gateway).toBe(fleet.consolidatedBy);

    // the killed gateway comes back: the day stays consolidated once, as it was
    await victim.restart();
    await new Promise((resolve) => setTimeout(resolve, 70_000));
    const after = await store.collection<ConsolidationView>("consolidations").get(`fleet:${date}`);
    expect(after?.createdAt).toBe(fleet.createdAt);
  }, 420_000);

  it("keeps every gateway's hourly snapshot", async () => {
    const hour = new Date(today + DAY).getTime();
    const snapshots = await waitFor(
      async () => {
        const found = await store
          .collection<{ id: string; gateway: string }>("snapshots")
          .find({ from: hour, to: hour + 1 });
        return NAMES.every((name) => found.some((record) => record.gateway.startsWith(`${name}@`)))
          ? found
          : undefined;
      },
      60_000,
      1000,
      "a snapshot of every gateway",
    );
    expect(new Set(snapshots.map((record) => record.gateway)).size).toBe(3);
  }, 120_000);
});

/** A past gateway's rollups: a steady week by the hour, today by the minute, and today's spike. */
function seedRollups(day: number): MinuteRollup[] {
  const records: MinuteRollup[] = [];
  for (let back = BASELINE_DAYS; back >= 1; back -= 1)
    for (let hour = 0; hour < 24; hour += 1)
      for (let model = 0; model < SEED_COMBINATIONS; model += 1)
        records.push(
          makeRollup("gw-seed@0000", day - back * DAY + hour * HOUR, `seed-model-${model}`, {
            turns: 60,
            costUsd: 0.06 + ((hour + back) % 3) / 1000,
          }),
        );
  for (let minute = 0; minute < SEED_MINUTES; minute += 1)
    for (let model = 0; model < SEED_COMBINATIONS; model += 1)
      records.push(
        makeRollup("gw-seed@0000", day + minute * 60_000, `seed-model-${model}`, {
          turns: 1,
          costUsd: 0.001,
        }),
      );
  for (let minute = 0; minute < SPIKE.minutes; minute += 1)
    records.push(
      makeRollup("gw-seed@0000", day + SPIKE.hour * HOUR + minute * 60_000, SPIKE.model, {
        turns: SPIKE.turnsPerMinute,
        costUsd: SPIKE.costPerMinute,
      }),
    );
  return records;
}
