/**
 * Lifecycle contract of the plugin runtime: one bus subscription for many extensions, hot reload,
 * an orderly stop that spools what is pending, and start/stop races the host can produce.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  emitTrustedDiagnosticEvent,
  onInternalDiagnosticEvent,
} from "openclaw/plugin-sdk/diagnostic-runtime";
import { afterEach, describe, expect, it, vi } from "vitest";
import { buildTurnEvents } from "../../../testing/src/event-builders.js";
import { createFakeHost, type FakeHost, type FakeHostOptions } from "../../../testing/src/fake-host.js";
import { waitForHostInputHandled } from "../../../testing/src/host-settle.js";
import { defineConfig, field } from "../config/define-config.js";
import { packConfigFields } from "../config/pack-config.js";
import type { ExportPipeline } from "../export/export-pipeline.js";
import type { SendResult } from "../export/types.js";
import type { HealthSnapshot } from "../health/health.js";
import type { Turn } from "../turns/turn.js";
import { readEventHubStats, type SubscribeToBus } from "./event-hub.js";
import { createPackPlugin, type PackPluginSpec } from "./pack-plugin.js";
import { listRuntimes, readRuntime } from "./runtime-registry.js";

const testConfig = defineConfig({
  ...packConfigFields,
  endpoint: field.url({ description: "Where records go.", default: "http://127.0.0.1:9/a" }),
});

/** What every started instance of a test extension did, tagged by its start number. */
interface Recorder {
  calls: string[];
  turns: Array<{ start: number; turn: Turn }>;
  pipelines: ExportPipeline<Turn>[];
  sent: string[];
  send: () => SendResult;
  /** When set, spec.start waits for it (a slow backend handshake). */
  gate?: Promise<void>;
}

const createRecorder = (): Recorder => ({
  calls: [],
  turns: [],
  pipelines: [],
  sent: [],
  send: () => ({ kind: "ok" }),
});

let activeBusSubscriptions = 0;
/** The real bus, counting live subscriptions. */
const countingSubscribe: SubscribeToBus = (listener, filter) => {
  activeBusSubscriptions += 1;
  const unsubscribe = onInternalDiagnosticEvent(listener as never, filter as never);
  let active = true;
  return () => {
    if (active) activeBusSubscriptions -= 1;
    active = false;
    unsubscribe();
  };
};

function createTestEntry(
  id: string,
  recorder: Recorder,
  spec: Partial<PackPluginSpec<typeof testConfig>> = {},
) {
  const fullSpec: PackPluginSpec<typeof testConfig> = {
    id,
    name: id,
    description: "lifecycle test extension",
    config: testConfig,
    async start(context) {
      const start = recorder.calls.filter((call) => call.startsWith("start")).length + 1;
      recorder.calls.push(`start ${start} ${context.config.endpoint}`);
      await recorder.gate;
      const pipeline = context.createPipeline<Turn>("records", {
        retry: { initialDelayMs: 1, maxDelayMs: 1 },
        flushIntervalMs: 20,
        async send(items) {
          const result = recorder.send();
          if (result.kind === "ok") recorder.sent.push(...items.map((item) => item.id));
          return result;
        },
      });
      recorder.pipelines.push(pipeline);
      return {
        onTurn(turn) {
          recorder.calls.push(`turn ${start} ${turn.runId} ${turn.incomplete?.reason ?? "complete"}`);
          recorder.turns.push({ start, turn });
          pipeline.enqueue(turn.id, turn);
        },
        async stop() {
          recorder.calls.push(`stop ${start}`);
        },
      };
    },
    ...spec,
  };
  return () => createPackPlugin(fullSpec, { subscribe: countingSubscribe });
}

const hosts: FakeHost[] = [];
const folders: string[] = [];
async function createHost(entry: ReturnType<typeof createTestEntry>, options: FakeHostOptions = {}) {
  const host = await createFakeHost(entry, options);
  hosts.push(host);
  return host;
}

async function replayTurn(targets: readonly FakeHost[], runId: string) {
  for (const input of buildTurnEvents({ runId }).inputs) {
    if (input.kind === "event") emitTrustedDiagnosticEvent(input.event as never);
    else
      for (const host of targets)
        await host.fireHook(input.name, input.event, input.context as Record<string, unknown>);
  }
  await waitForHostInputHandled();
}

const statusOf = async (host: FakeHost) =>
  (await host.callGatewayMethod(`${host.pluginId}.status`)).payload as HealthSnapshot;

