/**
 * What the start context gives the stateful extensions, through the fake host and the real bus:
 * routes and tools bound at start behind the kit's seam, scheduled jobs on an injected clock,
 * resources closed after the final flush, and the gateway identity.
 */
import { onInternalDiagnosticEvent } from "openclaw/plugin-sdk/diagnostic-runtime";
import { afterEach, describe, expect, it } from "vitest";
import { createFakeHost, type FakeHost } from "../../../testing/src/fake-host.js";
import { createManualClock, type ManualClock } from "../../../testing/src/manual-clock.js";
import { type ConfigOf, defineConfig, field } from "../config/define-config.js";
import { packConfigFields } from "../config/pack-config.js";
import type { HealthSnapshot } from "../health/health.js";
import type { SubscribeToBus } from "./event-hub.js";
import { createPackPlugin, type PackPluginSpec } from "./pack-plugin.js";
import type { PackStartContext } from "./pack-runtime.js";
import { listRuntimes } from "./runtime-registry.js";

const testConfig = defineConfig({
  ...packConfigFields,
  gatewayName: field.string({ description: "This gateway's name." }),
});
type TestContext = PackStartContext<ConfigOf<typeof testConfig>>;

const ROUTES = [
  { path: "/clawscope/test/items" },
  { path: "/clawscope/test/public", auth: "plugin" as const },
  { path: "/clawscope/test/upload", maxBodyBytes: 1024 },
];
const TOOLS = [
  {
    name: "test_lookup",
    description: "Looks a thing up.",
    parameters: { type: "object", properties: { q: { type: "string" } } },
  },
];

function entry(
  id: string,
  start: (context: TestContext) => void | Promise<void>,
  clock?: ManualClock,
  spec: Partial<PackPluginSpec<typeof testConfig>> = {},
) {
  const full: PackPluginSpec<typeof testConfig> = {
    id,
    name: id,
    description: "stateful test extension",
    config: testConfig,
    routes: ROUTES,
    tools: TOOLS,
    async start(context) {
      await start(context as TestContext);
      return {};
    },
    ...spec,
  };
  return () =>
    createPackPlugin(full, {
      subscribe: onInternalDiagnosticEvent as SubscribeToBus,
      ...(clock ? { clock } : {}),
    });
}

const hosts: FakeHost[] = [];
async function startHost(
  source: ReturnType<typeof entry>,
  options: Parameters<typeof createFakeHost>[1] = {},
) {
  const host = await createFakeHost(source, options);
  hosts.push(host);
  await host.startServices();
  return host;
}

async function statusOf(host: FakeHost): Promise<HealthSnapshot> {
  return (await host.callGatewayMethod(`${host.pluginId}.status`)).payload as HealthSnapshot;
}

const hostSeenErrors = (host: FakeHost) =>
  host.logs.messages().filter((message) => /^\[(plugins|hooks)\].* failed/.test(message));

afterEach(async () => {
  for (const host of hosts.splice(0)) await host.cleanup();
  expect(listRuntimes()).toEqual([]);
});

describe("routes", () => {
  it("serves a bound route behind the gateway token, with the query and a parsed JSON body", async () => {
    const host = await startHost(
      entry("clawscope-stateful", (context) => {
        context.registerHttpRoute("/clawscope/test/items", (request) => ({
          json: {
            method: request.method,
            limit: request.query.get("limit"),
            body: request.body,
            sawAuthorization: "authorization" in request.headers,
          },
        }));
        context.registerHttpRoute("/clawscope/test/public", () => ({ text: "hello", status: 202 }));
        context.registerHttpRoute("/clawscope/test/upload", (request) => ({
          json: { size: String(request.body).length },
        }));
      }),
    );
    const got = await host.callRoute("/clawscope/test/items?limit=2");
    expect(got).toMatchObject({
      status: 200,
      json: { method: "GET", limit: "2", sawAuthorization: false },
    });
    expect(got.headers["content-type"]).toBe("application/json; charset=utf-8");
    const posted = await host.callRoute("/clawscope/test/items", {
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "x" }),
    });
    expect(posted.json).toMatchObject({ method: "POST", body: { name: "x" } });
    expect((await host.callRoute("/clawscope/test/items", { anonymous: true })).status).toBe(401);
    expect(await host.callRoute("/clawscope/test/public", { anonymous: true })).toMatchObject({
      status: 202,
      body: "hello",
    });
    const bad = await host.callRoute("/clawscope/test/items", {
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    expect(bad).toMatchObject({ status: 400, json: { error: "request body is not valid JSON" } });
    expect(await host.callRoute("/clawscope/test/upload", { body: "x".repeat(1000) })).toMatchObject({
      status: 200,
      json: { size: 1000 },
    });
    const large = await host.callRoute("/clawscope/test/upload", { body: "x".repeat(5000) });
    expect(large).toMatchObject({ status: 413, json: { error: "request body over 1024 bytes" } });
  });

  it("answers 500 with a JSON error when a handler throws, logs it once, and never reaches the gateway", async () => {
    const host = await startHost(
      entry("clawscope-stateful", (context) => {
        context.registerHttpRoute("/clawscope/test/items", async () => {
          throw new Error("store unavailable");
        });
      }),
    );
    for (let i = 0; i < 3; i++) {
      expect(await host.callRoute("/clawscope/test/items")).toMatchObject({
        status: 500,
        json: { error: "internal error", route: "/clawscope/test/items" },
      });
    }
    expect(host.logs.messages("error").filter((line) => line.includes("store unavailable"))).toEqual([
      "clawscope-stateful: route /clawscope/test/items failed: store unavailable",
    ]);
    expect((await statusOf(host)).lastError?.message).toBe(
      "route /clawscope/test/items failed: store unavailable",
    );
    // a declared route with no handler bound, and every route once stopped: 503, not a hang
    expect((await host.callRoute("/clawscope/test/public")).status).toBe(503);
    await host.stopServices();
    expect(await host.callRoute("/clawscope/test/items")).toMatchObject({
      status: 503,
      json: { error: "clawscope-stateful is not running" },
    });
    expect(hostSeenErrors(host)).toEqual([]);
  });

  it("disables the extension with one line when it binds a route or tool its spec does not declare", async () => {
    const host = await startHost(
      entry("clawscope-stateful", (context) => {
        context.registerHttpRoute("/clawscope/test/nowhere", () => ({ json: {} }));
      }),
    );
    expect(host.logs.messages("error")).toEqual([
      "clawscope-stateful: disabled: start failed: route /clawscope/test/nowhere is not declared in the plugin spec (routes), so the host does not serve it",
    ]);
    expect((await statusOf(host)).state).toBe("disabled");
  });
});

