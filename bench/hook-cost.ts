/**
 * The pack's cost inside the gateway's hook dispatch, which runs in the middle of an agent run: the
 * time a hook call spends in the pack's handler, as a ratio to a no-op handler on the same hooks,
 * with one and with five extensions — measured in one run, in interleaved rounds whose scenario
 * order rotates, with a GC before each, so no scenario inherits another's garbage. The pack only
 * queues the call there; what it does later, off the run's path, is measured too: the total (CPU
 * time of the dispatch plus the work queued by it) is the figure that cannot hide a cost.
 *
 * Workload: the hook calls of a captured gateway run (a tool turn and a plain turn), with fresh run
 * ids per replay, fired through the fake host's dispatch (the handlers the plugin registered).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import {
  createPackPlugin,
  defineConfig,
  PACK_HOOKS,
  type PackService,
  packConfigFields,
} from "@clawscope/kit";
import { createFakeHost, type FakeHost, loadCapturedScenario } from "@clawscope/testing";
import { onInternalDiagnosticEvent } from "openclaw/plugin-sdk/diagnostic-runtime";

const TURN_SETS_PER_ROUND = Number(process.env.BENCH_TURN_SETS ?? 150);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const HOOK_NAMES: readonly string[] = [...PACK_HOOKS.plain, ...PACK_HOOKS.conversation];

type HookCall = { name: string; event: unknown; context: Record<string, unknown> };

function loadHookCalls(): HookCall[] {
  return loadCapturedScenario("e2e-http-2turns")
    .hooks.filter((row) => HOOK_NAMES.includes(row.hook))
    .map((row) => ({
      name: row.hook,
      event: row.event,
      context: (row.ctx ?? {}) as Record<string, unknown>,
    }));
}

/** Fresh run ids per replay so every turn is new to the assembler, as in production. */
function renumber(calls: HookCall[], replay: number): HookCall[] {
  return JSON.parse(
    JSON.stringify(calls).replace(/chatcmpl_[0-9a-f-]+/g, (id) => `${id}-h${replay}`),
  ) as HookCall[];
}

const definition = defineConfig({ ...packConfigFields });

function packEntry(id: string) {
  return createPackPlugin(
    {
      id,
      name: id,
      description: "benchmark extension",
      config: definition,
      start(context: { createPipeline: (name: string, options: unknown) => unknown }): PackService {
        const pipeline = context.createPipeline("bench", { send: async () => ({ kind: "ok" }) }) as {
          enqueue: (id: string, item: unknown) => void;
        };
        return { onTurn: (turn) => pipeline.enqueue(turn.id, turn) };
      },
    } as never,
    { subscribe: onInternalDiagnosticEvent as never },
  );
}

function noopEntry(id: string) {
  return {
    id,
    register(api: { on: (name: string, handler: () => undefined) => void }) {
      for (const name of HOOK_NAMES) api.on(name, () => undefined);
    },
  };
}

const turnOfLoop = () => new Promise((resolve) => setImmediate(resolve));