afterEach(async () => {
  for (const host of hosts.splice(0)) await host.cleanup();
  for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
  vi.restoreAllMocks();
  expect(readEventHubStats()).toBeNull();
  expect(activeBusSubscriptions).toBe(0);
  expect(listRuntimes()).toEqual([]);
});

describe("many extensions in one process", () => {
  it("share one bus subscription, each get every turn, and tear it down with the last stop", async () => {
    const stateDir = await mkdtemp(path.join(tmpdir(), "clawscope-five-"));
    folders.push(stateDir);
    const ids = ["a", "b", "c", "d", "e"].map((letter) => `clawscope-${letter}`);
    const recorders = ids.map(() => createRecorder());
    const five = await Promise.all(
      ids.map((id, index) => createHost(createTestEntry(id, recorders[index] as Recorder), { stateDir })),
    );
    for (const host of five) await host.startServices();
    // one assembly for the five: one hub listener, one subscription
    expect(readEventHubStats()).toMatchObject({ listeners: 1, subscriptions: 1 });
    expect(activeBusSubscriptions).toBe(1);
    await replayTurn(five, "run-shared");
    for (const recorder of recorders)
      expect(recorder.turns.map((entry) => entry.turn.runId)).toEqual(["run-shared"]);
    // assembled once: the very same turn, frozen so no extension can change what the others see
    const shared = recorders[0]?.turns[0]?.turn;
    for (const recorder of recorders) expect(recorder.turns[0]?.turn).toBe(shared);
    expect(Object.isFrozen(shared)).toBe(true);
    expect(Object.isFrozen(shared?.usage)).toBe(true);
    for (const host of five) expect((await statusOf(host)).turns.assembled).toBe(1);

    for (const host of five) await host.stopServices();
    expect(readEventHubStats()).toBeNull();
    expect((globalThis as Record<symbol, unknown>)[Symbol.for("clawscope.turn-hub.v2")]).toEqual(new Map());
    expect(activeBusSubscriptions).toBe(0);
    expect(listRuntimes()).toEqual([]);

    const sixth = createRecorder();
    const host = await createHost(createTestEntry("clawscope-f", sixth), { stateDir });
    await host.startServices();
    expect(readEventHubStats()).toMatchObject({ listeners: 1, subscriptions: 1 });
    await replayTurn([host], "run-after");
    expect(sixth.turns.map((entry) => entry.turn.runId)).toEqual(["run-after"]);
  });
});

describe("hot reload", () => {
  it("stops the old runtime, starts one with the new config, and leaks no subscription or timer", async () => {
    const setIntervalSpy = vi.spyOn(globalThis, "setInterval");
    const clearIntervalSpy = vi.spyOn(globalThis, "clearInterval");
    const recorder = createRecorder();
    const host = await createHost(createTestEntry("clawscope-reload", recorder), {
      pluginConfig: { endpoint: "http://a.test/" },
    });
    await host.startServices();
    const first = recorder.pipelines[0] as ExportPipeline<Turn>;
    const firstStop = vi.spyOn(first, "stop");
    await host.reloadConfig({ endpoint: "http://b.test/" });
    expect(firstStop).toHaveBeenCalledTimes(1);
    expect(recorder.calls).toEqual(["start 1 http://a.test/", "stop 1", "start 2 http://b.test/"]);
    expect(readEventHubStats()).toMatchObject({ listeners: 1, subscriptions: 1 });
    expect(activeBusSubscriptions).toBe(1);
    await replayTurn([host], "run-after-reload");
    expect(recorder.turns.map((entry) => entry.start)).toEqual([2]);

    await host.stopServices();
    // the runtime's own intervals (tick and health file) must all be unref'd and cleared again
    const intervals = setIntervalSpy.mock.results
      .filter((_result, index) => [1000, 10_000].includes(setIntervalSpy.mock.calls[index]?.[1] as number))
      .map((result) => result.value as NodeJS.Timeout);
    expect(intervals).toHaveLength(4);
    for (const handle of intervals) {
      expect(handle.hasRef()).toBe(false);
      expect(clearIntervalSpy).toHaveBeenCalledWith(handle);
    }
  });
});

