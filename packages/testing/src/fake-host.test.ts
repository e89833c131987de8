import { existsSync } from "node:fs";
import {
  emitTrustedDiagnosticEvent,
  onInternalDiagnosticEvent,
  waitForDiagnosticEventsDrained,
} from "openclaw/plugin-sdk/diagnostic-runtime";
import { definePluginEntry, type OpenClawPluginApi } from "openclaw/plugin-sdk/plugin-entry";
import { afterEach, describe, expect, it } from "vitest";
import { createFakeHost, type FakeHost } from "./fake-host.js";

const SHARED = Symbol.for("clawscope.fake-host-test.v1");
type Shared = { sink?: string[]; starts: unknown[]; stops: number };
const global = globalThis as typeof globalThis & { [SHARED]?: Shared };

/** A plugin written the way HOST.md says: every surface in every mode, shared state on globalThis. */
function createEntry(options: { keepSinkInClosure?: boolean } = {}) {
  let closureSink: string[] | undefined;
  return definePluginEntry({
    id: "clawscope-test",
    name: "Test",
    description: "fake host test plugin",
    register(api: OpenClawPluginApi) {
      global[SHARED] ??= { starts: [], stops: 0 };
      const shared = global[SHARED];
      api.registerService({
        id: "clawscope-test",
        start(context) {
          shared.starts.push({
            config: context.config,
            stateDir: context.stateDir,
            mode: api.registrationMode,
          });
          context.logger.info(`started with ${JSON.stringify(api.pluginConfig)}`);
          context.serviceHealth?.reportFailure(new Error("backend down"));
          context.serviceHealth?.clearFailure();
          closureSink = [];
          shared.sink = [];
        },
        stop() {
          shared.stops += 1;
        },
      });
      api.on("agent_end", (event) => {
        const sink = options.keepSinkInClosure ? closureSink : shared.sink;
        sink?.push(`agent_end:${(event as { runId: string }).runId}:${api.registrationMode}`);
      });
      api.on("gateway_start", () => {
        shared.sink?.push(`gateway_start:${api.registrationMode}`);
      });
      api.on("model_call_ended", () => {
        throw new Error("handler bug");
      });
      api.registerGatewayMethod("clawscope-test.status", ({ params, respond }) => {
        respond(true, { echo: params, sink: shared.sink });
      });
      api.registerGatewayMethod("clawscope-test.broken", () => {
        throw new Error("broken method");
      });
      api.registerGatewayMethod("clawscope-test.silent", () => undefined);
      api.registerTool({
        name: "echo_tool",
        label: "Echo",
        description: "echo",
        parameters: { type: "object", properties: {} } as never,
        execute: async (_id: string, params: unknown) => ({
          content: [{ type: "text", text: JSON.stringify(params) }],
        }),
      } as never);
      api.registerCli(() => undefined, {
        descriptors: [{ name: "x", description: "x", hasSubcommands: false }],
      });
      api.registerHttpRoute({ path: "/clawscope-test", auth: "plugin", handler: () => true } as never);
      api.registerCommand({ name: "c", description: "c", handler: () => ({ text: "" }) } as never);
    },
  });
}

let host: FakeHost | undefined;
afterEach(async () => {
  await host?.cleanup();
  host = undefined;
  delete global[SHARED];
});

