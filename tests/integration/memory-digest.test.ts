/**
 * The daily digest of clawscope-memory-consolidation, delivered for real: by email to a Mailpit SMTP
 * server started here (with SMTP login) and read back through Mailpit's API, and to a receiver that
 * holds Slack's incoming-webhook contract. The extension runs in the fake host on a manual clock;
 * yesterday's traffic is seeded as minute rollups, the consolidation runs at 01:00.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createPackPlugin, type SubscribeToBus } from "@clawscope/kit";
import { openStore } from "@clawscope/store";
import {
  createFakeHost,
  createManualClock,
  createSlackWebhookReceiver,
  type FakeHost,
  type MailpitServer,
  type ManualClock,
  type SlackWebhookReceiver,
  startMailpit,
  waitFor,
} from "@clawscope/testing";
import { onInternalDiagnosticEvent } from "openclaw/plugin-sdk/diagnostic-runtime";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
// relative until `pnpm install` links the workspace packages into this package
import type { MinuteRollup } from "../../extensions/memory-consolidation/src/domain/minute-rollup.js";
import { makeRollup } from "../../extensions/memory-consolidation/src/domain/rollup-fixture.js";
import { createMemoryPluginSpec } from "../../extensions/memory-consolidation/src/plugin-spec.js";
import { COLLECTIONS } from "../../extensions/memory-consolidation/src/store/collections.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TODAY = Math.floor(Date.now() / DAY) * DAY;
const YESTERDAY = new Date(TODAY - DAY).toISOString().slice(0, 10);
const SMTP_PASSWORD = "smtp-pass-4f9c";

let mailpit: MailpitServer;
let slack: SlackWebhookReceiver;
const hosts: FakeHost[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  mailpit = await startMailpit();
}, 900_000);
afterAll(async () => {
  await mailpit?.dispose();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  for (const host of hosts.splice(0)) await host.stopServices().catch(() => undefined);
  await slack?.close();
});

/** A state dir whose store holds yesterday's traffic: 24 hours of turns and a spike of gpt-big at 14:00. */
async function seededStateDir(label: string): Promise<string> {
  const stateDir = await mkdtemp(path.join(tmpdir(), `clawscope-digest-${label}-`));
  dirs.push(stateDir);
  const file = path.join(stateDir, "plugins", "clawscope-memory-consolidation", "store.sqlite");
  await mkdir(path.dirname(file), { recursive: true });
  const store = await openStore({ kind: "sqlite", path: file, collections: COLLECTIONS });
  const records: MinuteRollup[] = [];
  for (let hour = 0; hour < 24; hour += 1)
    records.push(
      makeRollup("gw-digest@0000", TODAY - DAY + hour * HOUR, "gpt-small", { turns: 10, costUsd: 0.1 }),
    );
  records.push(
    makeRollup("gw-digest@0000", TODAY - DAY + 14 * HOUR + 60_000, "gpt-big", { turns: 4, costUsd: 3 }),
  );
  await store.collection<MinuteRollup>("metrics").upsert(records);
  await store.close();
  return stateDir;
}

async function startGateway(clock: ManualClock, stateDir: string, recipient: string): Promise<FakeHost> {
  const entry = () =>
    createPackPlugin(createMemoryPluginSpec(), {
      subscribe: onInternalDiagnosticEvent as SubscribeToBus,
      clock,
    });
  const host = await createFakeHost(entry, {
    stateDir,
    pluginConfig: {
      gatewayName: "gw-digest",
      flushIntervalMs: 100,
      retryMaxDelayMs: 1_000,
      consolidation: { dailyBudgetUsd: 5 },
      digest: {
        email: {
          host: "127.0.0.1",
          port: mailpit.smtpPort,
          security: "none",
          user: "digest",
          password: SMTP_PASSWORD,
          from: "clawscope <ops@example.com>",
          to: [recipient],
        },
        slack: { webhookUrl: slack.url },
        linkUrl: "https://gateway.example.com/api/consolidation/{date}?format=html",
      },
    },
  });
  hosts.push(host);
  await host.startServices();
  return host;
}

const mailsTo = async (recipient: string) =>
  (await mailpit.messages()).filter((message) => message.To.some((to) => to.Address === recipient));

