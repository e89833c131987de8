/**
 * clawscope-knowledge-base on a real MongoDB-wire server (FerretDB) that is down when the gateway
 * starts and goes down again mid-run: the failures' occurrences wait in the spool, nothing reaches
 * the gateway as an exception, and once the server is back every failure is counted in its issue
 * entry, once. The outage itself becomes an issue too: the knowledge base's own pipelines retried, an
 * `export_failure` of `clawscope-knowledge-base`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createPackPlugin, type SubscribeToBus } from "@clawscope/kit";
import { openStore, type Store } from "@clawscope/store";
import {
  createFakeHost,
  createManualClock,
  type FakeHost,
  type FerretDbServer,
  replayTurnSpec,
  startFerretDb,
  type TurnSpec,
  waitFor,
} from "@clawscope/testing";
import { onInternalDiagnosticEvent } from "openclaw/plugin-sdk/diagnostic-runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IssueEntry } from "../../extensions/knowledge-base/src/domain/issue-entry.js";
import { createKnowledgeBasePluginSpec } from "../../extensions/knowledge-base/src/plugin-spec.js";
import { toCollections } from "../../extensions/knowledge-base/src/store/collections.js";

let ferret: FerretDbServer;
let stateDir: string;
let host: FakeHost | undefined;
let reader: Store | undefined;

beforeAll(async () => {
  ferret = await startFerretDb();
  stateDir = await mkdtemp(path.join(tmpdir(), "clawscope-kb-outage-"));
}, 900_000);
afterAll(async () => {
  await host?.cleanup();
  await reader?.close();
  await ferret?.dispose();
  await rm(stateDir, { recursive: true, force: true });
});

/** A provider 400 whose message differs from the others' only in its numbers. */
const failure = (index: number, startTs: number): TurnSpec => ({
  runId: `kb-outage-${index}`,
  startTs,
  sessionKey: `agent:main:kb-outage-${index}`,
  modelCalls: [
    {
      error: {
        category: "Error",
        message: `400 Invalid 'max_tokens': integer above maximum value. Expected a value <= 16384, but got ${20_000 + index * 7} instead.`,
      },
    },
  ],
});

describe("the knowledge base's store going down", () => {
  it("keeps every failure through a store down at start and down again mid-run, and counts each once", async () => {
    await ferret.stop();
    const now = Date.now();
    const clock = createManualClock(now);
    const entry = () =>
      createPackPlugin(createKnowledgeBasePluginSpec(), {
        subscribe: onInternalDiagnosticEvent as SubscribeToBus,
        clock,
      });
    host = await createFakeHost(entry, {
      stateDir,
      pluginConfig: {
        store: { kind: "mongodb", uri: `${ferret.uri}?directConnection=true&serverSelectionTimeoutMS=1500` },
        gatewayName: "gw-kb-outage",
        captureContent: true,
        flushIntervalMs: 100,
        settleMs: 50,
        retryMaxDelayMs: 1_000,
      },
    });
    await host.startServices();

    // down at start: the failures are taken, the query route still answers
    for (let index = 0; index < 3; index += 1)
      await replayTurnSpec(host, failure(index, now + index * 1_000));
    await clock.advance(60_000);
    const query = await host.callRoute("/api/knowledge/query", {
      method: "POST",
      body: JSON.stringify({ query: "max_tokens above maximum" }),
      headers: { "content-type": "application/json" },
    });
    expect(query.status).toBe(200);
    expect(host.logs.messages("error").join("\n")).not.toMatch(/uncaught|unhandled/i);

    await ferret.start();
    reader = await openStore({
      kind: "mongodb",
      uri: `${ferret.uri}?directConnection=true`,
      database: "clawscope",
      collections: toCollections(30),
    });
    // the provider failures' entry (the outage itself is an entry too: the pack's own export failure)
    const providerEntries = async () =>
      (await (reader as Store).collection<IssueEntry>("knowledge_base").find({})).filter(
        (entry) => entry.kind === "provider_error",
      );
    const entryCount = async () => {
      const entries = await providerEntries();
      return entries.length === 1 ? entries[0]?.count : -entries.length;
    };
    // the store is opened again at most once per 5 s of the extension's clock, entries each minute
    const countReaches = (count: number) =>
      waitFor(async () => {
        await clock.advance(15_000);
        return (await entryCount()) === count;
      }, 60_000);
    await countReaches(3);

    // down mid-run, with failures meanwhile
    await ferret.stop();
    for (let index = 3; index < 6; index += 1) await replayTurnSpec(host, failure(index, Date.now()));
    await clock.advance(60_000);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await ferret.start();
    await countReaches(6);
    const occurrences = await (reader as Store)
      .collection<{ id: string; kind: string }>("kb_occurrences")
      .find({});
    expect(occurrences.filter((occurrence) => occurrence.kind === "provider_error")).toHaveLength(6);
    // the store's outage, as the knowledge base's own pipelines retried it, is a recurring issue
    await waitFor(async () => {
      await clock.advance(15_000);
      const entries = await (reader as Store).collection<IssueEntry>("knowledge_base").find({});
      return entries.some(
        (entry) => entry.kind === "export_failure" && entry.tool === "clawscope-knowledge-base",
      );
    }, 60_000);
  }, 180_000);
});