describe("tools", () => {
  it("runs a bound tool, returning text or JSON, and turns a throw into the tool's answer", async () => {
    let calls = 0;
    const host = await startHost(
      entry("clawscope-stateful", (context) => {
        context.registerTool("test_lookup", async (params, call) => {
          calls += 1;
          if (calls === 2) throw new Error("index not ready");
          return { params, toolCallId: call.toolCallId };
        });
      }),
    );
    const first = (await host.callTool("test_lookup", { q: "timeouts" }, "call-1")) as {
      content: Array<{ text: string }>;
      details: unknown;
    };
    expect(first.details).toEqual({ params: { q: "timeouts" }, toolCallId: "call-1" });
    expect(JSON.parse(first.content[0]?.text ?? "")).toEqual(first.details);
    expect(await host.callTool("test_lookup", {})).toEqual({
      content: [{ type: "text", text: "test_lookup failed: index not ready" }],
    });
    await host.stopServices();
    expect(await host.callTool("test_lookup", {})).toEqual({
      content: [{ type: "text", text: "test_lookup is unavailable: clawscope-stateful is not running" }],
    });
    expect(hostSeenErrors(host)).toEqual([]);
  });
});

describe("scheduled jobs and owned resources", () => {
  it("runs jobs on the injected clock, reports them in health, and at stop aborts them before the pipelines, closing owned resources last, in reverse", async () => {
    const clock = createManualClock(Date.parse("2026-12-04T10:00:30.000Z"));
    const order: string[] = [];
    const slots: number[] = [];
    let releaseLong: (() => void) | undefined;
    const host = await startHost(
      entry(
        "clawscope-stateful",
        (context) => {
          const pipeline = context.createPipeline("records", {
            send: async () => {
              order.push("pipeline sent");
              return { kind: "ok" as const };
            },
          });
          context.own({ close: () => void order.push("store a closed") }, "store a");
          context.own(() => {
            order.push("store b closed");
            throw new Error("already closed");
          }, "store b");
          context.schedule("rollup", { every: "minute" }, (run) => {
            slots.push(run.slot);
            pipeline.enqueue(`r-${run.slot}`, { slot: run.slot });
          });
          context.schedule("long", { every: "hour" }, async (run) => {
            order.push("long started");
            await new Promise<void>((resolve) => {
              releaseLong = resolve;
              run.signal.addEventListener("abort", () => {
                order.push("long aborted");
                resolve();
              });
            });
          });
        },
        clock,
      ),
    );
    await clock.advance(60 * 60_000); // 10:01 … 11:00, and the hourly job starts at 11:00
    expect(slots).toHaveLength(60);
    expect(slots[0]).toBe(Date.parse("2026-12-04T10:01:00.000Z"));
    const health = await statusOf(host);
    expect(health.schedules?.rollup).toMatchObject({ every: "minute", runs: 60, failures: 0, missed: 0 });
    expect(health.schedules?.long).toMatchObject({ running: true, runs: 0 });
    order.length = 0;
    await host.stopServices();
    expect(releaseLong).toBeDefined();
    expect(order[0]).toBe("long aborted");
    expect(order.slice(-2)).toEqual(["store b closed", "store a closed"]);
    expect(host.logs.messages("error")).toContain(
      "clawscope-stateful: store b could not be closed: already closed",
    );
    // nothing runs after stop
    await clock.advance(10 * 60_000);
    expect(slots).toHaveLength(60);
    expect(hostSeenErrors(host)).toEqual([]);
  });
});

describe("gateway identity", () => {
  it("is one id for every extension of a gateway, stable across restarts, distinct between gateways", async () => {
    const seen: Array<{ plugin: string; name: string; id: string }> = [];
    const record = (plugin: string) => (context: TestContext) =>
      void seen.push({ plugin, name: context.gateway.name, id: context.gateway.id });
    const a = await startHost(entry("clawscope-one", record("one")), {
      pluginConfig: { gatewayName: "gw-eu" },
    });
    const b = await startHost(entry("clawscope-two", record("two")), {
      stateDir: a.stateDir,
      pluginConfig: { gatewayName: "gw-eu" },
    });
    await a.stopServices();
    await a.startServices();
    const other = await startHost(entry("clawscope-one", record("other")), {
      pluginConfig: { gatewayName: "gw-eu" },
    });
    expect(seen.map((entry) => entry.plugin)).toEqual(["one", "two", "one", "other"]);
    const [first, second, restarted, elsewhere] = seen;
    expect(first?.id).toMatch(/^gw-eu@[0-9a-f]{12}$/);
    expect(second?.id).toBe(first?.id);
    expect(restarted?.id).toBe(first?.id);
    expect(elsewhere?.id).not.toBe(first?.id);
    expect(elsewhere?.name).toBe("gw-eu");
    await b.stopServices();
    await other.stopServices();
  });
});
