/**
 * The pack's cost per diagnostic event on the real OpenClaw bus, as a ratio to a no-op subscriber,
 * with one and with five extensions attached — all measured in one run, in interleaved rounds so
 * machine noise hits every scenario alike. Run with `pnpm bench` (Node 24, through pnpm).
 *
 * Workload: the real event stream of a captured gateway run (a tool turn and a plain turn), replayed
 * with fresh run and trace ids, emitted with the host's own emit functions, drained like the host does.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import {
  type ConfigOf,
  createPackPlugin,
  defineConfig,
  type PackService,
  type PackStartContext,
  packConfigFields,
  readEventHubStats,
  TURN_EVENT_TYPES,
} from "@clawscope/kit";
import { createFakeHost, loadCapturedScenario } from "@clawscope/testing";
import {
  emitDiagnosticEvent,
  emitTrustedDiagnosticEvent,
  onInternalDiagnosticEvent,
  waitForDiagnosticEventsDrained,
} from "openclaw/plugin-sdk/diagnostic-runtime";

const TURN_SETS_PER_ROUND = Number(process.env.BENCH_TURN_SETS ?? 150);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

type Row = { event: Record<string, unknown>; trusted: boolean };

function loadWorkload(): Row[] {
  const scenario = loadCapturedScenario("e2e-http-2turns");
  return scenario.internal.map((row) => ({
    event: row.event as Record<string, unknown>,
    trusted: (row.metadata as { trusted?: boolean }).trusted === true,
  }));
}

/** Fresh ids per replay so every turn is new to the assembler, as in production. */
function renumber(rows: Row[], replay: number): Row[] {
  const text = JSON.stringify(rows)
    .replace(/chatcmpl_[0-9a-f-]+/g, (id) => `${id}-r${replay}`)
    .replace(
      /"traceId":"([0-9a-f]{24})[0-9a-f]{8}"/g,
      (_match, head: string) => `"traceId":"${head}${replay.toString(16).padStart(8, "0")}"`,
    );
  return (JSON.parse(text) as Row[]).map((row) => {
    const { seq: _seq, ts: _ts, ...event } = row.event;
    return { event, trusted: row.trusted };
  });
}

const extensionDefinition = defineConfig({ ...packConfigFields });

/** An extension as a backend would be: every turn goes into an export pipeline (spooled, no-op send). */
function createBenchExtension(id: string) {
  return createPackPlugin(
    {
      id,
      name: id,
      description: "benchmark extension",
      config: extensionDefinition,
      start(context: PackStartContext<ConfigOf<typeof extensionDefinition>>): PackService {
        const pipeline = context.createPipeline<unknown>("bench", { send: async () => ({ kind: "ok" }) });
        return { onTurn: (turn) => pipeline.enqueue(turn.id, turn) };
      },
    },
    { subscribe: onInternalDiagnosticEvent as never },
  );
}

interface Scenario {
  name: string;
  attach: () => Promise<() => Promise<void>>;
}

async function emitAll(sets: Row[][]): Promise<number> {
  let events = 0;
  const started = performance.now();
  for (const rows of sets) {
    for (const row of rows) {
      if (row.trusted) emitTrustedDiagnosticEvent(row.event as never);
      else emitDiagnosticEvent(row.event as never);
      events += 1;
    }
    // the host drains async events between turns, and the pack handles its input on the next turns of
    // the loop (never inside emit): wait for both, in every scenario, so totals stay comparable
    await waitForDiagnosticEventsDrained();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  }
  return ((performance.now() - started) * 1e6) / events;
}

function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function main(): Promise<void> {
  const workload = loadWorkload();
  const stateRoot = await mkdtemp(path.join(tmpdir(), "clawscope-bench-"));
  const startExtensions = (count: number) => async () => {
    const hosts: Array<{ stopServices: () => Promise<void> }> = [];
    for (let index = 0; index < count; index += 1) {
      const id = `clawscope-bench${index + 1}`;
      const host = await createFakeHost(createBenchExtension(id) as never, {
        stateDir: path.join(stateRoot, id),
        pluginConfig: { settleMs: 0 },
      });
      await host.startServices();
      hosts.push(host);
    }
    return async () => {
      for (const host of hosts) await host.stopServices();
    };
  };
  const scenarios: Scenario[] = [
    { name: "no subscriber (host alone)", attach: async () => async () => {} },
    {
      name: "no-op subscriber",
      attach: async () => {
        const unsubscribe = onInternalDiagnosticEvent(() => {}, { include: [...TURN_EVENT_TYPES] } as never);
        return async () => unsubscribe();
      },
    },
    {
      name: "five no-op subscribers (no hub)",
      attach: async () => {
        const unsubscribes = [1, 2, 3, 4, 5].map(() =>
          onInternalDiagnosticEvent(() => {}, { include: [...TURN_EVENT_TYPES] } as never),
        );
        return async () => {
          for (const unsubscribe of unsubscribes) unsubscribe();
        };
      },
    },
    { name: "pack: 1 extension", attach: startExtensions(1) },
    { name: "pack: 5 extensions", attach: startExtensions(5) },
  ];
  const samples = new Map<string, number[]>(scenarios.map((scenario) => [scenario.name, []]));
  let replay = 0;
  const nextSets = () =>
    Array.from({ length: TURN_SETS_PER_ROUND }, () => {
      replay += 1;
      return renumber(workload, replay);
    });

  // warm-up: JIT, module loading, first spool directories
  for (const scenario of scenarios) {
    const detach = await scenario.attach();
    await emitAll(nextSets().slice(0, 20));
    await detach();
  }
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const scenario of scenarios) {
      const sets = nextSets();
      const detach = await scenario.attach();
      if (scenario.name.startsWith("pack") && readEventHubStats()?.subscriptions !== 1) {
        throw new Error(
          `expected one shared bus subscription, hub says ${JSON.stringify(readEventHubStats())}`,
        );
      }
      samples.get(scenario.name)?.push(await emitAll(sets));
      await detach();
    }
  }
  await rm(stateRoot, { recursive: true, force: true });

  const perEvent = new Map([...samples].map(([name, values]) => [name, median(values)]));
  const hostAlone = perEvent.get("no subscriber (host alone)") ?? Number.NaN;
  const noop = perEvent.get("no-op subscriber") ?? Number.NaN;
  const eventsPerRound = workload.length * TURN_SETS_PER_ROUND;
  console.log(
    `clawscope bus cost — ${eventsPerRound} events per round (${workload.length} per 2-turn set), ${ROUNDS} rounds, medians`,
  );
  console.log(`node ${process.version}, openclaw diagnostic bus, workload: captured/e2e-http-2turns\n`);
  console.log("scenario                          ns/event   vs no-op   added over host, vs no-op's");
  for (const [name, value] of perEvent) {
    const ratio = value / noop;
    const added = (value - hostAlone) / (noop - hostAlone);
    console.log(
      `${name.padEnd(32)} ${value.toFixed(0).padStart(9)}   ${ratio.toFixed(2).padStart(7)}x   ${Number.isFinite(added) ? `${added.toFixed(2)}x` : "-"}`,
    );
  }
  const one = perEvent.get("pack: 1 extension") ?? Number.NaN;
  const five = perEvent.get("pack: 5 extensions") ?? Number.NaN;
  console.log(
    `\nratio to a no-op subscriber: 1 extension ${(one / noop).toFixed(2)}x, 5 extensions ${(five / noop).toFixed(2)}x`,
  );
}

await main();