/** Times the hook calls, and the queued work drained after each set apart; the total is process CPU. */
async function fireAll(
  hosts: FakeHost[],
  sets: HookCall[][],
): Promise<{ hookNs: number; drainNs: number; totalNs: number }> {
  let calls = 0;
  let hookMs = 0;
  let drainMs = 0;
  const cpuBefore = process.cpuUsage();
  for (const set of sets) {
    for (const call of set) {
      const started = performance.now();
      for (const host of hosts) await host.fireHook(call.name, call.event, call.context);
      hookMs += performance.now() - started;
      calls += 1;
    }
    const drained = performance.now();
    await turnOfLoop();
    await turnOfLoop();
    drainMs += performance.now() - drained;
  }
  const cpu = process.cpuUsage(cpuBefore);
  return {
    hookNs: (hookMs * 1e6) / calls,
    drainNs: (drainMs * 1e6) / calls,
    totalNs: ((cpu.user + cpu.system) * 1e3) / calls,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function main(): Promise<void> {
  const workload = loadHookCalls();
  const stateRoot = await mkdtemp(path.join(tmpdir(), "clawscope-hook-bench-"));
  const start = async (count: number, make: (id: string) => unknown): Promise<FakeHost[]> => {
    const hosts: FakeHost[] = [];
    for (let index = 0; index < count; index += 1) {
      const id = `clawscope-hookbench${index + 1}`;
      const host = await createFakeHost(make(id) as never, {
        stateDir: path.join(stateRoot, `${id}-${Math.random().toString(16).slice(2)}`),
        pluginConfig: { settleMs: 0 },
      });
      await host.startServices();
      hosts.push(host);
    }
    return hosts;
  };
  const scenarios: Array<{ name: string; hosts: () => Promise<FakeHost[]> }> = [
    { name: "no-op hook handler", hosts: () => start(1, noopEntry) },
    { name: "five no-op handlers", hosts: () => start(5, noopEntry) },
    { name: "pack: 1 extension", hosts: () => start(1, packEntry) },
    { name: "pack: 5 extensions", hosts: () => start(5, packEntry) },
  ];
  const samples = new Map(
    scenarios.map((scenario) => [
      scenario.name,
      { hook: [] as number[], drain: [] as number[], total: [] as number[] },
    ]),
  );
  let replay = 0;
  const nextSets = (count: number) =>
    Array.from({ length: count }, () => {
      replay += 1;
      return renumber(workload, replay);
    });
  const collect = (globalThis as { gc?: () => void }).gc;
  for (let round = -1; round < ROUNDS; round += 1) {
    const shift = Math.max(0, round) % scenarios.length;
    for (const scenario of [...scenarios.slice(shift), ...scenarios.slice(0, shift)]) {
      const hosts = await scenario.hosts();
      collect?.();
      // round -1 warms up (JIT, module loading) and is not counted
      const measured = await fireAll(hosts, nextSets(round < 0 ? 20 : TURN_SETS_PER_ROUND));
      if (round >= 0) {
        samples.get(scenario.name)?.hook.push(measured.hookNs);
        samples.get(scenario.name)?.drain.push(measured.drainNs);
        samples.get(scenario.name)?.total.push(measured.totalNs);
      }
      for (const host of hosts) await host.cleanup();
    }
  }
  await rm(stateRoot, { recursive: true, force: true });

  const noop = median(samples.get("no-op hook handler")?.hook ?? []);
  console.log(
    `\nclawscope hook cost — ${workload.length} hook calls per 2-turn set, ${TURN_SETS_PER_ROUND} sets, ${ROUNDS} rounds, medians`,
  );
  if (!collect) console.log("(run node with --expose-gc for a GC before each scenario)");
  const noopTotal = median(samples.get("no-op hook handler")?.total ?? []);
  console.log(
    "scenario                  in dispatch ns/call   vs no-op   off the path ns/call   total CPU ns/call   vs no-op",
  );
  for (const [name, values] of samples) {
    const hook = median(values.hook);
    const total = median(values.total);
    console.log(
      `${name.padEnd(26)}${hook.toFixed(0).padStart(19)}   ${(hook / noop).toFixed(2).padStart(7)}x   ${median(values.drain).toFixed(0).padStart(20)}   ${total.toFixed(0).padStart(17)}   ${(total / noopTotal).toFixed(2).padStart(7)}x`,
    );
  }
  const totalOf = (name: string) => median(samples.get(name)?.total ?? []);
  console.log(
    `\nhook cost, total CPU vs no-op handlers: 1 extension ${(totalOf("pack: 1 extension") / noopTotal).toFixed(2)}x, 5 extensions ${(totalOf("pack: 5 extensions") / totalOf("five no-op handlers")).toFixed(2)}x (vs five no-op)`,
  );
}

await main();
