/**
 * Issue 13, a fleet: two real gateways with clawscope-knowledge-base on one MongoDB-wire server
 * (FerretDB). The same provider 400 (messages that differ only in numbers and request ids) fails
 * turns on both, concurrently; a second cause fails on one only. Both gateways answer with the same
 * fleet-wide entries: every occurrence counted once (not once per gateway that recomputed it), each
 * gateway's share in `affected.gateways`, the summary's totals equal to the occurrences in the
 * store. Then one gateway restarts with a changed config (`tools.loopDetection.enabled`), the
 * failures have stopped, and when the issue it shared goes quiet the knowledge base records a
 * learned candidate naming the change and its keys; the issue that only the other gateway had gets
 * none.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { openStore, type Store } from "@clawscope/store";
import { type FerretDbServer, startFerretDb } from "@clawscope/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// relative: the e2e package does not depend on the extension's sources
import { toCollections } from "../../extensions/knowledge-base/src/store/collections.js";
import { type GatewayHandle, startGateway } from "./harness/gateway.js";
import { chatCompletion, waitFor } from "./harness/gateway-client.js";
import { badSchema, badTemperature } from "./harness/kb-failures.js";
import { kbPlugin } from "./harness/kb-plugin.js";
import { type MockProvider, startMockProvider } from "./harness/mock-provider.js";

const TEMPERATURE = "SCNFLEETTEMP";
const SCHEMA = "SCNFLEETSCHEMA";
const NAMES = ["kb-fleet-a", "kb-fleet-b"] as const;
/** Failed turns per gateway: the shared cause on both, the second cause on b only. */
const TURNS: Record<(typeof NAMES)[number], string[]> = {
  "kb-fleet-a": [TEMPERATURE, TEMPERATURE, TEMPERATURE],
  "kb-fleet-b": [TEMPERATURE, SCHEMA, TEMPERATURE, SCHEMA],
};

type NameCount = { name: string; count: number };
type Entry = {
  id: string;
  kind: string;
  status?: number;
  message: string;
  state: string;
  count: number;
  affected: { gateways: NameCount[] };
  solutions: { source: string; title: string; steps: string[] }[];
};

