/**
 * Issue 13: a real Alertmanager (Debian's 0.25) configured with the knowledge base's webhook
 * receiver and its own bearer token delivers a firing and then a resolved alert, posted with
 * `amtool alert add`, to the real gateway; the knowledge base stores the alert once, linked to the
 * issue it is about, and counts it as an alert issue. Without the token: 401, nothing stored.
 */
import { openStore, type Store } from "@clawscope/store";
import { type AlertmanagerServer, startAlertmanager } from "@clawscope/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayHandle, startGateway } from "./harness/gateway.js";
import { chatCompletion, waitFor } from "./harness/gateway-client.js";
import { kbPlugin, kbStoreFile } from "./harness/kb-plugin.js";
import { type MockProvider, startMockProvider } from "./harness/mock-provider.js";

const TOKEN = "e2e-alertmanager-token-7f3a9c";
const ALERT = {
  labels: {
    alertname: "ClawscopeProviderErrors",
    severity: "warning",
    provider: "mock",
    model: "mock-model",
  },
  annotations: { summary: "Provider errors above 5% for mock/mock-model" },
};

type StoredAlert = { id: string; name: string; status: string; entries: string[]; endsAt?: number };
type Entry = { id: string; kind: string; category?: string; count: number; message: string };

describe("Alertmanager's webhook into the knowledge base on the real gateway", () => {
  let gateway: GatewayHandle;
  let provider: MockProvider;
  let alertmanager: AlertmanagerServer;
  let store: Store;

  const alertsStored = () => store.collection<StoredAlert>("alerts").find({});

  beforeAll(async () => {
    provider = await startMockProvider();
    gateway = await startGateway({
      provider,
      plugins: [
        kbPlugin({
          flushIntervalMs: 200,
          settleMs: 300,
          gatewayName: "e2e-kb-alerts",
          alertWebhook: { token: TOKEN },
        }),
      ],
    });
    // an issue the alert is about: a provider 400 of the mock model
    expect(
      (await chatCompletion(gateway, { sessionKey: "kb-alerts", content: "FAIL_400 please" })).status,
    ).toBe(400);
    alertmanager = await startAlertmanager({
      webhookUrl: `${gateway.baseUrl}/webhook/alerts`,
      bearerToken: TOKEN,
    });
    store = await openStore({
      kind: "sqlite",
      path: kbStoreFile(gateway),
      collections: [{ name: "alerts" }, { name: "knowledge_base" }],
    });
    // the issue's entry exists before the alert comes, so the alert links to it
    await waitFor(
      async () =>
        (await store.collection<Entry>("knowledge_base").find({})).some(
          (entry) => entry.kind === "provider_error",
        ),
      120_000,
      1_000,
      "the provider 400's issue entry",
    );
  }, 300_000);

  afterAll(async () => {
    await alertmanager?.stop();
    await store?.close();
    await gateway?.close();
    await provider?.close();
  });

  it("refuses a webhook call without its token (or with the gateway's), storing nothing", async () => {
    const body = JSON.stringify({ version: "4", status: "firing", alerts: [] });
    for (const authorization of [undefined, `Bearer ${gateway.token}`, "Bearer not-the-token-0000000000"]) {
      const response = await fetch(`${gateway.baseUrl}/webhook/alerts`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
        body,
      });
      expect(response.status).toBe(401);
    }
    const malformed = await fetch(`${gateway.baseUrl}/webhook/alerts`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ version: "3", alerts: [] }),
    });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: string }).error).toContain('expected "4"');
    expect(await alertsStored()).toEqual([]);
  });

  it("stores a firing alert once, linked to the issue, then its resolution", async () => {
    const startsAt = new Date(Date.now() - 60_000);
    await alertmanager.addAlert({ ...ALERT, startsAt });
    const firing = await waitFor(
      async () => (await alertsStored()).find((alert) => alert.status === "firing"),
      60_000,
      500,
      `the firing alert (Alertmanager's log: ${alertmanager.log().slice(-500)})`,
    );
    expect(firing.name).toBe("ClawscopeProviderErrors");
    const issues = await store.collection<Entry>("knowledge_base").find({});
    const provider400 = issues.find((entry) => entry.kind === "provider_error");
    expect(firing.entries).toEqual([provider400?.id]);
    // Alertmanager repeats a firing alert and the amtool call may be retried: still one record
    await alertmanager.addAlert({ ...ALERT, startsAt });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await alertsStored()).toHaveLength(1);

    await alertmanager.addAlert({ ...ALERT, startsAt, endsAt: new Date(Date.now() - 1_000) });
    const resolved = await waitFor(
      async () => (await alertsStored()).find((alert) => alert.status === "resolved"),
      60_000,
      500,
      `the resolved alert (Alertmanager's log: ${alertmanager.log().slice(-500)})`,
    );
    expect(resolved.id).toBe(firing.id);
    expect(resolved.endsAt).toBeGreaterThan(startsAt.getTime());
    expect(await alertsStored()).toHaveLength(1);
    // the alert is an issue of its own, counted once for its firing
    const alertIssue = await waitFor(
      async () =>
        (await store.collection<Entry>("knowledge_base").find({})).find((entry) => entry.kind === "alert"),
      120_000,
      1_000,
      "the alert's issue entry",
    );
    expect(alertIssue).toMatchObject({ category: "ClawscopeProviderErrors", count: 1 });
  }, 240_000);
});
