/**
 * What the knowledge base costs, measured on the real built extension
 * (`extensions/knowledge-base/dist`) in the fake host:
 *
 * 1. **Query latency**: a store seeded with 5 000 issue entries and 100 000 occurrences (SQLite,
 *    then FerretDB), the extension started on it, then `POST /api/knowledge/query` through the
 *    route's real HTTP server with queries drawn from the entries' words: p50 and p99 per request.
 *    The goal is p99 <= 10 ms on SQLite.
 * 2. **Per-failure ingest**: process CPU from a failed turn's first event until its occurrence is
 *    written (fingerprint, occurrence, concept counts, the spooled pipeline, the SQLite upsert; the
 *    final flush at a graceful stop included), per failed turn, against a no-op bus subscriber and
 *    hook handlers fed the same turns (the baseline of `pack-cost.ts`). Interleaved rounds, medians.
 * 3. **Recompute of a hot issue**: the minute job's recompute of one entry that holds 100 000
 *    occurrences (a failure every 25 seconds for its 30 days), on SQLite and FerretDB: the time one
 *    entry takes, and on SQLite (synchronous) the longest the gateway's event loop is held.
 *
 * Run with `pnpm bench` (it builds first), or `node --expose-gc --import tsx kb-cost.ts` after a build.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { readRuntime } from "@clawscope/kit";
import { openStore, type Store } from "@clawscope/store";
import {
  createFakeHost,
  type FakeHost,
  type FerretDbServer,
  replayTurnSpec,
  startFerretDb,
  type TurnSpec,
} from "@clawscope/testing";
import { startBaseline } from "./pack-cost.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..");
const KB_ID = "clawscope-knowledge-base";
const ENTRIES = Number(process.env.BENCH_KB_ENTRIES ?? 5_000);
const OCCURRENCES = Number(process.env.BENCH_KB_OCCURRENCES ?? 100_000);
const HOT_OCCURRENCES = Number(process.env.BENCH_KB_HOT_OCCURRENCES ?? 100_000);
const QUERIES = Number(process.env.BENCH_KB_QUERIES ?? 1_000);
const FAILURES = Number(process.env.BENCH_KB_FAILURES ?? 500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const HOUR = 3_600_000;

const CAUSES = [
  "Rate limit reached for requests per min (RPM)",
  "This model's maximum context length is exceeded",
  "Invalid 'temperature': decimal above maximum value",
  "The server had an error while processing your request",
  "ENOENT: no such file or directory, open",
  "connect ECONNREFUSED upstream",
  "Command timed out after waiting",
  "Incorrect API key provided",
  "model not found, try pulling it first",
  "Request exceeds the maximum allowed number of bytes",
];
const PROVIDERS = ["openai", "anthropic", "google", "amazon-bedrock", "azure-openai", "ollama", "openrouter"];
const TOOLS = ["exec", "read", "write", "web_fetch", "browser", "sql_query", "edit"];

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function builtKnowledgeBase(): Promise<unknown> {
  return import(pathToFileURL(path.join(repoRoot, "extensions", "knowledge-base", "dist", "index.js")).href);
}

/** 5 000 entries over 10 causes × 7 providers × ~70 models or tools, 100 000 occurrences among them. */
async function seed(store: Store): Promise<void> {
  const now = Date.now();
  const entries = [];
  const perEntry = Math.max(1, Math.floor(OCCURRENCES / ENTRIES));
  for (let index = 0; index < ENTRIES; index += 1) {
    const cause = CAUSES[index % CAUSES.length] as string;
    const provider = PROVIDERS[index % PROVIDERS.length] as string;
    const model = `model-${Math.floor(index / 70)}`;
    const tool = TOOLS[index % TOOLS.length] as string;
    const kind = index % 3 === 0 ? "tool_error" : "provider_error";
    const message = `${cause} (variant ${index})`;
    entries.push({
      id: `entry-${index}`,
      version: 1,
      fingerprints: [`entry-${index}`],
      title: `${kind} ${kind === "tool_error" ? tool : `${provider}/${model}`}: ${message}`,
      kind,
      ...(kind === "tool_error" ? { tool } : { provider, model }),
      message,
      count: perEntry,
      firstSeen: now - 30 * 24 * HOUR,
      lastSeen: now - (index % 48) * HOUR,
      ts: now - (index % 48) * HOUR,
      hourly: [{ hour: Math.floor(now / HOUR) * HOUR, count: perEntry }],
      trend: "steady",
      affected: {
        agents: [{ name: "main", count: perEntry }],
        channels: [{ name: "webchat", count: perEntry }],
        models: [{ name: model, count: perEntry }],
        gateways: [{ name: "gw-bench", count: perEntry }],
      },
      examples: [],
      state: index % 5 === 0 ? "quiet" : "open",
      updatedAt: now,
    });
  }
  await store.collection("knowledge_base").upsert(entries);
  for (let start = 0; start < OCCURRENCES; start += 5_000) {
    const batch = [];
    for (let index = start; index < Math.min(OCCURRENCES, start + 5_000); index += 1) {
      const ts = now - (index % (30 * 24)) * HOUR;
      batch.push({
        id: `occurrence-${index}`,
        entry: `entry-${index % ENTRIES}`,
        version: 1,
        ts,
        hour: Math.floor(ts / HOUR) * HOUR,
        gateway: "gw-bench",
        kind: "provider_error",
        title: "bench",
        message: "bench",
        agent: "main",
      });
    }
    await store.collection("kb_occurrences").upsert(batch);
  }
}