describe("the knowledge base of two gateways on one FerretDB", () => {
  let ferret: FerretDbServer;
  let store: Store;
  const providers: MockProvider[] = [];
  const gateways = new Map<string, GatewayHandle>();
  let first: Entry[];

  const exportOf = async (gateway: GatewayHandle): Promise<Entry[]> => {
    const response = await fetch(`${gateway.baseUrl}/api/knowledge/export`, {
      headers: { authorization: `Bearer ${gateway.token}` },
    });
    return response.ok ? ((await response.json()) as { entries: Entry[] }).entries : [];
  };
  const gatewayOf = (name: string) => gateways.get(name) as GatewayHandle;

  beforeAll(async () => {
    ferret = await startFerretDb();
    const uri = `${ferret.uri}?directConnection=true`;
    store = await openStore({ kind: "mongodb", uri, database: "clawscope", collections: toCollections(30) });
    for (const _ of NAMES) {
      const provider = await startMockProvider();
      provider.script(TEMPERATURE, [badTemperature(3.5), badTemperature(7.25), badTemperature(12)]);
      provider.script(SCHEMA, [badSchema(3), badSchema(11)]);
      providers.push(provider);
    }
    const started = await Promise.all(
      NAMES.map((name, index) =>
        startGateway({
          provider: providers[index],
          extraConfig: { tools: { loopDetection: { enabled: false } } },
          plugins: [
            kbPlugin({
              store: { kind: "mongodb", uri },
              gatewayName: name,
              flushIntervalMs: 200,
              settleMs: 300,
              captureContent: true,
              // quiet 144 s after the last failure; a config change within 6 minutes is evidence
              quietAfterHours: 0.04,
              learnWithinHours: 0.1,
            }),
          ],
        }),
      ),
    );
    for (const [index, gateway] of started.entries()) gateways.set(NAMES[index] as string, gateway);
    // both gateways fail at the same time
    const statuses = await Promise.all(
      NAMES.map(async (name) => {
        const seen: number[] = [];
        for (const [index, content] of TURNS[name].entries())
          seen.push(
            (
              await chatCompletion(gatewayOf(name), {
                sessionKey: `fleet-${index}`,
                content: `please ${content}`,
              })
            ).status,
          );
        return seen;
      }),
    );
    expect(statuses).toEqual([
      [400, 400, 400],
      [400, 422, 400, 422],
    ]);
    // each gateway recomputes what it wrote a few seconds after the minute, and reads the others'
    first = await waitFor(
      async () => {
        const views = await Promise.all(NAMES.map((name) => exportOf(gatewayOf(name))));
        const total = (entries: Entry[]) => entries.reduce((sum, entry) => sum + entry.count, 0);
        return views.every((entries) => total(entries) === 7) ? views[0] : undefined;
      },
      180_000,
      1_000,
      "both gateways' views with all seven failures",
    );
  }, 420_000);

  afterAll(async () => {
    for (const gateway of gateways.values()) await gateway.close();
    for (const provider of providers) await provider.close();
    await store?.close();
    await ferret?.dispose();
  });

  it("counts every failure once, fleet-wide, and both gateways answer the same", async () => {
    const temperature = first.find((entry) => entry.message.includes("temperature"));
    const schema = first.find((entry) => entry.status === 422);
    expect(first).toHaveLength(2);
    expect(temperature).toMatchObject({ kind: "provider_error", status: 400, count: 5 });
    const shares = (entry: Entry | undefined) =>
      Object.fromEntries(
        (entry?.affected.gateways ?? []).map((item) => [item.name.split("@")[0], item.count]),
      );
    expect(shares(temperature)).toEqual({ "kb-fleet-a": 3, "kb-fleet-b": 2 });
    expect(schema).toMatchObject({ count: 2 });
    expect(shares(schema)).toEqual({ "kb-fleet-b": 2 });

    const other = await exportOf(gatewayOf("kb-fleet-b"));
    const counts = (entries: Entry[]) => entries.map((entry) => [entry.id, entry.count]).sort();
    expect(counts(other)).toEqual(counts(first));
    // in the store: one record per failure and one entry per cause, whoever recomputed it
    expect(await store.collection("kb_occurrences").count()).toBe(7);
    expect(await store.collection("knowledge_base").count()).toBe(2);
    for (const name of NAMES) {
      const gateway = gatewayOf(name);
      const summary = (await (
        await fetch(`${gateway.baseUrl}/api/knowledge/summary`, {
          headers: { authorization: `Bearer ${gateway.token}` },
        })
      ).json()) as { stats: { entries: number; occurrences: number } };
      expect(summary.stats, name).toMatchObject({ entries: 2, occurrences: 7 });
    }
  });

  it("learns a candidate when the shared issue goes quiet after one gateway's config change", async () => {
    const gateway = gatewayOf("kb-fleet-a");
    await gateway.stop();
    const config = JSON.parse(readFileSync(gateway.configPath, "utf8")) as {
      tools: { loopDetection: { enabled: boolean } };
    };
    config.tools.loopDetection.enabled = true;
    writeFileSync(gateway.configPath, `${JSON.stringify(config, null, 2)}\n`);
    await gateway.restart();

    const temperature = first.find((entry) => entry.message.includes("temperature")) as Entry;
    const schema = first.find((entry) => entry.status === 422) as Entry;
    const learned = await waitFor(
      async () => {
        const entries = await exportOf(gatewayOf("kb-fleet-b"));
        const found = entries.find((entry) => entry.id === temperature.id);
        return found?.state === "quiet" && entries.every((entry) => entry.state === "quiet")
          ? found.solutions.filter((solution) => solution.source === "learned")
          : undefined;
      },
      300_000,
      2_000,
      "the shared issue quiet, with a learned candidate",
    );
    expect(learned).toHaveLength(1);
    expect(learned[0]?.title).toBe("candidate (not confirmed)");
    const text = learned[0]?.steps.join(" ") ?? "";
    expect(text).toMatch(/^Stopped after the config change at \S+ on kb-fleet-a@/);
    // the one key changed: nothing the host rewrites at a start counts as a change
    expect(text).toContain("(keys changed: tools.loopDetection.enabled)");
    // b's own issue: a's change does not explain it
    const others = await exportOf(gatewayOf("kb-fleet-b"));
    const schemaNow = others.find((entry) => entry.id === schema.id);
    expect(schemaNow?.solutions.filter((solution) => solution.source === "learned")).toEqual([]);
    // once, though both gateways saw it go quiet
    expect(
      await store
        .collection<{ id: string; source: string }>("kb_solutions")
        .count({ where: { source: "learned" } }),
    ).toBe(1);
  }, 420_000);
});
