/**
 * The plugin runtime against hosts that misbehave: an api that throws at registration, a garbage
 * service context, a bus that refuses the subscription, odd extension answers; and the rule that
 * picks the one extension registering the pack's CLI command.
 */
import { onInternalDiagnosticEvent } from "openclaw/plugin-sdk/diagnostic-runtime";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createCapturedLogger } from "../../../testing/src/captured-logger.js";
import { createFakeHost, type FakeHost } from "../../../testing/src/fake-host.js";
import { defineConfig } from "../config/define-config.js";
import { packConfigFields } from "../config/pack-config.js";
import type { HealthSnapshot } from "../health/health.js";
import { readEventHubStats, type SubscribeToBus } from "./event-hub.js";
import type { HostPluginApi, HostServiceContext } from "./host-api.js";
import { createPackPlugin, type PackPluginSpec } from "./pack-plugin.js";
import { listRuntimes, readRuntime } from "./runtime-registry.js";
import { isCliOwner } from "./status-surfaces.js";

const testConfig = defineConfig({ ...packConfigFields });
const bus = onInternalDiagnosticEvent as SubscribeToBus;

function createSpec(id: string, overrides: Partial<PackPluginSpec<typeof testConfig>> = {}) {
  return { id, name: id, description: "hardening test", config: testConfig, start: () => ({}), ...overrides };
}

/** A hand-made api that records what was registered; `on` may be made to throw. */
function createRecordingApi(options: { throwOnHook?: boolean } = {}) {
  const logs = createCapturedLogger();
  const services: Parameters<HostPluginApi["registerService"]>[0][] = [];
  const methods = new Map<string, unknown>();
  const api: HostPluginApi = {
    logger: logs.logger,
    on() {
      if (options.throwOnHook) throw new Error("unknown hook");
    },
    registerService: (service) => services.push(service),
    registerGatewayMethod: (name, handler) => methods.set(name, handler),
  };
  return { api, logs, services, methods };
}

const hosts: FakeHost[] = [];
afterEach(async () => {
  for (const host of hosts.splice(0)) await host.cleanup();
  for (const runtime of listRuntimes()) await runtime.stop();
  expect(readEventHubStats()).toBeNull();
});

describe("a misbehaving host", () => {
  it("still registers the service and status method when api.on throws", () => {
    const { api, logs, services, methods } = createRecordingApi({ throwOnHook: true });
    expect(() =>
      createPackPlugin(createSpec("clawscope-hard"), { subscribe: bus }).register(api),
    ).not.toThrow();
    expect(services.map((service) => service.id)).toEqual(["clawscope-hard"]);
    expect([...methods.keys()]).toEqual(["clawscope-hard.status", "clawscope-hard.redeliver"]);
    expect(logs.messages("error")).toEqual(["clawscope-hard: could not register hooks: unknown hook"]);
  });

  it("survives a start with a garbage context and a stop before any start", async () => {
    const { api, services } = createRecordingApi();
    createPackPlugin(createSpec("clawscope-hard"), { subscribe: bus }).register(api);
    const service = services[0];
    await expect(service?.stop?.(null as never)).resolves.toBeUndefined();
    await expect(service?.start(null as unknown as HostServiceContext)).resolves.toBeUndefined();
    expect(readRuntime("clawscope-hard")?.health()).toMatchObject({
      state: "disabled",
      disabledReason: "the host gave the service no state dir",
    });
    await service?.stop?.(null as never);
    expect(readRuntime("clawscope-hard")).toBeUndefined();
  });

  it("disables the extension and leaves no listener behind when the bus refuses the subscription", async () => {
    const stopped = vi.fn();
    const refusing: SubscribeToBus = () => {
      throw new Error("bus closed");
    };
    const broken = await createFakeHost(() =>
      createPackPlugin(createSpec("clawscope-refused", { start: () => ({ stop: async () => stopped() }) }), {
        subscribe: refusing,
      }),
    );
    hosts.push(broken);
    await broken.startServices();
    expect(broken.logs.messages("error")).toEqual([
      "clawscope-refused: disabled: could not subscribe to diagnostic events: bus closed",
    ]);
    expect(stopped).toHaveBeenCalledTimes(1);
    expect(readEventHubStats()).toBeNull();

    const healthy = await createFakeHost(() =>
      createPackPlugin(createSpec("clawscope-healthy"), { subscribe: bus }),
    );
    hosts.push(healthy);
    await healthy.startServices();
    expect(readEventHubStats()).toMatchObject({ listeners: 1, subscriptions: 1 });
  });

  it("takes a start that returns nothing, and ignores a status() that is not an object", async () => {
    const host = await createFakeHost(() =>
      createPackPlugin(createSpec("clawscope-odd", { start: () => undefined as never }), { subscribe: bus }),
    );
    hosts.push(host);
    await host.startServices();
    const status = (await host.callGatewayMethod("clawscope-odd.status")).payload as HealthSnapshot;
    expect(status.state).toBe("running");
    expect(status.details).toEqual({});

    const chatty = await createFakeHost(() =>
      createPackPlugin(createSpec("clawscope-chatty", { start: () => ({ status: () => "ok" as never }) }), {
        subscribe: bus,
      }),
    );
    hosts.push(chatty);
    await chatty.startServices();
    expect(
      ((await chatty.callGatewayMethod("clawscope-chatty.status")).payload as HealthSnapshot).details,
    ).toEqual({});
  });
});

describe("isCliOwner", () => {
  const config = (entries: Record<string, unknown>) => ({ plugins: { entries } });

  it("picks the smallest enabled clawscope id, the same from every extension", () => {
    const entries = {
      "clawscope-b": { enabled: true },
      "clawscope-a": { enabled: false },
      "clawscope-c": {},
      "other-plugin": { enabled: true },
    };
    expect(["clawscope-b", "clawscope-c"].filter((id) => isCliOwner(id, config(entries)))).toEqual([
      "clawscope-b",
    ]);
  });

  it("lets an extension own it when the config names no smaller one, or is garbage", () => {
    expect(isCliOwner("clawscope-a", config({ "clawscope-b": {} }))).toBe(true);
    expect(isCliOwner("clawscope-z", undefined)).toBe(true);
    expect(isCliOwner("clawscope-z", { plugins: { entries: "nonsense" } })).toBe(true);
  });
});
