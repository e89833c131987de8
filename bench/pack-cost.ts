/**
 * What the pack really costs the gateway: total process CPU per turn, from a turn's first event
 * until it is assembled, mapped, encoded, spooled where the extension spools, and sent — for the
 * three built extensions (`extensions/<name>/dist`, what operators install), each alone and all
 * together, as a ratio to a baseline of one no-op bus subscriber plus no-op hook handlers receiving
 * the same stream. Receivers run in another process (`receivers.ts`) and answer at once; their CPU is
 * not counted, and they check that every turn arrived before a figure is kept.
 *
 * Workload: the real event stream and hook calls of a captured gateway run (a tool turn and a plain
 * turn, `captured/e2e-http-2turns`), replayed with fresh run, trace and span ids through the real
 * diagnostic bus and the fake host's hook dispatch. Every scenario runs once per round, rounds
 * interleaved so machine noise hits all alike; medians and the spread over rounds are printed.
 *
 * Run with `pnpm bench` (it builds first). BENCH_TURN_SETS (2 turns each) and BENCH_ROUNDS scale it.
 */
import { type ChildProcess, fork } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { PACK_HOOKS, readRuntime, TURN_EVENT_TYPES } from "@clawscope/kit";
import {
  type CapturedInput,
  createFakeHost,
  type FakeHost,
  interleaveCaptured,
  loadCapturedScenario,
} from "@clawscope/testing";
import {
  emitDiagnosticEvent,
  emitTrustedDiagnosticEvent,
  onInternalDiagnosticEvent,
  waitForDiagnosticEventsDrained,
} from "openclaw/plugin-sdk/diagnostic-runtime";