describe("stop", () => {
  it("hands open turns over as incomplete(shutdown) before the service stops", async () => {
    const recorder = createRecorder();
    const host = await createHost(createTestEntry("clawscope-stop", recorder));
    await host.startServices();
    const built = buildTurnEvents({ runId: "run-open" });
    emitTrustedDiagnosticEvent(built.events[1]?.event as never); // run.started only
    await waitForHostInputHandled();
    expect((await statusOf(host)).turns.open).toBe(1);
    await host.stopServices();
    expect(recorder.calls.slice(1)).toEqual(["turn 1 run-open shutdown", "stop 1"]);
    expect(recorder.turns[0]?.turn.incomplete).toEqual({ reason: "shutdown", missing: ["run.completed"] });
  });

  it("spools what the backend did not take, and the next start delivers it", async () => {
    const recorder = createRecorder();
    recorder.send = () => ({ kind: "retry", reason: "backend down", retryAfterMs: 600_000 });
    const host = await createHost(createTestEntry("clawscope-spool", recorder));
    await host.startServices();
    await replayTurn([host], "run-spooled");
    await host.stopServices();
    const spoolDir = path.join(host.stateDir, "plugins", "clawscope-spool", "spool", "records");
    const files = (await readdir(spoolDir, { withFileTypes: true })).filter((entry) => entry.isFile());
    expect(files.length).toBeGreaterThan(0);
    expect(recorder.sent).toEqual([]);

    recorder.send = () => ({ kind: "ok" });
    await host.startServices();
    await vi.waitFor(() => expect(recorder.sent).toEqual([recorder.turns[0]?.turn.id]), { timeout: 5000 });
  });
});

describe("races and broken environments", () => {
  it("a second start without stop replaces the first; concurrent starts leave exactly one", async () => {
    const recorder = createRecorder();
    const host = await createHost(createTestEntry("clawscope-twice", recorder));
    await host.startServices();
    await host.startServices();
    expect(recorder.calls).toEqual([
      "start 1 http://127.0.0.1:9/a",
      "stop 1",
      "start 2 http://127.0.0.1:9/a",
    ]);
    await Promise.all([host.startServices(), host.startServices()]);
    expect(readEventHubStats()).toMatchObject({ listeners: 1 });
    const starts = recorder.calls.filter((call) => call.startsWith("start")).length;
    const stops = recorder.calls.filter((call) => call.startsWith("stop")).length;
    expect(starts - stops).toBe(1);
    await replayTurn([host], "run-once");
    expect(recorder.turns).toHaveLength(1);
  });

  it("a stop while start is still awaiting leaves nothing running", async () => {
    const recorder = createRecorder();
    let open: () => void = () => undefined;
    recorder.gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const host = await createHost(createTestEntry("clawscope-slow", recorder));
    const service = host.full()?.services[0];
    const starting = service?.start({
      config: host.hostConfig,
      stateDir: host.stateDir,
      logger: host.logs.logger,
    } as never);
    await vi.waitFor(() => expect(recorder.calls).toHaveLength(1));
    const stopping = service?.stop?.({} as never);
    open();
    await Promise.all([starting, stopping]);
    expect(recorder.calls).toEqual(["start 1 http://127.0.0.1:9/a", "stop 1"]);
    expect(readRuntime("clawscope-slow")?.health().state).not.toBe("running");
    expect(readEventHubStats()).toBeNull();
  });

  it("disables the extension with a clear line when the hash key cannot be loaded; rawIds runs", async () => {
    const host = await createHost(createTestEntry("clawscope-key", createRecorder()));
    const keyFile = path.join(host.stateDir, "plugins", "clawscope", "hash-key");
    await mkdir(path.dirname(keyFile), { recursive: true });
    await writeFile(keyFile, "garbage\n");
    await host.startServices();
    const errors = host.logs.messages("error");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^clawscope-key: disabled: .*hash key.*malformed.*set hashKey/);
    expect((await statusOf(host)).state).toBe("disabled");
    await host.reloadConfig({ rawIds: true });
    expect((await statusOf(host)).state).toBe("running");
  });

  it("runs from memory with one warning when the state dir is not writable", async () => {
    const recorder = createRecorder();
    const host = await createHost(createTestEntry("clawscope-readonly", recorder), {
      pluginConfig: { hashKey: "0123456789abcdef0123456789abcdef" },
    });
    await writeFile(path.join(host.stateDir, "plugins"), "a file where a folder should be");
    await host.startServices();
    const status = await statusOf(host);
    expect(status.state).toBe("running");
    const warnings = host.logs.messages("warn").filter((line) => line.includes("not writable"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^clawscope-readonly: state dir .* is not writable/);
    await replayTurn([host], "run-memory");
    await vi.waitFor(() => expect(recorder.sent).toHaveLength(1));
    await host.stopServices();
    expect(host.logs.messages("error")).toEqual([]);
  });
});
