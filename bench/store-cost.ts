/**
 * The store's write speed and what a burst costs the event loop: 10 000 minute-rollup records
 * upserted in one call (as a pipeline hands a batch over), into the embedded SQLite file and into a
 * real MongoDB-wire server (FerretDB, built by scripts/ferretdb/build.sh; skipped with a line when Go
 * is missing). Prints records per second and the event loop's worst delay during the burst, median
 * of the rounds. Each burst checks the record count after it. (Re-sending existing ids is asserted
 * by the tests, not timed here: FerretDB's SQLite backend replaces existing ids slowly.)
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { openStore, type Store, type StoreOptions } from "@clawscope/store";
import { type FerretDbServer, startFerretDb } from "@clawscope/testing";

const RECORDS = Number(process.env.BENCH_STORE_RECORDS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_STORE_ROUNDS ?? 3);

function rollups(round: number) {
  return Array.from({ length: RECORDS }, (_, index) => ({
    id: `r${round}-${index}`,
    ts: 1_767_225_600_000 + index * 60_000,
    gateway: "bench",
    agent: `agent-${index % 7}`,
    provider: "openai",
    model: `model-${index % 5}`,
    channel: "http",
    outcome: index % 17 === 0 ? "error" : "ok",
    turns: 3,
    tokens: { input: 1200 + index, output: 300, cacheRead: 50, cacheWrite: 0 },
    cost: { provider: index * 0.000_125, estimated: 0, unknownTurns: 0 },
    latency: { buckets: [0, 1, 2, 0, 0, 1], count: 4, sumMs: 5230 },
  }));
}

async function burst(
  store: Store,
  round: number,
): Promise<{ perSecond: number; maxDelayMs: number; count: number }> {
  const records = rollups(round);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const started = performance.now();
  await store.collection("metrics").upsert(records);
  const elapsed = performance.now() - started;
  delay.disable();
  const count = await store.collection("metrics").count();
  return { perSecond: RECORDS / (elapsed / 1000), maxDelayMs: delay.max / 1e6, count };
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

async function measure(label: string, options: StoreOptions): Promise<string> {
  const store = await openStore(options);
  const first: { perSecond: number; maxDelayMs: number }[] = [];
  let expected = 0;
  for (let round = 0; round < ROUNDS; round += 1) {
    const result = await burst(store, round);
    expected += RECORDS;
    if (result.count !== expected) {
      throw new Error(`${label}: ${result.count} records after a burst, expected ${expected}`);
    }
    first.push(result);
  }
  await store.close();
  const cell = (rows: { perSecond: number; maxDelayMs: number }[]) =>
    `${Math.round(median(rows.map((row) => row.perSecond)))
      .toString()
      .padStart(9)} /s   ${median(rows.map((row) => row.maxDelayMs))
      .toFixed(1)
      .padStart(7)} ms`;
  return `${label.padEnd(22)} ${cell(first)}`;
}

async function main(): Promise<void> {
  const folder = await mkdtemp(path.join(tmpdir(), "clawscope-bench-store-"));
  const collections = [
    { name: "metrics", indexes: [["agent", "model"], ["outcome"]], retentionMs: 90 * 86_400_000 },
  ];
  const lines: string[] = [];
  let server: FerretDbServer | undefined;
  try {
    lines.push(
      await measure("sqlite (embedded)", {
        kind: "sqlite",
        path: path.join(folder, "store.sqlite"),
        collections,
      }),
    );
    try {
      server = await startFerretDb();
    } catch (error) {
      lines.push(
        `mongodb (FerretDB)     skipped: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`,
      );
    }
    if (server) {
      lines.push(
        await measure("mongodb (FerretDB)", {
          kind: "mongodb",
          uri: server.uri,
          database: "bench",
          collections,
        }),
      );
    }
  } finally {
    await server?.dispose();
    await rm(folder, { recursive: true, force: true });
  }
  console.log(
    `\nclawscope store — ${RECORDS} records upserted in one call, ${ROUNDS} rounds, medians; node ${process.version}`,
  );
  console.log(`${"store".padEnd(22)} ${"records".padStart(13)}  ${"worst loop delay".padStart(16)}`);
  for (const line of lines) console.log(line);
}

await main();
