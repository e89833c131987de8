/**
 * Contract tests of `createPackPlugin` through the fake host and the real diagnostic bus:
 * registration in every mode, hooks from discovery instances, conversation access, and that no
 * extension bug or host quirk ever reaches the gateway.
 */
import {
  emitDiagnosticEvent,
  emitTrustedDiagnosticEvent,
  onInternalDiagnosticEvent,
} from "openclaw/plugin-sdk/diagnostic-runtime";
import { afterEach, describe, expect, it, vi } from "vitest";
import { buildTurnEvents, type TurnSpec } from "../../../testing/src/event-builders.js";
import { createFakeHost, type FakeHost, type FakeHostOptions } from "../../../testing/src/fake-host.js";
import { waitForHostInputHandled } from "../../../testing/src/host-settle.js";
import { defineConfig, field } from "../config/define-config.js";
import { packConfigFields } from "../config/pack-config.js";
import { PACK_HOOKS } from "../events/host-events.js";
import type { HealthSnapshot } from "../health/health.js";
import type { Turn } from "../turns/turn.js";
import { readEventHubStats, type SubscribeToBus } from "./event-hub.js";
import { createPackPlugin, type PackPluginSpec } from "./pack-plugin.js";
import type { PackService } from "./pack-runtime.js";
import { listRuntimes } from "./runtime-registry.js";

const testConfig = defineConfig({
  ...packConfigFields,
  endpoint: field.url({ description: "Where records go.", default: "http://127.0.0.1:9/records" }),
});

interface Recorder {
  turns: Turn[];
  events: unknown[];
  calls: string[];
}

const createRecorder = (): Recorder => ({ turns: [], events: [], calls: [] });

/** A loader, so every registration gets a fresh definition as a fresh module instance would. */
function createTestEntry(
  id: string,
  recorder: Recorder,
  service: Partial<PackService> = {},
  spec: Partial<PackPluginSpec<typeof testConfig>> = {},
) {
  const fullSpec: PackPluginSpec<typeof testConfig> = {
    id,
    name: id,
    description: "test extension",
    config: testConfig,
    eventTypes: ["session.state"],
    start() {
      recorder.calls.push("start");
      return {
        onTurn: (turn) => recorder.turns.push(turn),
        onEvent: (event) => recorder.events.push(event),
        async stop() {
          recorder.calls.push("stop");
        },
        ...service,
      };
    },
    ...spec,
  };
  return () => createPackPlugin(fullSpec, { subscribe: onInternalDiagnosticEvent as SubscribeToBus });
}

const hosts: FakeHost[] = [];
async function startHost(entry: ReturnType<typeof createTestEntry>, options: FakeHostOptions = {}) {
  const host = await createFakeHost(entry, options);
  hosts.push(host);
  await host.startServices();
  return host;
}

/** Emits a run's bus events on the real bus and fires its hooks through each host. */
async function replayTurn(targets: readonly FakeHost[], spec: TurnSpec) {
  const built = buildTurnEvents(spec);
  for (const input of built.inputs) {
    if (input.kind === "event") emitTrustedDiagnosticEvent(input.event as never);
    else
      for (const host of targets)
        await host.fireHook(input.name, input.event, input.context as Record<string, unknown>);
  }
  await waitForHostInputHandled();
  return built;
}

/** Lines the gateway would print because a plugin threw at it. */
function hostSeenErrors(host: FakeHost): unknown[] {
  return [
    ...host.logs.messages().filter((message) => /^\[(plugins|hooks)\].* failed/.test(message)),
    ...host.registrations.flatMap((registration) => registration.registerError ?? []),
  ];
}

const ownLines = (host: FakeHost, level: "warn" | "error") =>
  host.logs.messages(level).filter((message) => message.startsWith(`${host.pluginId}: `));

