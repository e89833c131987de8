/**
 * Health contract of the plugin runtime: malformed input on the real bus is counted and skipped,
 * the status method and health.json carry every counter, and the status CLI prints them.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
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
import { defineConfig } from "../config/define-config.js";
import { packConfigFields } from "../config/pack-config.js";
import type { ExportPipeline } from "../export/export-pipeline.js";
import { formatHealthLine, type HealthSnapshot } from "../health/health.js";
import type { Turn } from "../turns/turn.js";
import { readEventHubStats, type SubscribeToBus } from "./event-hub.js";
import { createPackPlugin } from "./pack-plugin.js";

const testConfig = defineConfig({ ...packConfigFields });
const hosts: FakeHost[] = [];
const folders: string[] = [];
let pipelines: ExportPipeline<Turn>[] = [];
let turns: Turn[] = [];
/** The third send (after a retry and a success) waits for this, so a pending item can be observed. */
let releaseThirdSend: () => void = () => undefined;
let thirdSendGate = new Promise<void>((resolve) => (releaseThirdSend = resolve));

function createTestEntry(id: string) {
  let sends = 0;
  return () =>
    createPackPlugin(
      {
        id,
        name: id,
        description: "health test extension",
        config: testConfig,
        start(context) {
          const pipeline = context.createPipeline<Turn>("records", {
            maxQueueItems: 1,
            retry: { initialDelayMs: 1, maxDelayMs: 1 },
            flushIntervalMs: 20,
            async send() {
              sends += 1;
              if (sends === 3) await thirdSendGate;
              return sends === 1 ? { kind: "retry", reason: "backend hiccup" } : { kind: "ok" };
            },
          });
          pipelines.push(pipeline);
          return {
            onTurn(turn) {
              turns.push(turn);
              pipeline.enqueue(turn.id, turn);
            },
            status: () => ({ backend: "http://backend.test" }),
          };
        },
      },
      { subscribe: onInternalDiagnosticEvent as SubscribeToBus },
    );
}

async function startHost(id: string, options: FakeHostOptions = {}) {
  const host = await createFakeHost(createTestEntry(id), options);
  hosts.push(host);
  await host.startServices();
  return host;
}

async function replayTurn(host: FakeHost, runId: string) {
  for (const input of buildTurnEvents({ runId }).inputs) {
    if (input.kind === "event") emitTrustedDiagnosticEvent(input.event as never);
    else await host.fireHook(input.name, input.event, input.context as Record<string, unknown>);
  }
  await waitForHostInputHandled();
}

const statusOf = async (host: FakeHost) =>
  (await host.callGatewayMethod(`${host.pluginId}.status`)).payload as HealthSnapshot;

afterEach(async () => {
  for (const host of hosts.splice(0)) await host.cleanup();
  for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
  pipelines = [];
  turns = [];
  releaseThirdSend();
  thirdSendGate = new Promise<void>((resolve) => (releaseThirdSend = resolve));
  vi.restoreAllMocks();
  expect(readEventHubStats()).toBeNull();
});

describe("malformed input on the real bus", () => {
  it("is counted and skipped, and the next valid turn is assembled", async () => {
    const host = await startHost("clawscope-malformed");
    const consoleError = vi.spyOn(console, "error").mockImplementation(() => undefined);
    emitTrustedDiagnosticEvent({ type: "run.started" } as never);
    emitTrustedDiagnosticEvent({ type: "model.usage", usage: "lots", trace: { traceId: "t1" } } as never);
    emitTrustedDiagnosticEvent({ type: "run.started", runId: "x".repeat(100_000) } as never);
    // the bus refuses to deliver what it cannot clone: a throwing getter never reaches a listener
    expect(() =>
      emitTrustedDiagnosticEvent({
        type: "run.started",
        get runId(): string {
          throw new Error("getter");
        },
      } as never),
    ).toThrow("getter");
    emitTrustedDiagnosticEvent({
      type: "run.started",
      runId: "r-nested",
      trace: {
        get traceId(): string {
          throw new Error("nested getter");
        },
      },
    } as never);
    expect(consoleError).toHaveBeenCalledTimes(1);
    expect((await host.fireHook("agent_end", null)).errors).toEqual([]);
    await waitForHostInputHandled();

    await replayTurn(host, "run-valid");
    expect(turns.map((turn) => turn.runId)).toEqual(["run-valid"]);
    const status = await statusOf(host);
    expect(status.events.malformed).toBe(4);
    expect(status.events.seen).toBeGreaterThanOrEqual(3 + buildTurnEvents({ runId: "x" }).events.length);
    expect(status.turns).toEqual({ assembled: 1, incomplete: 0, open: 0, retried: 0, amended: 0, late: 0 });
  });
});

