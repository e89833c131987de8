import { afterEach, describe, expect, it, vi } from "vitest";
import type { ExportPipelineOptions } from "../export/pipeline-options.js";
import { createHealthRecorder } from "../health/health.js";
import { createPackLogger } from "./logger.js";
import { createStartContext } from "./start-context.js";

// what each pipeline is created with (the real pipeline is not needed to see the wiring)
const created: Array<ExportPipelineOptions<unknown>> = [];
vi.mock("../export/export-pipeline.js", () => ({
  createExportPipeline: (options: ExportPipelineOptions<unknown>) => {
    created.push(options);
    return { start: () => undefined, stats: () => ({}), enqueue: () => undefined };
  },
}));

afterEach(() => {
  created.length = 0;
});

function startContext(config: Record<string, unknown>) {
  return createStartContext({
    pluginId: "clawscope-test",
    config,
    stateDir: "/tmp/clawscope-start-context-test",
    stateDirReady: true,
    hashKey: "test-key",
    logger: createPackLogger(
      { info: () => undefined, warn: () => undefined, error: () => undefined },
      "clawscope-test",
    ),
    health: createHealthRecorder("clawscope-test"),
    conversationAccess: true,
    hostConfig: {},
  }).context;
}

const send = async () => ({ kind: "ok" as const });

describe("createStartContext pipelines", () => {
  it("hand the pack's settings to every pipeline: flush interval, spool size and dir, retry ceiling", () => {
    const context = startContext({ flushIntervalMs: 750, spoolMaxBytes: 4096, retryMaxDelayMs: 5000 });
    context.createPipeline("traces", { send });
    expect(created[0]).toMatchObject({
      name: "traces",
      flushIntervalMs: 750,
      maxSpoolBytes: 4096,
      spoolDir: "/tmp/clawscope-start-context-test/spool/traces",
      retry: { maxDelayMs: 5000 },
    });
  });

  it("lets an extension's own options win, and leaves the retry default when the pack sets none", () => {
    const context = startContext({ retryMaxDelayMs: 5000 });
    context.createPipeline("scores", { send, retry: { maxDelayMs: 1000 }, flushIntervalMs: 100 });
    expect(created[0]).toMatchObject({ retry: { maxDelayMs: 1000 }, flushIntervalMs: 100 });
    startContext({}).createPipeline("plain", { send });
    expect(created[1]?.retry).toBeUndefined();
  });

  it("keeps records in memory only when the spool is off", () => {
    startContext({ spoolMaxBytes: 0 }).createPipeline("memory", { send });
    expect(created[0]?.spoolDir).toBeUndefined();
  });
});