describe("the daily digest", () => {
  it("reaches a real SMTP server and Slack once, honouring Slack's 429 Retry-After", async () => {
    slack = await createSlackWebhookReceiver();
    slack.http.respondWith({ status: 429, headers: { "retry-after": "1" }, body: "rate_limited" }, 1);
    const recipient = "oncall-first@example.com";
    const clock = createManualClock(TODAY + 30 * 60_000);
    const host = await startGateway(clock, await seededStateDir("first"), recipient);

    await clock.advance(31 * 60_000);
    await waitFor(
      async () => (await mailsTo(recipient)).length === 1 && slack.accepted().length === 1,
      20_000,
    );

    const [summary] = await mailsTo(recipient);
    const mail = await mailpit.message(summary?.ID as string);
    expect(mail.Subject).toMatch(
      new RegExp(`^\\[clawscope\\] ${YESTERDAY}: 244 turns, \\$5\\.40 — OVER BUDGET`),
    );
    expect(mail.From.Address).toBe("ops@example.com");
    expect(mail.MessageID).toBe(`clawscope-digest-${YESTERDAY}-fleet@example.com`);
    expect(mail.Text).toContain(`# ${YESTERDAY} — fleet`);
    expect(mail.Text).toContain("| gpt-big | 4 | $3.0000 |");
    expect(mail.Text).toContain(`https://gateway.example.com/api/consolidation/${YESTERDAY}?format=html`);
    expect(mail.HTML).toContain("<svg");

    // Slack: the 429 first, the message one Retry-After later, Block Kit that names the costliest model
    const posts = slack.http.requests.filter((request) => request.method === "POST");
    expect(posts.map((request) => request.status)).toEqual([429, 200]);
    expect((posts[1]?.receivedAt ?? 0) - (posts[0]?.receivedAt ?? 0)).toBeGreaterThanOrEqual(950);
    expect(JSON.stringify(slack.accepted()[0])).toContain("• gpt-big $3.00 · 4 turns");

    // the hourly sweep and a rerun of the day (which replaces the consolidation) send nothing again
    const rerun = await host.callRoute("/api/consolidation/run", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ date: YESTERDAY }),
    });
    expect(rerun.status).toBe(200);
    await clock.advance(HOUR);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await mailsTo(recipient)).toHaveLength(1);
    expect(slack.accepted()).toHaveLength(1);
    expect(host.logs.lines.map((line) => line.message).join("\n")).not.toContain(SMTP_PASSWORD);
    expect(host.logs.lines.map((line) => line.message).join("\n")).not.toContain("/services/");
  }, 60_000);

  it("sends each digest exactly once across a restart between the consolidation and the delivery", async () => {
    slack = await createSlackWebhookReceiver();
    await slack.http.down();
    await mailpit.stop();
    const recipient = "oncall-restart@example.com";
    const stateDir = await seededStateDir("restart");
    const clock = createManualClock(TODAY + 30 * 60_000);
    const first = await startGateway(clock, stateDir, recipient);
    await clock.advance(31 * 60_000);
    await waitFor(
      async () => (await first.callRoute(`/api/consolidation/${YESTERDAY}`)).status === 200,
      20_000,
    );
    // both channels failed at least once: the digests are queued, not sent
    await waitFor(() => {
      const status = first.logs.lines.map((line) => line.message).join("\n");
      return status.includes("SMTP") && status.includes("Slack webhook");
    }, 20_000);
    await first.stopServices();
    hosts.splice(hosts.indexOf(first), 1);

    await mailpit.start();
    await slack.http.up();
    clock.set(TODAY + HOUR + 2 * 60_000);
    const second = await startGateway(clock, stateDir, recipient);
    await clock.advance(60_000);
    await waitFor(
      async () => (await mailsTo(recipient)).length === 1 && slack.accepted().length === 1,
      20_000,
    );
    // a later sweep and another restart change nothing
    await clock.advance(HOUR);
    await second.stopServices();
    hosts.splice(hosts.indexOf(second), 1);
    await startGateway(clock, stateDir, recipient);
    await clock.advance(60_000);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await mailsTo(recipient)).toHaveLength(1);
    expect(slack.accepted()).toHaveLength(1);
  }, 90_000);
});