async function measureQueries(
  label: string,
  storeConfig: Record<string, unknown>,
  open: (collections: unknown) => Promise<Store>,
  stateDir: string,
  entry: unknown,
): Promise<string> {
  const { toCollections } = await import(
    pathToFileURL(path.join(repoRoot, "extensions", "knowledge-base", "src", "store", "collections.ts")).href
  );
  const store = await open(toCollections(30));
  const seedStarted = Date.now();
  await seed(store);
  const seedMs = Date.now() - seedStarted;
  await store.close();
  const host = await createFakeHost(entry as never, { stateDir, pluginConfig: { store: storeConfig } });
  try {
    const loadStarted = performance.now();
    await host.startServices();
    const loadMs = performance.now() - loadStarted;
    const words = CAUSES.flatMap((cause) =>
      cause
        .toLowerCase()
        .split(/\W+/)
        .filter((word) => word.length > 3),
    );
    const timings: number[] = [];
    let matched = 0;
    for (let index = 0; index < QUERIES + 50; index += 1) {
      const query = [
        words[index % words.length],
        words[(index * 7 + 3) % words.length],
        PROVIDERS[index % PROVIDERS.length],
      ].join(" ");
      const started = performance.now();
      const response = await host.callRoute("/api/knowledge/query", {
        method: "POST",
        body: JSON.stringify({ query, limit: 10 }),
        headers: { "content-type": "application/json" },
      });
      const elapsed = performance.now() - started;
      if (response.status !== 200)
        throw new Error(`query answered ${response.status}: ${response.body.slice(0, 200)}`);
      // the first queries warm the route's server and the JIT
      if (index >= 50) {
        timings.push(elapsed);
        if (((response.json as { results?: { entries?: unknown[] } }).results?.entries?.length ?? 0) > 0)
          matched += 1;
      }
    }
    if (matched < QUERIES / 2)
      throw new Error(`only ${matched} of ${QUERIES} queries found an entry: the seed did not load`);
    return `${label}: ${ENTRIES} issues, ${OCCURRENCES} occurrences (seeded in ${(seedMs / 1000).toFixed(1)} s, loaded at start in ${loadMs.toFixed(0)} ms): query p50 ${percentile(timings, 50).toFixed(2)} ms, p99 ${percentile(timings, 99).toFixed(2)} ms over ${QUERIES} HTTP requests`;
  } finally {
    await host.cleanup();
  }
}

