/**
 * What the operational memory costs, measured on the real built extension
 * (`extensions/memory-consolidation/dist`):
 *
 * 1. **Per turn**: process CPU from a turn's first event until its fact is written to the embedded
 *    SQLite store (assembly, mapping, the spooled pipeline, the upsert), per turn, replaying the
 *    captured `e2e-http-2turns` stream through the fake host and the real bus; as a ratio to the
 *    same no-op baseline `pack-cost.ts` uses, and to the three exporters together (otel, mlflow,
 *    langfuse at their defaults, sending to local receivers in another process), measured in the
 *    same interleaved rounds. Each window ends with a graceful stop (the final flush counts).
 * 2. **A day's consolidation**: a store seeded with eight days of minute rollups of a gateway
 *    serving 1 000 000 turns a day (694 a minute over 20 combinations of agent, provider, model,
 *    channel and outcome), then the extension's own consolidator run for the last day — wall time
 *    and rollups read.
 *
 * Run with `pnpm bench` (it builds first), or `node --import tsx memory-cost.ts` after a build.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { readRuntime } from "@clawscope/kit";
import { openStore } from "@clawscope/store";
import { createFakeHost, type FakeHost, type FerretDbServer, startFerretDb } from "@clawscope/testing";
import {
  checkDelivered,
  EXTENSIONS,
  loadWorkload,
  renumber,
  replay,
  startBaseline,
  startPack,
  startReceivers,
  untilAssembled,
} from "./pack-cost.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..");
const TURN_SETS = Number(process.env.BENCH_TURN_SETS ?? 500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MEMORY_ID = "clawscope-memory-consolidation";
const HOST_CONFIG = { agents: { list: [{ id: "main" }] }, diagnostics: { enabled: true } };

async function builtMemory(): Promise<unknown> {
  return import(
    pathToFileURL(path.join(repoRoot, "extensions", "memory-consolidation", "dist", "index.js")).href
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function measureTurns(
  stateRoot: string,
): Promise<{ baseline: number; memory: number; exporters: number }> {
  const receivers = await startReceivers();
  try {
    return await measureTurnsWith(stateRoot, receivers);
  } finally {
    receivers.close();
  }
}

async function measureTurnsWith(
  stateRoot: string,
  receivers: Awaited<ReturnType<typeof startReceivers>>,
): Promise<{ baseline: number; memory: number; exporters: number }> {
  const workload = loadWorkload();
  let replays = 0;
  const sets = (count: number) => Array.from({ length: count }, () => renumber(workload, ++replays));
  const baselineSamples: number[] = [];
  const memorySamples: number[] = [];
  const exporterSamples: number[] = [];
  const entry = await builtMemory();
  for (let round = 0; round <= ROUNDS; round += 1) {
    const count = round === 0 ? 40 : TURN_SETS;
    const turns = count * 2;
    {
      const baseline = await startBaseline(stateRoot);
      const before = process.cpuUsage();
      await replay(sets(count), baseline.hosts);
      const used = process.cpuUsage(before);
      baseline.stop();
      for (const host of baseline.hosts) await host.cleanup();
      if (round > 0) baselineSamples.push((used.user + used.system) / turns);
    }
    {
      const host: FakeHost = await createFakeHost(entry as never, {
        stateDir: await mkdtemp(path.join(stateRoot, "memory-")),
        pluginConfig: {},
        hostConfig: HOST_CONFIG,
      });
      await host.startServices();
      const before = process.cpuUsage();
      await replay(sets(count), [host]);
      // until every turn is assembled and its fact is written
      const deadline = Date.now() + 120_000;
      for (;;) {
        const health = readRuntime(MEMORY_ID)?.health();
        if (
          health &&
          health.turns.assembled >= turns &&
          health.turns.open === 0 &&
          health.export.pending === 0
        )
          break;
        if (Date.now() > deadline)
          throw new Error(
            `facts not written in 2 minutes (is the store reachable? node:sqlite needs Node 22.5+): ${JSON.stringify({ turns: health?.turns, export: health?.export, lastError: health?.lastError })}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // a graceful stop flushes what is still queued: inside the window, as for the exporters
      await host.stopServices();
      const used = process.cpuUsage(before);
      await host.cleanup();
      if (round > 0) memorySamples.push((used.user + used.system) / turns);
    }
    {
      const hosts = await startPack(EXTENSIONS, {}, receivers.ports, stateRoot);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await receivers.reset();
      const before = process.cpuUsage();
      await replay(sets(count), hosts);
      await untilAssembled(EXTENSIONS, turns);
      for (const host of hosts) await host.stopServices();
      const used = process.cpuUsage(before);
      checkDelivered(EXTENSIONS, await receivers.counts(), turns);
      for (const host of hosts) await host.cleanup();
      if (round > 0) exporterSamples.push((used.user + used.system) / turns);
    }
  }
  return {
    baseline: median(baselineSamples),
    memory: median(memorySamples),
    exporters: median(exporterSamples),
  };
}

async function measureConsolidation(
  target: { kind: "sqlite"; stateRoot: string } | { kind: "mongodb"; uri: string },
): Promise<{ seedMs: number; runMs: number; rollups: number }> {
  // the extension's own consolidation code (its sources: the bundle exports only the plugin entry)
  const source = (file: string) =>
    import(pathToFileURL(path.join(repoRoot, "extensions", "memory-consolidation", "src", file)).href);
  const { COLLECTIONS } = await source("store/collections.ts");
  const { makeRollup } = await source("domain/rollup-fixture.ts");
  const { createConsolidator } = await source("consolidator.ts");
  const { createConsolidationRepository } = await source("store/consolidation-repository.ts");
  const store = await openStore(
    target.kind === "sqlite"
      ? { kind: "sqlite", path: path.join(target.stateRoot, "day.sqlite"), collections: COLLECTIONS }
      : { kind: "mongodb", uri: target.uri, database: "clawscope_bench", collections: COLLECTIONS },
  );
  const day0 = Date.UTC(2026, 10, 20);
  const perMinute = Math.round(1_000_000 / 1440);
  const combos = 20;
  const seedStart = Date.now();
  let rollups = 0;
  for (let day = 7; day >= 0; day -= 1) {
    for (let minute = 0; minute < 1440; minute += 60) {
      const batch = [];
      for (let offset = 0; offset < 60; offset += 1) {
        const ts = day0 - day * 86_400_000 + (minute + offset) * 60_000;
        for (let combo = 0; combo < combos; combo += 1)
          batch.push(
            makeRollup("gw-bench@0000", ts, `model-${combo}`, {
              turns: Math.round(perMinute / combos),
              costUsd: 0.002 * (perMinute / combos),
              failed: combo === 0 ? 1 : 0,
            }),
          );
      }
      await store.collection("metrics").upsert(batch);
      rollups += batch.length;
    }
  }
  const seedMs = Date.now() - seedStart;
  const consolidator = createConsolidator({
    store,
    repository: createConsolidationRepository(store),
    holder: "bench",
    at: "01:00",
    timeZone: "UTC",
    catchUpDays: 1,
    leaseMs: 3_600_000,
    budget: { dailyUsd: 1000 },
    now: () => day0 + 86_400_000 + 2 * 3_600_000,
    logger: { info: () => undefined, warn: () => undefined },
  });
  const started = performance.now();
  const record = await consolidator.run("2026-11-20");
  const runMs = performance.now() - started;
  if (!record || record.totals.turns < 990_000)
    throw new Error(`consolidation read ${record?.totals.turns} turns`);
  await store.close();
  return { seedMs, runMs, rollups };
}

async function main(): Promise<void> {
  const stateRoot = await mkdtemp(path.join(tmpdir(), "clawscope-memory-bench-"));
  try {
    const turns = await measureTurns(stateRoot);
    const day = await measureConsolidation({ kind: "sqlite", stateRoot });
    // the same day on a real MongoDB-wire server; FerretDB's SQLite backend scans for a range query,
    // so this is a floor for a fleet's store, not what MongoDB with its indexes does
    let ferret: FerretDbServer | undefined;
    let fleetDay: { seedMs: number; runMs: number; rollups: number } | string;
    try {
      ferret = await startFerretDb();
      fleetDay = await measureConsolidation({ kind: "mongodb", uri: `${ferret.uri}?directConnection=true` });
    } catch (error) {
      fleetDay = `skipped: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`;
    } finally {
      await ferret?.dispose();
    }
    const exporters = turns.exporters;
    console.log(
      `\nclawscope memory consolidation — node ${process.version}, ${TURN_SETS * 2} turns a round, ${ROUNDS} rounds, medians`,
    );
    console.log(
      `rollup path (assembly → fact → spooled pipeline → SQLite upsert): ${turns.memory.toFixed(0)} µs CPU per turn, ${(turns.memory / turns.baseline).toFixed(2)}x the no-op baseline (${turns.baseline.toFixed(0)} µs)` +
        (Number.isFinite(exporters) && exporters > 0
          ? `, ${(turns.memory / exporters).toFixed(2)}x the three exporters (${exporters.toFixed(0)} µs)`
          : ""),
    );
    console.log(
      `a day of 1 000 000 turns (${day.rollups} minute rollups over 8 days, seeded in ${(day.seedMs / 1000).toFixed(1)} s): consolidated in ${(day.runMs / 1000).toFixed(2)} s on SQLite`,
    );
    console.log(
      typeof fleetDay === "string"
        ? `the same day on FerretDB: ${fleetDay}`
        : `the same day on FerretDB (MongoDB wire, seeded in ${(fleetDay.seedMs / 1000).toFixed(1)} s): consolidated in ${(fleetDay.runMs / 1000).toFixed(2)} s, ${(fleetDay.runMs / day.runMs).toFixed(1)}x SQLite`,
    );
  } finally {
    await rm(stateRoot, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await main();
