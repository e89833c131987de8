/**
 * clawscope-memory-consolidation on a real MongoDB-wire server (FerretDB) that is down when the
 * gateway starts and goes down again mid-run: the turns wait in the spool, nothing reaches the
 * gateway as an exception, and once the server is back every turn is in the facts and the minute
 * rollups, once.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createPackPlugin, type SubscribeToBus } from "@clawscope/kit";
import { openStore, type Store } from "@clawscope/store";
import {
  buildTurnEvents,
  createFakeHost,
  createManualClock,
  type FakeHost,
  type FerretDbServer,
  startFerretDb,
  type TurnSpec,
  waitFor,
} from "@clawscope/testing";
import {
  emitTrustedDiagnosticEvent,
  onInternalDiagnosticEvent,
  waitForDiagnosticEventsDrained,
} from "openclaw/plugin-sdk/diagnostic-runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MinuteRollup } from "../../extensions/memory-consolidation/src/domain/minute-rollup.js";
import { createMemoryPluginSpec } from "../../extensions/memory-consolidation/src/plugin-spec.js";
import { COLLECTIONS } from "../../extensions/memory-consolidation/src/store/collections.js";

let ferret: FerretDbServer;
let stateDir: string;
let host: FakeHost | undefined;
let reader: Store | undefined;

beforeAll(async () => {
  ferret = await startFerretDb();
  stateDir = await mkdtemp(path.join(tmpdir(), "clawscope-memory-outage-"));
}, 900_000);
afterAll(async () => {
  await host?.cleanup();
  await reader?.close();
  await ferret?.dispose();
  await rm(stateDir, { recursive: true, force: true });
});

const turn = (index: number, startTs: number): TurnSpec => ({
  runId: `outage-${index}`,
  startTs,
  modelCalls: [{ usage: { input: 100 + index, output: 10 + index } }],
});

async function replay(target: FakeHost, spec: TurnSpec): Promise<void> {
  const built = buildTurnEvents(spec);
  for (const input of built.inputs) {
    if (input.kind === "event") emitTrustedDiagnosticEvent(input.event as never);
    else await target.fireHook(input.name, input.event, input.context as Record<string, unknown>);
  }
  await waitForDiagnosticEventsDrained();
}

describe("the memory's store going down", () => {
  it("keeps every turn through a store down at start and down again mid-run, and rolls each up once", async () => {
    await ferret.stop();
    const now = Date.now();
    const clock = createManualClock(now);
    const entry = () =>
      createPackPlugin(createMemoryPluginSpec(), {
        subscribe: onInternalDiagnosticEvent as SubscribeToBus,
        clock,
      });
    host = await createFakeHost(entry, {
      stateDir,
      pluginConfig: {
        store: { kind: "mongodb", uri: `${ferret.uri}?directConnection=true&serverSelectionTimeoutMS=1500` },
        gatewayName: "gw-outage",
        flushIntervalMs: 100,
        settleMs: 50,
        retryMaxDelayMs: 1_000,
      },
    });
    await host.startServices();
    const expected = { turns: 0, input: 0, output: 0 };
    const play = async (index: number) => {
      await replay(host as FakeHost, turn(index, now + index * 1_000));
      expected.turns += 1;
      expected.input += 100 + index;
      expected.output += 10 + index;
    };

    // down at start: the turns are taken, the health route says the store is unreachable
    for (let index = 0; index < 3; index += 1) await play(index);
    await clock.advance(60_000);
    const health = await host.callRoute("/api/persistence/health");
    expect(health.status).toBeLessThan(500);
    expect((health.json as { store: { reachable: boolean } }).store.reachable).toBe(false);

    // back: what waited arrives
    await ferret.start();
    reader = await openStore({
      kind: "mongodb",
      uri: `${ferret.uri}?directConnection=true`,
      database: "clawscope",
      collections: COLLECTIONS,
    });
    const facts = () => (reader as Store).collection("turn_facts").count({ from: 0 });
    // the store is opened again at most once per 5 s of the extension's (fake) clock: let it move
    const factsReach = (count: number) =>
      waitFor(async () => {
        await clock.advance(5_000);
        return (await facts()) === count;
      }, 30_000);
    await factsReach(3);

    // down mid-run, with turns and a rollup due meanwhile
    await ferret.stop();
    for (let index = 3; index < 6; index += 1) await play(index);
    await clock.advance(60_000);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await ferret.start();
    await factsReach(6);

    // the next minutes roll everything up: each turn once, with the gateway's tokens
    const rollups = async () =>
      (reader as Store).collection<MinuteRollup>("metrics").find({ where: {}, from: 0 });
    await waitFor(async () => {
      await clock.advance(60_000);
      const found = await rollups();
      return found.reduce((sum, rollup) => sum + rollup.turns, 0) === expected.turns;
    }, 30_000);
    const found = await rollups();
    expect(found.reduce((sum, rollup) => sum + rollup.inputTokens, 0)).toBe(expected.input);
    expect(found.reduce((sum, rollup) => sum + rollup.outputTokens, 0)).toBe(expected.output);
    // the route says the store is back (the outage stays in health as a recent error for a while)
    const after = (await host.callRoute("/api/persistence/health")).json as { store: { reachable: boolean } };
    expect(after.store.reachable).toBe(true);
  }, 120_000);
});