/** The minute job's recompute of one entry with `HOT_OCCURRENCES` occurrences: median of `rounds` after a warm-up, and the event loop's worst delay. */
async function measureRecompute(
  label: string,
  rounds: number,
  open: (collections: unknown) => Promise<Store>,
): Promise<string> {
  const source = (file: string) =>
    pathToFileURL(path.join(repoRoot, "extensions", "knowledge-base", "src", "store", file)).href;
  const { toCollections } = await import(source("collections.ts"));
  const { createEntryRepository } = await import(source("entry-repository.ts"));
  const store = await open(toCollections(30));
  try {
    const now = Date.now();
    const span = 29 * 86_400_000;
    for (let start = 0; start < HOT_OCCURRENCES; start += 5_000) {
      const batch = [];
      for (let index = start; index < Math.min(start + 5_000, HOT_OCCURRENCES); index += 1) {
        const ts = now - Math.floor((index / HOT_OCCURRENCES) * span);
        batch.push({
          id: `hot-${index}`,
          key: `hot-${index}`,
          entry: "hot",
          ts,
          hour: Math.floor(ts / 3_600_000) * 3_600_000,
          kind: "provider_error",
          version: 1,
          title: `provider error 429 openai/gpt-4o: ${CAUSES[0]}`,
          message: `429 ${CAUSES[0]}`,
          status: 429,
          provider: "openai",
          model: `gpt-4o-${index % 4}`,
          agent: `agent-${index % 7}`,
          channel: index % 2 ? "webchat" : "slack",
          gateway: `gw-${index % 3}`,
          turnId: `turn-${index}`,
          traceId: (index * 2_654_435_761).toString(16).padStart(32, "0"),
        });
      }
      await store.collection("kb_occurrences").upsert(batch);
    }
    const repository = createEntryRepository(store, {
      quietAfterMs: 86_400_000,
      traceLinks: {},
      now: () => now,
    });
    const timings: number[] = [];
    const delay = monitorEventLoopDelay({ resolution: 5 });
    for (let round = 0; round <= rounds; round += 1) {
      if (round === 1) delay.enable();
      const started = performance.now();
      const entry = (await repository.recompute("hot")) as { count?: number } | undefined;
      if (entry?.count !== HOT_OCCURRENCES) throw new Error(`the hot entry counted ${entry?.count}`);
      if (round > 0) timings.push(performance.now() - started);
      // the delay histogram records when its timer gets to run: let it
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    delay.disable();
    return `${label}: recompute of one issue with ${HOT_OCCURRENCES} occurrences ${percentile(timings, 50).toFixed(0)} ms (median of ${rounds}), event loop held at most ${(delay.max / 1e6).toFixed(0)} ms`;
  } finally {
    await store.close();
  }
}

const failure = (round: number, index: number): TurnSpec => ({
  runId: `kb-bench-${round}-${index}`,
  sessionKey: `agent:main:kb-bench-${index % 50}`,
  modelCalls: [
    {
      error: {
        category: "Error",
        message: `400 ${CAUSES[index % CAUSES.length]} (request req_${(index * 7919).toString(16)}, value ${index})`,
      },
    },
  ],
});

async function measureIngest(stateRoot: string, entry: unknown): Promise<string> {
  const baselineSamples: number[] = [];
  const kbSamples: number[] = [];
  for (let round = 0; round <= ROUNDS; round += 1) {
    const count = round === 0 ? 50 : FAILURES;
    {
      const baseline = await startBaseline(stateRoot);
      const before = process.cpuUsage();
      for (let index = 0; index < count; index += 1)
        await replayTurnSpec(baseline.hosts[0] as FakeHost, failure(round, index));
      const used = process.cpuUsage(before);
      baseline.stop();
      for (const host of baseline.hosts) await host.cleanup();
      if (round > 0) baselineSamples.push((used.user + used.system) / count);
    }
    {
      const host = await createFakeHost(entry as never, {
        stateDir: await mkdtemp(path.join(stateRoot, "kb-")),
        pluginConfig: { retryWaitMs: 1_000, settleMs: 100 },
      });
      await host.startServices();
      const before = process.cpuUsage();
      for (let index = 0; index < count; index += 1) await replayTurnSpec(host, failure(round, index));
      const deadline = Date.now() + 120_000;
      for (;;) {
        const health = readRuntime(KB_ID)?.health();
        const observed = Number((health?.details as { observed?: number } | undefined)?.observed ?? 0);
        if (health && observed >= count && health.turns.open === 0 && health.export.pending === 0) break;
        if (Date.now() > deadline)
          throw new Error(`failures not written in 2 minutes: ${JSON.stringify(health?.export)}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await host.stopServices();
      const used = process.cpuUsage(before);
      await host.cleanup();
      if (round > 0) kbSamples.push((used.user + used.system) / count);
    }
  }
  const baseline = percentile(baselineSamples, 50);
  const kb = percentile(kbSamples, 50);
  return `per failed turn (assembly, fingerprint, occurrence, concept counts, spooled SQLite write): ${kb.toFixed(0)} µs CPU, ${(kb / baseline).toFixed(2)}x the no-op baseline (${baseline.toFixed(0)} µs), ${ROUNDS} rounds of ${FAILURES}`;
}

async function main(): Promise<void> {
  const entry = await builtKnowledgeBase();
  const stateRoot = await mkdtemp(path.join(tmpdir(), "clawscope-kb-bench-"));
  const lines = [`clawscope knowledge base — node ${process.version}`];
  console.log(lines[0]);
  try {
    // first, in a fresh process: the later phases leave heap and JIT state that would be billed to it
    lines.push(await measureIngest(stateRoot, entry));
    console.log(lines.at(-1));
    const sqliteState = path.join(stateRoot, "sqlite");
    const sqliteFile = path.join(sqliteState, "plugins", KB_ID, "store.sqlite");
    await mkdir(path.dirname(sqliteFile), { recursive: true });
    lines.push(
      await measureQueries(
        "SQLite",
        {},
        (collections) => openStore({ kind: "sqlite", path: sqliteFile, collections: collections as never }),
        sqliteState,
        entry,
      ),
    );
    console.log(lines.at(-1));
    const recomputeFile = path.join(stateRoot, "recompute", "store.sqlite");
    await mkdir(path.dirname(recomputeFile), { recursive: true });
    lines.push(
      await measureRecompute("SQLite", 5, (collections) =>
        openStore({ kind: "sqlite", path: recomputeFile, collections: collections as never }),
      ),
    );
    console.log(lines.at(-1));
    let ferret: FerretDbServer | undefined;
    try {
      ferret = await startFerretDb();
      const uri = `${ferret.uri}?directConnection=true`;
      lines.push(
        await measureQueries(
          "FerretDB",
          { kind: "mongodb", uri, database: "clawscope_kb_bench" },
          (collections) =>
            openStore({
              kind: "mongodb",
              uri,
              database: "clawscope_kb_bench",
              collections: collections as never,
            }),
          path.join(stateRoot, "ferretdb"),
          entry,
        ),
      );
      console.log(lines.at(-1));
      lines.push(
        await measureRecompute("FerretDB", 1, (collections) =>
          openStore({
            kind: "mongodb",
            uri,
            database: "clawscope_kb_recompute",
            collections: collections as never,
          }),
        ),
      );
      console.log(lines.at(-1));
    } finally {
      await ferret?.dispose();
    }
  } finally {
    await rm(stateRoot, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
