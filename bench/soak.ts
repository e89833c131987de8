/**
 * The pack's heap over a long run: 100 000 turns (BENCH_SOAK_TURNS) through the three built
 * extensions at their production defaults, the captured workload replayed with fresh ids through
 * the fake host and the real diagnostic bus, receivers in another process. The heap after a full GC
 * is read once the first 10 000 turns are assembled and delivered, and again at the end; the goal is
 * an end within 5 MiB of the first reading (no per-turn growth: bookkeeping of finished turns,
 * sessions, dedup sets and queues must all be bounded).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { readRuntime } from "@clawscope/kit";
import type { FakeHost } from "@clawscope/testing";
import {
  checkDelivered,
  EXTENSIONS,
  loadWorkload,
  renumber,
  replay,
  startPack,
  startReceivers,
  untilAssembled,
} from "./pack-cost.js";

const TOTAL_TURNS = Number(process.env.BENCH_SOAK_TURNS ?? 100_000);
const FIRST_READING_TURNS = Math.min(10_000, Math.floor(TOTAL_TURNS / 10));
const SETS_PER_CHUNK = 250; // 500 turns between checks that the pack keeps up
const GOAL_MIB = 5;
const MIB = 1024 * 1024;

const gc = (globalThis as { gc?: () => void }).gc;

async function settledHeap(): Promise<number> {
  // let timers and sends finish, then collect twice (weak refs and finalizers need a second pass)
  await new Promise((resolve) => setTimeout(resolve, 500));
  gc?.();
  await new Promise((resolve) => setImmediate(resolve));
  gc?.();
  return process.memoryUsage().heapUsed;
}

async function main(): Promise<void> {
  if (!gc) throw new Error("run with node --expose-gc");
  const workload = loadWorkload();
  const turnsPerSet = 2;
  const stateRoot = await mkdtemp(path.join(tmpdir(), "clawscope-soak-"));
  const receivers = await startReceivers();
  let hosts: FakeHost[] = [];
  try {
    hosts = await startPack(EXTENSIONS, {}, receivers.ports, stateRoot);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await receivers.reset();
    let replayed = 0;
    let turns = 0;
    let first: { turns: number; heap: number } | undefined;
    const started = Date.now();
    const cpuBefore = process.cpuUsage();
    while (turns < TOTAL_TURNS) {
      const sets = Array.from({ length: SETS_PER_CHUNK }, () => renumber(workload, ++replayed));
      await replay(sets, hosts);
      turns += SETS_PER_CHUNK * turnsPerSet;
      await untilAssembled(EXTENSIONS, turns);
      if (!first && turns >= FIRST_READING_TURNS) {
        first = { turns, heap: await settledHeap() };
        process.stderr.write(`soak: ${turns} turns, heap after GC ${(first.heap / MIB).toFixed(1)} MiB\n`);
      } else if (turns % 10_000 === 0) {
        process.stderr.write(
          `soak: ${turns} turns, heap ${(process.memoryUsage().heapUsed / MIB).toFixed(1)} MiB (before GC)\n`,
        );
      }
    }
    const cpu = process.cpuUsage(cpuBefore);
    // everything sent before the last reading: queues and batches empty
    const deadline = Date.now() + 60_000;
    for (;;) {
      const pending = EXTENSIONS.reduce(
        (sum, name) => sum + (readRuntime(`clawscope-${name}`)?.health().export.pending ?? 0),
        0,
      );
      if (pending === 0) break;
      if (Date.now() > deadline) throw new Error(`${pending} items still pending a minute after the soak`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const end = await settledHeap();
    for (const host of hosts) await host.stopServices();
    checkDelivered(EXTENSIONS, await receivers.counts(), turns);
    const base = first?.heap ?? end;
    const growth = (end - base) / MIB;
    console.log(
      `\nclawscope soak — ${turns} turns through otel, mlflow and langfuse at the defaults, in ${Math.round((Date.now() - started) / 1000)} s (${((cpu.user + cpu.system) / turns) | 0} µs CPU/turn), every turn delivered`,
    );
    console.log(
      `heap after GC: ${(base / MIB).toFixed(1)} MiB after ${first?.turns ?? turns} turns, ${(end / MIB).toFixed(1)} MiB after ${turns}: ${growth >= 0 ? "+" : ""}${growth.toFixed(2)} MiB (goal: within ${GOAL_MIB} MiB) — ${Math.abs(growth) <= GOAL_MIB ? "met" : "NOT met"}`,
    );
    if (Math.abs(growth) > GOAL_MIB) process.exitCode = 1;
  } finally {
    for (const host of hosts) await host.cleanup().catch(() => undefined);
    receivers.close();
    await rm(stateRoot, { recursive: true, force: true });
  }
}

await main();