async function statusOf(host: FakeHost): Promise<HealthSnapshot> {
  const answer = await host.callGatewayMethod(`${host.pluginId}.status`);
  expect(answer.ok).toBe(true);
  return answer.payload as HealthSnapshot;
}

afterEach(async () => {
  for (const host of hosts.splice(0)) await host.cleanup();
  vi.restoreAllMocks();
  expect(readEventHubStats()).toBeNull();
  expect(listRuntimes()).toEqual([]);
});

describe("createPackPlugin registration", () => {
  it("registers hooks, the service and the status method in every mode, each in a fresh api", async () => {
    const host = await startHost(createTestEntry("clawscope-alpha", createRecorder()));
    expect(host.registrations.map((registration) => registration.mode)).toEqual([
      "full",
      "discovery",
      "discovery",
    ]);
    expect(new Set(host.registrations.map((registration) => registration.api)).size).toBe(3);
    const wanted = [...PACK_HOOKS.plain, ...PACK_HOOKS.conversation].sort();
    for (const registration of host.registrations) {
      expect(registration.registerError).toBeUndefined();
      expect(registration.hooks.map((hook) => hook.name).sort()).toEqual(wanted);
      expect(registration.services).toHaveLength(1);
      expect(registration.services[0]).toMatchObject({
        id: "clawscope-alpha",
        reload: { configPrefixes: ["plugins.entries.clawscope-alpha"] },
      });
      expect([...registration.gatewayMethods.keys()]).toContain("clawscope-alpha.status");
    }
  });

  it("assembles a turn from bus events and hooks fired through a discovery instance", async () => {
    const recorder = createRecorder();
    const host = await startHost(createTestEntry("clawscope-alpha", recorder));
    const built = await replayTurn([host], {
      runId: "run-bus",
      modelCalls: [{ usage: { input: 100, output: 20 } }, { usage: { input: 50, output: 5, cacheRead: 7 } }],
      tools: [{ toolName: "echo" }],
    });
    expect(await host.fireHook("agent_end", { runId: "run-late" }, {})).toMatchObject({
      mode: "discovery",
      handled: 1,
      errors: [],
    });
    expect(recorder.turns).toHaveLength(1);
    const turn = recorder.turns[0] as Turn;
    const { costUsd, ...tokens } = built.totals;
    expect(turn).toMatchObject({
      runId: "run-bus",
      usageSource: "model.usage",
      outcome: "success",
      usage: tokens,
    });
    expect(turn.cost).toEqual({ usd: costUsd, source: "provider" });
    expect(turn.modelCalls).toHaveLength(2);
    expect(turn.toolCalls.map((tool) => tool.toolName)).toEqual(["echo"]);
    expect(turn.incomplete).toBeUndefined();
  });

  it("assembles a turn from discovery hooks alone when the bus is silent", async () => {
    const recorder = createRecorder();
    const host = await startHost(createTestEntry("clawscope-alpha", recorder), {
      pluginConfig: { settleMs: 1 },
    });
    const built = await replayTurn([host], { runId: "run-hooks", withBus: false });
    await vi.waitFor(() => expect(recorder.turns).toHaveLength(1), { timeout: 5000, interval: 50 });
    const { costUsd, ...tokens } = built.totals;
    expect(recorder.turns[0]).toMatchObject({ runId: "run-hooks", usageSource: "llm_output", usage: tokens });
    expect(recorder.turns[0]?.cost.usd).toBe(costUsd);
  });
});

