import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createPackLogger } from "@clawscope/kit";
import { createCapturedLogger } from "@clawscope/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRunLifecycle, type RunLifecycleOptions } from "./run-lifecycle.js";
import { createStubMlflow, type StubMlflow } from "./test-client.js";

let stateDir: string;
let stub: StubMlflow;
beforeEach(async () => {
  stateDir = await mkdtemp(path.join(tmpdir(), "clawscope-mlflow-lifecycle-"));
  stub = createStubMlflow();
});
afterEach(() => rm(stateDir, { recursive: true, force: true }));

function createLifecycle(overrides: Partial<RunLifecycleOptions> = {}) {
  const logs = createCapturedLogger();
  const lifecycle = createRunLifecycle({
    client: stub.client,
    experimentName: "openclaw",
    runName: "gw",
    tags: { "clawscope.gateway": "gw", "clawscope.gateway_instance": "gw@abc" },
    params: { experimentName: "openclaw" },
    gatewayInstance: "gw@abc",
    stateDir,
    logger: createPackLogger(logs.logger, "clawscope-mlflow"),
    retry: { initialMs: 5, maxMs: 20 },
    ...overrides,
  });
  return { lifecycle, logs };
}

describe("createRunLifecycle", () => {
  it("creates the run once, logs the params and records it in run.json", async () => {
    const { lifecycle } = createLifecycle();
    const [first, second] = await Promise.all([lifecycle.ensureRun(), lifecycle.ensureRun()]);
    expect(first?.runId).toBe("run-1");
    expect(second?.runId).toBe("run-1");
    expect(stub.calls.filter((call) => call === "create")).toHaveLength(1);
    expect(stub.logged).toEqual([{ runId: "run-1", metrics: [], params: { experimentName: "openclaw" } }]);
    const file = JSON.parse(await readFile(path.join(stateDir, "run.json"), "utf8"));
    expect(file).toMatchObject({ runId: "run-1", experimentId: "1", gatewayInstance: "gw@abc" });
    await lifecycle.finish();
    expect(stub.runs.get("run-1")?.info.status).toBe("FINISHED");
  });

  it("keeps retrying in the background while MLflow is down, then creates the run", async () => {
    stub.down = true;
    const { lifecycle, logs } = createLifecycle();
    lifecycle.start();
    expect(await lifecycle.ensureRun()).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stub.calls.length).toBeGreaterThan(2);
    expect(logs.messages("warn").some((line) => /not ready yet/.test(line))).toBe(true);
    stub.down = false;
    for (let waited = 0; !lifecycle.current() && waited < 2_000; waited += 10)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(lifecycle.current()?.runId).toBe("run-1");
    await lifecycle.finish();
  });

  it("closes this gateway's stale RUNNING runs (by tag and by run.json) as FAILED, not other gateways'", async () => {
    const tagged = await stub.client.runs.create({
      experimentId: "1",
      tags: { "clawscope.gateway_instance": "gw@abc" },
    });
    tagged.data.metrics.push({ key: "turns", value: 1, timestamp: 1234, step: 0 });
    const fromFile = await stub.client.runs.create({ experimentId: "1", tags: {} });
    await writeFile(
      path.join(stateDir, "run.json"),
      JSON.stringify({
        runId: fromFile.info.runId,
        experimentId: "1",
        startedAt: 1,
        gatewayInstance: "gw@abc",
        pid: 1,
      }),
    );
    const other = await stub.client.runs.create({
      experimentId: "1",
      tags: { "clawscope.gateway_instance": "gw@zzz" },
    });
    const { lifecycle } = createLifecycle({ now: () => 9_999 });
    const run = await lifecycle.ensureRun();
    expect(stub.runs.get(tagged.info.runId)?.info).toMatchObject({ status: "FAILED", endTime: 1234 });
    expect(stub.runs.get(fromFile.info.runId)?.info).toMatchObject({ status: "FAILED", endTime: 9_999 });
    expect(stub.runs.get(other.info.runId)?.info.status).toBe("RUNNING");
    expect(stub.runs.get(run?.runId ?? "")?.info.status).toBe("RUNNING");
    expect(lifecycle.stats()).toMatchObject({ staleRunsClosed: 2, ready: true });
  });

  it("finishes quietly when no run was ever created", async () => {
    stub.down = true;
    const { lifecycle } = createLifecycle();
    lifecycle.start();
    await lifecycle.finish();
    expect(lifecycle.current()).toBeUndefined();
    expect(stub.calls).not.toContain("update");
  });
});