describe("health snapshot", () => {
  it("carries events, turns, export counters and the last error, over RPC and in health.json", async () => {
    const host = await startHost("clawscope-health");
    await replayTurn(host, "run-1");
    const pipeline = pipelines[0] as ExportPipeline<Turn>;
    await vi.waitFor(() => expect(pipeline.stats().exported).toBe(1), { timeout: 5000 });
    pipeline.enqueue("a", turns[0] as Turn);
    pipeline.enqueue("b", turns[0] as Turn); // over maxQueueItems: dropped
    emitTrustedDiagnosticEvent({ type: "run.started" } as never);
    emitTrustedDiagnosticEvent(buildTurnEvents({ runId: "run-open" }).events[1]?.event as never);
    await waitForHostInputHandled();

    const status = await statusOf(host);
    expect(status).toMatchObject({
      pluginId: "clawscope-health",
      state: "running",
      events: { malformed: 1 },
      turns: { assembled: 1, incomplete: 0, open: 1 },
      export: { exported: 1, retried: 1, pending: 1, dropped: 1 },
      lastError: { message: "backend hiccup" },
      details: { backend: "http://backend.test" },
    });
    expect(status.export.spooled).toBeGreaterThanOrEqual(1);
    expect(status.events.seen).toBe(buildTurnEvents({ runId: "x" }).events.length + 2);

    const line = formatHealthLine(status);
    expect(line).not.toContain("\n");
    for (const part of [
      "clawscope-health: running",
      "malformed 1",
      "open 1",
      "exported 1",
      "retried 1",
      "dropped 1",
      "last error",
    ])
      expect(line).toContain(part);

    // once "a" is delivered, the turn closed at shutdown fits the one-item queue and goes out at stop
    releaseThirdSend();
    await vi.waitFor(() => expect(pipeline.stats().exported).toBe(2), { timeout: 5000 });
    await host.stopServices();
    const file = path.join(host.stateDir, "plugins", "clawscope-health", "health.json");
    const saved = JSON.parse(await readFile(file, "utf8")) as HealthSnapshot;
    expect(saved).toMatchObject({
      state: "stopped",
      events: { malformed: 1 },
      turns: { assembled: 2, incomplete: 1, open: 0 },
      export: { exported: 3, retried: 1, pending: 0, dropped: 1 },
      lastError: { message: "backend hiccup" },
    });
  });
});

describe("status CLI", () => {
  function createFakeProgram() {
    const commands = new Map<string, { options: string[]; action?: (options: object) => Promise<void> }>();
    const make = (name: string) => {
      const record: { options: string[]; action?: (options: object) => Promise<void> } = { options: [] };
      commands.set(name, record);
      const command = {
        command: (child: string) => make(`${name} ${child}`.trim()),
        description: () => command,
        option: (flags: string) => {
          record.options.push(flags);
          return command;
        },
        action: (handler: (options: object) => Promise<void>) => {
          record.action = handler;
          return command;
        },
      };
      return command;
    };
    return { program: make(""), commands };
  }

  it("is registered by one of five extensions in every registry, and prints one line each", async () => {
    const stateDir = await mkdtemp(path.join(tmpdir(), "clawscope-cli-"));
    folders.push(stateDir);
    const ids = ["clawscope-e", "clawscope-b", "clawscope-d", "clawscope-a", "clawscope-c"];
    const entries = Object.fromEntries(ids.map((id) => [id, { enabled: true }]));
    const five: FakeHost[] = [];
    for (const id of ids) five.push(await startHost(id, { stateDir, hostConfig: { plugins: { entries } } }));
    const registrars = five.flatMap((host) =>
      host.registrations.flatMap((registration) =>
        registration.cliRegistrars.map((cli) => ({ id: host.pluginId, mode: registration.mode, cli })),
      ),
    );
    expect(registrars.map((entry) => `${entry.id} ${entry.mode}`)).toEqual([
      "clawscope-a full",
      "clawscope-a discovery",
      "clawscope-a discovery",
    ]);
    const owner = registrars[0]?.cli as {
      registrar: (context: { program: unknown }) => void;
      options: unknown;
    };
    expect(owner.options).toMatchObject({ descriptors: [{ name: "clawscope", hasSubcommands: true }] });

    for (const host of five) await host.stopServices();
    const { program, commands } = createFakeProgram();
    owner.registrar({ program });
    const status = commands.get("clawscope status");
    expect(status?.options).toEqual(["--json", "--state-dir <dir>"]);
    const written: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    await status?.action?.({ stateDir });
    const lines = written.join("").trimEnd().split("\n");
    expect(lines.map((line) => line.split(":")[0])).toEqual([...ids].sort());
    for (const line of lines)
      expect(line).toMatch(/: stopped; events \d+ .*exported 0.* \(as of \d+s ago\)$/);

    written.length = 0;
    await status?.action?.({ stateDir, json: true });
    expect((JSON.parse(written.join("")) as HealthSnapshot[]).map((snapshot) => snapshot.pluginId)).toEqual(
      [...ids].sort(),
    );
    written.length = 0;
    await status?.action?.({ stateDir: path.join(stateDir, "empty") });
    expect(written.join("")).toContain("no clawscope extension has reported");
  });
});