describe("conversation access", () => {
  const setting = "plugins.entries.clawscope-alpha.hooks.allowConversationAccess";

  it("warns exactly once per start, naming the setting, when it is off", async () => {
    const recorder = createRecorder();
    const host = await startHost(createTestEntry("clawscope-alpha", recorder), {
      allowConversationAccess: false,
    });
    await replayTurn([host], { runId: "run-1" });
    await replayTurn([host], { runId: "run-2" });
    expect(recorder.turns.map((turn) => turn.runId)).toEqual(["run-1", "run-2"]);
    const warnings = () => ownLines(host, "warn").filter((line) => line.includes(setting));
    expect(warnings()).toHaveLength(1);
    expect((await statusOf(host)).warnings.some((warning) => warning.includes(setting))).toBe(true);
    await host.reloadConfig({});
    expect(warnings()).toHaveLength(2);
  });

  it("says nothing about it when it is on", async () => {
    const host = await startHost(createTestEntry("clawscope-alpha", createRecorder()));
    await replayTurn([host], { runId: "run-1" });
    expect(host.logs.messages().filter((line) => line.includes("allowConversationAccess"))).toEqual([]);
  });
});

describe("nothing reaches the host", () => {
  it("disables the extension with one line when spec.start throws", async () => {
    const recorder = createRecorder();
    const entry = createTestEntry(
      "clawscope-alpha",
      recorder,
      {},
      {
        start() {
          throw new Error("backend exploded");
        },
      },
    );
    const host = await startHost(entry);
    expect(ownLines(host, "error")).toEqual(["clawscope-alpha: disabled: start failed: backend exploded"]);
    expect(host.health.failing).toBe(true);
    expect(await statusOf(host)).toMatchObject({
      state: "disabled",
      disabledReason: "start failed: backend exploded",
      lastError: { message: "start failed: backend exploded" },
    });
    expect(readEventHubStats()).toBeNull();
    expect(hostSeenErrors(host)).toEqual([]);
  });

  it("logs a throwing onTurn once (rate-limited) and records it as the last error", async () => {
    const recorder = createRecorder();
    const onTurn = vi.fn(() => {
      throw new Error("mapping bug");
    });
    const host = await startHost(createTestEntry("clawscope-alpha", recorder, { onTurn }));
    await replayTurn([host], { runId: "run-1" });
    await replayTurn([host], { runId: "run-2" });
    expect(onTurn).toHaveBeenCalledTimes(2);
    expect(ownLines(host, "error")).toEqual(["clawscope-alpha: turn export failed: mapping bug"]);
    const status = await statusOf(host);
    expect(status.turns.assembled).toBe(2);
    expect(status.lastError?.message).toBe("turn export failed: mapping bug");
    expect(hostSeenErrors(host)).toEqual([]);
  });

  it("logs a throwing onEvent once (rate-limited) and records it as the last error", async () => {
    const onEvent = vi.fn(() => {
      throw new Error("event bug");
    });
    const host = await startHost(createTestEntry("clawscope-alpha", createRecorder(), { onEvent }));
    emitDiagnosticEvent({ type: "session.state", state: "idle" } as never);
    emitDiagnosticEvent({ type: "session.state", state: "busy" } as never);
    await waitForHostInputHandled();
    expect(onEvent).toHaveBeenCalledTimes(2);
    expect(ownLines(host, "error")).toEqual(["clawscope-alpha: could not handle session.state: event bug"]);
    expect((await statusOf(host)).lastError?.message).toBe("could not handle session.state: event bug");
    expect(hostSeenErrors(host)).toEqual([]);
  });

  it("reads an operational event once for every extension, typed and frozen, and counts a malformed one", async () => {
    const alpha = createRecorder();
    const beta = createRecorder();
    const hostA = await startHost(createTestEntry("clawscope-alpha", alpha));
    const hostB = await startHost(createTestEntry("clawscope-beta", beta));
    emitDiagnosticEvent({
      type: "session.state",
      state: "processing",
      prevState: "idle",
      sessionKey: "agent:main:s1",
      trace: { traceId: "4BF92F3577B34DA6A3CE929D0E0E4736", spanId: "00F067AA0BA902B7" },
      unexpected: { nested: true },
    } as never);
    emitDiagnosticEvent({ type: "session.state", state: 42 } as never);
    await waitForHostInputHandled();
    expect(alpha.events).toHaveLength(1);
    const [event] = alpha.events as Record<string, unknown>[];
    expect(event).toEqual({
      type: "session.state",
      ts: expect.any(Number),
      seq: expect.any(Number),
      state: "processing",
      prevState: "idle",
      session: "agent:main:s1",
      trace: { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7" },
    });
    // one read serves every member: the same frozen record
    expect(beta.events).toEqual(alpha.events);
    expect(beta.events[0]).toBe(event);
    expect(Object.isFrozen(event) && Object.isFrozen(event?.trace)).toBe(true);
    // the malformed one reached no one, and each extension counted it once
    for (const host of [hostA, hostB]) expect((await statusOf(host)).events.malformed).toBe(1);
  });

  it("counts an operational event of a type only extensions read as malformed once, with one warning", async () => {
    const recorder = createRecorder();
    const host = await startHost(
      createTestEntry("clawscope-alpha", recorder, {}, { eventTypes: ["queue.lane.dequeue", "tool.loop"] }),
    );
    const before = (await statusOf(host)).events.malformed;
    emitDiagnosticEvent({ type: "queue.lane.dequeue", lane: "main", queueSize: 0, waitMs: "slow" } as never);
    emitDiagnosticEvent({ type: "tool.loop", count: 3 } as never);
    emitDiagnosticEvent({
      type: "tool.loop",
      toolName: "exec",
      count: 3,
      detector: "generic_repeat",
    } as never);
    await waitForHostInputHandled();
    expect(recorder.events).toMatchObject([
      { type: "tool.loop", toolName: "exec", count: 3, detector: "generic_repeat" },
    ]);
    expect((await statusOf(host)).events.malformed - before).toBe(2);
    expect(ownLines(host, "warn").filter((line) => line.includes("malformed"))).toEqual([
      "clawscope-alpha: skipped a malformed queue.lane.dequeue event (a required field is missing or malformed)",
    ]);
  });

  it("still stops pipelines, leaves the registry and tears down the bus when service.stop throws", async () => {
    let pipelineStopped: ReturnType<typeof vi.fn> | undefined;
    const entry = createTestEntry(
      "clawscope-alpha",
      createRecorder(),
      {},
      {
        start(context) {
          const pipeline = context.createPipeline("records", { send: async () => ({ kind: "ok" }) });
          pipelineStopped = vi.spyOn(pipeline, "stop") as never;
          return {
            stop() {
              throw new Error("stop bug");
            },
          };
        },
      },
    );
    const host = await startHost(entry);
    expect(listRuntimes()).toHaveLength(1);
    await host.stopServices();
    expect(pipelineStopped).toHaveBeenCalledTimes(1);
    expect(listRuntimes()).toEqual([]);
    expect(readEventHubStats()).toBeNull();
    expect(ownLines(host, "error")).toEqual(["clawscope-alpha: stop failed: stop bug"]);
    expect(hostSeenErrors(host)).toEqual([]);
  });

  it("keeps working when the host logger throws on every call", async () => {
    const recorder = createRecorder();
    const host = await createFakeHost(
      createTestEntry("clawscope-alpha", recorder, {
        onTurn() {
          throw new Error("mapping bug");
        },
      }),
      { allowConversationAccess: false, pluginConfig: { endpoint: "not a url" } },
    );
    hosts.push(host);
    let attempts = 0;
    for (const level of ["debug", "info", "warn", "error"] as const) {
      host.logs.logger[level] = () => {
        attempts += 1;
        throw new Error("logger down");
      };
    }
    await host.startServices();
    expect((await statusOf(host)).state).toBe("disabled");
    await host.reloadConfig({});
    await replayTurn([host], { runId: "run-1" });
    expect((await statusOf(host)).turns.assembled).toBe(1);
    await host.stopServices();
    expect(attempts).toBeGreaterThan(2);
    expect(hostSeenErrors(host)).toEqual([]);
  });
});