describe("createFakeHost", () => {
  it("registers full then discovery twice, each with a fresh api and the plugin config", async () => {
    host = await createFakeHost(createEntry(), { pluginConfig: { captureContent: true } });
    expect(host.pluginId).toBe("clawscope-test");
    expect(host.registrations.map((registration) => registration.mode)).toEqual([
      "full",
      "discovery",
      "discovery",
    ]);
    const apis = new Set(host.registrations.map((registration) => registration.api));
    expect(apis.size).toBe(3);
    for (const registration of host.registrations) {
      expect(registration.api.pluginConfig).toEqual({ captureContent: true });
      expect(registration.services).toHaveLength(1);
      expect(registration.hooks.map((hook) => hook.name)).toEqual([
        "agent_end",
        "gateway_start",
        "model_call_ended",
      ]);
      expect([...registration.gatewayMethods.keys()]).toContain("clawscope-test.status");
      expect(registration.cliRegistrars).toHaveLength(1);
      expect(registration.httpRoutes).toHaveLength(1);
      expect(registration.other.map((call) => call.method)).toEqual(["registerCommand"]);
    }
  });

  it("starts the full instance's service with a host-shaped context", async () => {
    host = await createFakeHost(createEntry(), { pluginConfig: { a: 1 }, allowConversationAccess: true });
    await host.startServices();
    const shared = global[SHARED];
    expect(shared?.starts).toHaveLength(1);
    const start = shared?.starts[0] as { config: Record<string, unknown>; stateDir: string; mode: string };
    expect(start.mode).toBe("full");
    expect(start.stateDir).toBe(host.stateDir);
    expect(existsSync(start.stateDir)).toBe(true);
    expect(start.config).toMatchObject({
      plugins: {
        entries: {
          "clawscope-test": { enabled: true, config: { a: 1 }, hooks: { allowConversationAccess: true } },
        },
      },
    });
    expect(host.logs.messages("info")).toEqual(['started with {"a":1}']);
    expect(host.health.events.map((event) => event.kind)).toEqual(["failure", "clear"]);
    expect(host.health.failing).toBe(false);
  });

  it("runs agent-run hooks on the last discovery instance and gateway hooks on the full one", async () => {
    host = await createFakeHost(createEntry(), {});
    await host.startServices();
    const agentEnd = await host.fireHook(
      "agent_end",
      { runId: "r1", messages: [] },
      { sessionKey: "agent:main:x" },
    );
    expect(agentEnd).toMatchObject({ mode: "discovery", handled: 1, errors: [] });
    await host.fireHook("gateway_start", { port: 1 });
    expect(global[SHARED]?.sink).toEqual(["agent_end:r1:discovery", "gateway_start:full"]);
  });

  it("shows why closure state fails: the discovery instance never saw the service start", async () => {
    let instances = 0;
    host = await createFakeHost(() => {
      instances += 1;
      return createEntry({ keepSinkInClosure: true });
    });
    expect(instances).toBe(3);
    await host.startServices();
    await host.fireHook("agent_end", { runId: "lost" });
    expect(global[SHARED]?.sink).toEqual([]);
  });

  it("drops conversation hooks at registration without allowConversationAccess", async () => {
    host = await createFakeHost(createEntry(), { allowConversationAccess: false });
    await host.startServices();
    expect(await host.fireHook("agent_end", { runId: "r1" })).toMatchObject({ handled: 0 });
    expect(host.registrationWarnings[0]).toBe(
      'typed hook "agent_end" blocked because non-bundled plugins must set plugins.entries.clawscope-test.hooks.allowConversationAccess=true',
    );
    expect(host.hostConfig).toMatchObject({
      plugins: { entries: { "clawscope-test": { hooks: { allowConversationAccess: false } } } },
    });
  });

  it("catches a throwing hook handler like the host does", async () => {
    host = await createFakeHost(createEntry());
    const result = await host.fireHook("model_call_ended", { runId: "r1" });
    expect(result.handled).toBe(1);
    expect(String(result.errors[0])).toContain("handler bug");
    expect(host.logs.messages("warn")).toEqual([
      "[hooks] model_call_ended handler from clawscope-test failed: handler bug",
    ]);
  });

  it("answers gateway methods through the respond callback", async () => {
    host = await createFakeHost(createEntry());
    await host.startServices();
    expect(await host.callGatewayMethod("clawscope-test.status", { q: 1 })).toEqual({
      ok: true,
      payload: { echo: { q: 1 }, sink: [] },
      error: undefined,
      meta: undefined,
    });
    expect(await host.callGatewayMethod("clawscope-test.broken")).toMatchObject({
      ok: false,
      error: { message: "broken method" },
    });
    expect(await host.callGatewayMethod("clawscope-test.silent")).toMatchObject({ ok: false });
    expect(await host.callGatewayMethod("nope")).toMatchObject({
      ok: false,
      error: { message: "unknown method: nope" },
    });
  });

  it("runs registered tools", async () => {
    host = await createFakeHost(createEntry());
    expect(await host.callTool("echo_tool", { input: "hi" })).toEqual({
      content: [{ type: "text", text: '{"input":"hi"}' }],
    });
    await expect(host.callTool("missing", {})).rejects.toThrow("no tool named missing");
  });

  it("reloads config like the host: stop, register again, start", async () => {
    host = await createFakeHost(createEntry(), { pluginConfig: { v: 1 } });
    await host.startServices();
    await host.reloadConfig({ v: 2 });
    const shared = global[SHARED];
    expect(shared?.stops).toBe(1);
    expect(shared?.starts).toHaveLength(2);
    expect(host.cycles).toBe(2);
    expect(host.registrations[0]?.api.pluginConfig).toEqual({ v: 2 });
    expect(host.logs.messages("info")).toEqual(['started with {"v":1}', 'started with {"v":2}']);
    await host.stopServices();
    await host.stopServices();
    expect(shared?.stops).toBe(2);
  });

  it("logs a failing start and a throwing register instead of throwing", async () => {
    host = await createFakeHost({
      id: "clawscope-bad",
      register(api: OpenClawPluginApi) {
        api.registerService({
          id: "bad",
          start() {
            throw new Error("no backend");
          },
        });
        if (api.registrationMode === "discovery") throw new Error("register bug");
      },
    });
    await host.startServices();
    expect(host.logs.messages("error")).toEqual([
      "[plugins] clawscope-bad failed during register (discovery): register bug",
      "[plugins] clawscope-bad failed during register (discovery): register bug",
      "[plugins] service bad failed to start: no backend",
    ]);
  });

  it("removes its temp state dir on cleanup", async () => {
    const created = await createFakeHost(createEntry());
    await created.cleanup();
    expect(existsSync(created.stateDir)).toBe(false);
  });
});

describe("the real diagnostic bus in vitest", () => {
  it("delivers a trusted event emitted by the test to an internal listener", async () => {
    const received: { type: string; trusted: boolean; runId?: string }[] = [];
    const unsubscribe = onInternalDiagnosticEvent(
      (event, metadata) => {
        received.push({
          type: event.type,
          trusted: metadata.trusted,
          runId: (event as { runId?: string }).runId,
        });
      },
      { include: ["model.call.started"] },
    );
    try {
      emitTrustedDiagnosticEvent({
        type: "model.call.started",
        runId: "run-bus-1",
        callId: "run-bus-1:model:1",
        provider: "mock",
        model: "mock-model",
      } as never);
      await waitForDiagnosticEventsDrained();
      expect(received).toEqual([{ type: "model.call.started", trusted: true, runId: "run-bus-1" }]);
    } finally {
      unsubscribe();
    }
  });
});