const TURN_SETS = Number(process.env.BENCH_TURN_SETS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const TURNS_PER_SET = 2;
const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..");

export type ExtensionName = "otel" | "mlflow" | "langfuse";
export const EXTENSIONS: readonly ExtensionName[] = ["otel", "mlflow", "langfuse"];
const PLUGIN_IDS: Record<ExtensionName, string> = {
  otel: "clawscope-otel",
  mlflow: "clawscope-mlflow",
  langfuse: "clawscope-langfuse",
};
const HOOK_NAMES = new Set<string>([...PACK_HOOKS.plain, ...PACK_HOOKS.conversation]);

// ---------------------------------------------------------------------------------------------
// workload

/** The captured run's turn inputs: every bus event (the hub filters them as the host would) and the pack's hooks. */
export function loadWorkload(): CapturedInput[] {
  return interleaveCaptured(loadCapturedScenario("e2e-http-2turns")).filter(
    (input) => input.kind === "event" || HOOK_NAMES.has(input.name),
  );
}

/** Fresh run, trace and span ids per replay, so every turn is new to the assembler, as in production. */
export function renumber(inputs: CapturedInput[], replay: number): CapturedInput[] {
  const tag = replay.toString(16).padStart(8, "0");
  const text = JSON.stringify(inputs)
    .replace(/chatcmpl_[0-9a-f-]+/g, (id) => `${id}-r${replay}`)
    .replace(/"traceId":"([0-9a-f]{24})[0-9a-f]{8}"/g, (_match, head: string) => `"traceId":"${head}${tag}"`)
    .replace(
      /"(spanId|parentSpanId)":"([0-9a-f]{8})[0-9a-f]{8}"/g,
      (_match, key: string, head: string) => `"${key}":"${head}${tag}"`,
    );
  return (JSON.parse(text) as CapturedInput[]).map((input): CapturedInput => {
    if (input.kind !== "event") return input;
    // the host stamps seq and ts as it emits
    const { seq: _seq, ts: _ts, ...event } = input.event;
    return { ...input, event: event as typeof input.event };
  });
}

const turnOfLoop = () => new Promise((resolve) => setImmediate(resolve));

/** Replays turn sets as the host delivers them: bus events emitted, hooks dispatched to every plugin. */
export async function replay(sets: CapturedInput[][], hosts: readonly FakeHost[]): Promise<void> {
  for (const inputs of sets) {
    for (const input of inputs) {
      if (input.kind === "event") {
        if ((input.metadata as { trusted?: boolean } | undefined)?.trusted === true)
          emitTrustedDiagnosticEvent(input.event as never);
        else emitDiagnosticEvent(input.event as never);
      } else {
        for (const host of hosts)
          await host.fireHook(input.name, input.event, (input.context ?? {}) as Record<string, unknown>);
      }
    }
    // the host drains async events between turns; the pack handles input on later turns of the loop
    await waitForDiagnosticEventsDrained();
    await turnOfLoop();
  }
}

// ---------------------------------------------------------------------------------------------
// receivers, in their own process

export interface BackendCounts {
  requests: Record<string, number>;
  turns: number;
  spans: number;
  logRecords: number;
  metricPoints: number;
  scores: number;
  bytes: number;
  errors: string[];
}
export type Counts = Record<ExtensionName, BackendCounts>;

export interface Receivers {
  ports: Record<ExtensionName, number>;
  counts(): Promise<Counts>;
  reset(): Promise<void>;
  close(): void;
}

export async function startReceivers(): Promise<Receivers> {
  const child: ChildProcess = fork(path.join(here, "receivers.ts"), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let exited: Error | undefined;
  const failures = new Set<(error: Error) => void>();
  child.once("exit", (code) => {
    exited = new Error(`the receivers' process exited with ${code}`);
    for (const fail of failures) fail(exited);
  });
  const ask = <T>(message: string, key: string): Promise<T> =>
    new Promise((resolve, reject) => {
      if (exited) return reject(exited);
      const onMessage = (reply: Record<string, unknown>) => {
        if (!(key in reply)) return;
        child.off("message", onMessage);
        failures.delete(reject);
        resolve(reply[key] as T);
      };
      failures.add(reject);
      child.on("message", onMessage);
      if (message) child.send(message);
    });
  const ports = await ask<Record<ExtensionName, number>>("", "ports");
  return {
    ports,
    counts: () => ask<Counts>("counts", "counts"),
    reset: async () => {
      await ask("reset", "reset");
    },
    close: () => child.kill(),
  };
}

// ---------------------------------------------------------------------------------------------
// the gateway side: built extensions in fake hosts

export function configFor(
  name: ExtensionName,
  ports: Record<ExtensionName, number>,
): Record<string, unknown> {
  if (name === "otel") return { endpoint: `http://127.0.0.1:${ports.otel}` };
  if (name === "mlflow") return { trackingUri: `http://127.0.0.1:${ports.mlflow}`, experimentName: "bench" };
  return {
    publicKey: "pk-lf-bench",
    secretKey: "sk-lf-bench",
    baseUrl: `http://127.0.0.1:${ports.langfuse}`,
  };
}

const entries = new Map<ExtensionName, unknown>();
async function builtEntry(name: ExtensionName): Promise<unknown> {
  if (!entries.has(name)) {
    const file = path.join(repoRoot, "extensions", name, "dist", "index.js");
    entries.set(name, await import(pathToFileURL(file).href));
  }
  return entries.get(name);
}

const HOST_CONFIG = { agents: { list: [{ id: "main" }] }, diagnostics: { enabled: true } };

export async function startPack(
  names: readonly ExtensionName[],
  settings: Record<string, unknown>,
  ports: Record<ExtensionName, number>,
  stateRoot: string,
): Promise<FakeHost[]> {
  const hosts: FakeHost[] = [];
  for (const name of names) {
    const host = await createFakeHost((await builtEntry(name)) as never, {
      stateDir: await mkdtemp(path.join(stateRoot, `${name}-`)),
      pluginConfig: { ...configFor(name, ports), ...settings },
      hostConfig: HOST_CONFIG,
    });
    await host.startServices();
    hosts.push(host);
  }
  return hosts;
}

/** The baseline: one no-op bus subscriber and a plugin whose handlers on the pack's hooks do nothing. */
export async function startBaseline(stateRoot: string): Promise<{ hosts: FakeHost[]; stop: () => void }> {
  const unsubscribe = onInternalDiagnosticEvent(() => undefined, { include: [...TURN_EVENT_TYPES] } as never);
  const entry = {
    id: "noop-baseline",
    register(api: { on: (name: string, handler: () => undefined) => void }) {
      for (const name of HOOK_NAMES) api.on(name, () => undefined);
    },
  };
  const host = await createFakeHost(entry as never, {
    stateDir: await mkdtemp(path.join(stateRoot, "baseline-")),
    hostConfig: HOST_CONFIG,
  });
  return { hosts: [host], stop: unsubscribe };
}

const FLOOR_ID = "clawscope-bench-floor";
let floorEntry: Promise<unknown> | undefined;

/**
 * `floor-plugin/index.ts` bundled as the extensions are (`scripts/tsup-extension.ts`), into
 * `bench/.floor-build/` so the host it leaves external resolves from the bench's dependencies.
 */
async function buildFloorPlugin(): Promise<unknown> {
  const { build } = await import("tsup");
  // the extensions' own build options (a URL import: that script is outside the bench's project)
  const shared = pathToFileURL(path.join(repoRoot, "scripts", "tsup-extension.ts")).href;
  const { defineExtensionBuild } = (await import(shared)) as { defineExtensionBuild: () => unknown };
  const outDir = path.join(here, ".floor-build");
  const options = defineExtensionBuild() as Record<string, unknown>;
  await build({
    ...options,
    entry: { index: path.join(here, "floor-plugin", "index.ts") },
    outDir,
    sourcemap: false,
    silent: true,
  } as never);
  return import(pathToFileURL(path.join(outDir, "index.js")).href);
}

/** The floor plugin (the kit's assembly handing turns to a service that does nothing) in a fake host. */
export async function startFloor(stateRoot: string): Promise<FakeHost[]> {
  floorEntry ??= buildFloorPlugin();
  const host = await createFakeHost((await floorEntry) as never, {
    stateDir: await mkdtemp(path.join(stateRoot, "floor-")),
    hostConfig: HOST_CONFIG,
  });
  await host.startServices();
  return [host];
}

/** Resolves once every extension assembled `turns` turns and holds none open. */
export async function untilAssembled(names: readonly ExtensionName[], turns: number, timeoutMs = 120_000) {
  await untilPluginsAssembled(
    names.map((name) => PLUGIN_IDS[name]),
    turns,
    timeoutMs,
  );
}

async function untilPluginsAssembled(ids: readonly string[], turns: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const done = ids.every((id) => {
      const health = readRuntime(id)?.health();
      return health !== undefined && health.turns.assembled >= turns && health.turns.open === 0;
    });
    if (done) return;
    if (Date.now() > deadline) {
      const states = ids.map((id) => JSON.stringify(readRuntime(id)?.health().turns));
      throw new Error(`turns not assembled in time: ${states.join(" ")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Throws unless every backend of `names` got every turn. */
export function checkDelivered(names: readonly ExtensionName[], counts: Counts, turns: number): void {
  for (const name of names) {
    const got = counts[name];
    if (got.errors.length > 0) throw new Error(`${name} receiver could not read a request: ${got.errors[0]}`);
    if (got.turns !== turns)
      throw new Error(`${name} receiver got ${got.turns} of ${turns} turns: ${JSON.stringify(got.requests)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// the benchmark

interface Scenario {
  name: string;
  extensions: readonly ExtensionName[];
  settings: Record<string, unknown>;
  /** The kit's assembly alone (`floor-plugin`, no extension): the floor every extension stands on. */
  assemblyOnly?: boolean;
}

const DEFAULTS = {};
const SMALL_BATCHES = { flushIntervalMs: 100 };
const NO_SPOOL = { spoolMaxBytes: 0 };

const SCENARIOS: Scenario[] = [
  { name: "baseline", extensions: [], settings: {} },
  { name: "kit assembly only (the floor)", extensions: [], settings: {}, assemblyOnly: true },
  ...EXTENSIONS.map((name) => ({ name: `${name}, defaults`, extensions: [name], settings: DEFAULTS })),
  { name: "all three, defaults", extensions: EXTENSIONS, settings: DEFAULTS },
  { name: "all three, defaults, no spool", extensions: EXTENSIONS, settings: { ...NO_SPOOL } },
  ...EXTENSIONS.map((name) => ({
    name: `${name}, small batches`,
    extensions: [name],
    settings: SMALL_BATCHES,
  })),
  { name: "all three, small batches", extensions: EXTENSIONS, settings: SMALL_BATCHES },
  {
    name: "all three, small batches, no spool",
    extensions: EXTENSIONS,
    settings: { ...SMALL_BATCHES, ...NO_SPOOL },
  },
];

const gc = (globalThis as { gc?: () => void }).gc;

async function measure(
  scenario: Scenario,
  sets: CapturedInput[][],
  receivers: Receivers,
  stateRoot: string,
): Promise<{ cpuUs: number; counts?: Counts }> {
  const turns = sets.length * TURNS_PER_SET;
  /** The measured window: the replay and `finish` (whatever the scenario waits for), in CPU µs per turn. */
  const timed = async (hosts: readonly FakeHost[], finish: () => Promise<void>) => {
    gc?.();
    const profiler = await startProfile();
    const before = process.cpuUsage();
    await replay(sets, hosts);
    await finish();
    const used = process.cpuUsage(before);
    await profiler?.stop(scenario.name);
    return (used.user + used.system) / turns;
  };
  if (scenario.assemblyOnly) {
    const hosts = await startFloor(stateRoot);
    const cpuUs = await timed(hosts, async () => {
      await untilPluginsAssembled([FLOOR_ID], turns, 120_000);
      for (const host of hosts) await host.stopServices();
    });
    for (const host of hosts) await host.cleanup();
    return { cpuUs };
  }
  if (scenario.extensions.length === 0) {
    const baseline = await startBaseline(stateRoot);
    const cpuUs = await timed(baseline.hosts, async () => undefined);
    baseline.stop();
    for (const host of baseline.hosts) await host.cleanup();
    return { cpuUs };
  }
  const hosts = await startPack(scenario.extensions, scenario.settings, receivers.ports, stateRoot);
  // let start-up work (the MLflow run, first connections) finish: it is not per-turn cost
  await new Promise((resolve) => setTimeout(resolve, 300));
  await receivers.reset();
  const cpuUs = await timed(hosts, async () => {
    await untilAssembled(scenario.extensions, turns);
    // a graceful stop sends everything still queued (batches, the last metrics)
    for (const host of hosts) await host.stopServices();
  });
  const counts = await receivers.counts();
  checkDelivered(scenario.extensions, counts, turns);
  for (const host of hosts) await host.cleanup();
  return { cpuUs, counts };
}

/** With BENCH_PROFILE=<dir>, a V8 CPU profile of each measured window (the last round's wins). */
async function startProfile(): Promise<{ stop: (name: string) => Promise<void> } | undefined> {
  const dir = process.env.BENCH_PROFILE;
  if (!dir) return undefined;
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 100 });
  await session.post("Profiler.start");
  return {
    async stop(name) {
      const { profile } = await session.post("Profiler.stop");
      session.disconnect();
      await writeFile(
        path.join(dir, `${name.replace(/[^a-z0-9]+/gi, "-")}.cpuprofile`),
        JSON.stringify(profile),
      );
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? Number.NaN) + (sorted[middle] ?? Number.NaN)) / 2;
}

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY?.split(",").map((name) => name.trim());
  const scenarios = only
    ? SCENARIOS.filter(
        (scenario) =>
          scenario.name === "baseline" ||
          scenario.assemblyOnly === true ||
          only.some((name) => scenario.name.startsWith(name)),
      )
    : SCENARIOS;
  const workload = loadWorkload();
  const stateRoot = await mkdtemp(path.join(tmpdir(), "clawscope-pack-bench-"));
  const receivers = await startReceivers();
  const samples = new Map<string, number[]>(scenarios.map((scenario) => [scenario.name, []]));
  const lastCounts = new Map<string, Counts>();
  let replayCount = 0;
  const nextSets = (count: number) =>
    Array.from({ length: count }, () => {
      replayCount += 1;
      return renumber(workload, replayCount);
    });
  try {
    // round 0 warms up (JIT, module loading, first connections) and is not counted
    for (let round = 0; round <= ROUNDS; round += 1) {
      for (const scenario of scenarios) {
        const sets = nextSets(round === 0 ? Math.min(40, TURN_SETS) : TURN_SETS);
        const result = await measure(scenario, sets, receivers, stateRoot);
        if (round > 0) samples.get(scenario.name)?.push(result.cpuUs);
        if (result.counts) lastCounts.set(scenario.name, result.counts);
        if (process.env.BENCH_DEBUG) {
          const bus = (globalThis as Record<symbol, { listeners?: Map<unknown, unknown> }>)[
            Symbol.for("openclaw.diagnosticEvents.state.v1")
          ];
          process.stderr.write(
            `${scenario.name}: ${result.cpuUs.toFixed(0)} µs/turn, bus listeners after: ${bus?.listeners?.size}\n`,
          );
        }
      }
      if (round > 0) process.stderr.write(`round ${round}/${ROUNDS} done\n`);
    }
  } finally {
    receivers.close();
    await rm(stateRoot, { recursive: true, force: true });
  }

  const baseline = median(samples.get("baseline") ?? []);
  console.log(
    `\nclawscope pack cost, end to end — ${TURN_SETS * TURNS_PER_SET} turns per round, ${ROUNDS} rounds (interleaved), medians`,
  );
  console.log(
    `node ${process.version}; built extensions through the fake host and the real diagnostic bus; receivers in another process; workload: captured/e2e-http-2turns\n`,
  );
  console.log(
    `${"scenario".padEnd(38)}${"CPU µs/turn".padStart(12)}${"spread".padStart(16)}${"vs baseline".padStart(13)}   requests (last round)`,
  );
  for (const [name, values] of samples) {
    const value = median(values);
    const spread = `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`;
    const counts = lastCounts.get(name);
    const requests = counts
      ? EXTENSIONS.filter(
          (extension) => counts[extension].turns > 0 || Object.keys(counts[extension].requests).length > 0,
        )
          .map(
            (extension) =>
              `${extension} ${Object.values(counts[extension].requests).reduce((a, b) => a + b, 0)}`,
          )
          .join(", ")
      : "";
    console.log(
      `${name.padEnd(38)}${value.toFixed(0).padStart(12)}${spread.padStart(16)}${`${(value / baseline).toFixed(2)}x`.padStart(13)}   ${requests}`,
    );
  }
  const pick = (name: string) => median(samples.get(name) ?? []);
  const spoolCost = (withSpool: string, without: string) =>
    samples.has(withSpool) && samples.has(without)
      ? `${(pick(withSpool) - pick(without)).toFixed(0)} µs/turn (${((pick(withSpool) - pick(without)) / baseline).toFixed(2)}x baseline)`
      : "-";
  console.log(
    `\nthe spool with healthy backends, all three: defaults ${spoolCost("all three, defaults", "all three, defaults, no spool")}; small batches ${spoolCost("all three, small batches", "all three, small batches, no spool")}`,
  );
  const floorName = SCENARIOS.find((scenario) => scenario.assemblyOnly)?.name ?? "";
  if (samples.has(floorName)) {
    const floor = pick(floorName);
    console.log(
      `the floor, the kit's turn assembly paid once per process: ${(floor - baseline).toFixed(0)} µs/turn over the baseline (${(floor / baseline).toFixed(2)}x); each extension's own mapping, encoding and sending is its figure minus ${(floor / baseline).toFixed(2)}x`,
    );
  }
  if (samples.has("all three, defaults")) {
    const all = pick("all three, defaults") / baseline;
    const single = EXTENSIONS.map((name) => [name, pick(`${name}, defaults`) / baseline] as const);
    const worst = single.reduce((a, b) => (b[1] > a[1] ? b : a));
    console.log(
      `goal at the production defaults: all three ≤ 3x (now ${all.toFixed(2)}x), each ≤ 1.5x (worst: ${worst[0]} ${worst[1].toFixed(2)}x)`,
    );
    if (samples.has(floorName) && pick(floorName) / baseline > 1.5)
      console.log(
        `  each ≤ 1.5x cannot hold while the floor alone is ${(pick(floorName) / baseline).toFixed(2)}x: no extension can cost less than the assembly it stands on`,
      );
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await main();
