/**
 * Issue 9, end to end with content capture off (the default), all three extensions on the real
 * gateway: text planted in a prompt, a tool's arguments and result, the model's reply and a
 * provider's error message (providers echo the request back) never leaves the gateway. Every byte
 * each backend stored is searched — the Collector's files, MLflow's SQLite store and artifacts, what
 * the Langfuse receiver decoded — and so are the pack's own files (spools, dead letters, health.json)
 * and its log lines. The failed turn still says why, in the fixed words capture-off allows.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { Turn } from "@clawscope/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayHandle, startGateway } from "./harness/gateway.js";
import { chatCompletion, waitFor } from "./harness/gateway-client.js";
import { type BackendTurn, type PackBackends, startPackBackends } from "./harness/pack-backends.js";
import { ECHO_TOOL_PLUGIN } from "./harness/plugin-fixtures.js";
import { probePlugin, waitForProbeRecords } from "./harness/probe.js";

const STAMP = Date.now().toString(36);
const EXPERIMENT = `e2e-privacy-${STAMP}`;
/** Distinct, searchable text in each place content can come from. */
const PLANTED = {
  prompt: `planted-prompt-${STAMP}-Zq8`,
  toolArgument: `planted-tool-argument-${STAMP}-Wv3`,
  reply: `planted-reply-${STAMP}-Kx5`,
  errorPrompt: `planted-error-prompt-${STAMP}-Jm2`,
  errorText: `planted-error-text-${STAMP}-Pd7`,
};

/** Every file under a folder, recursively. */
function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) files.push(...listFiles(file));
    else files.push(file);
  }
  return files;
}

/** Where a planted text was found: `file` names, or a label for what was searched in memory. */
function findPlanted(haystacks: Array<{ where: string; text: string }>): string[] {
  const found: string[] = [];
  for (const { where, text } of haystacks) {
    for (const [name, value] of Object.entries(PLANTED))
      if (text.includes(value)) found.push(`${name} in ${where}`);
  }
  return found;
}

describe("privacy: with content capture off nothing a user or a provider wrote leaves the gateway", () => {
  let backends: PackBackends;
  let gateway: GatewayHandle;
  let experimentId: string;
  const turns = {} as Record<"tool" | "failed", Turn>;
  const held = {} as Record<"tool" | "failed", Record<"otel" | "mlflow" | "langfuse", BackendTurn>>;

  beforeAll(async () => {
    backends = await startPackBackends("privacy");
    const common = { flushIntervalMs: 300, settleMs: 300 };
    gateway = await startGateway({
      plugins: [...backends.plugins(EXPERIMENT, common), probePlugin(common), ECHO_TOOL_PLUGIN],
    });
    const provider = gateway.provider;
    provider.script("MARKTOOL", [
      { kind: "tool", arguments: { input: PLANTED.toolArgument } },
      { kind: "text", text: `here you go: ${PLANTED.reply}` },
    ]);
    provider.script("MARKFAIL", [
      {
        kind: "error",
        status: 400,
        message: `your prompt "${PLANTED.errorPrompt}" is not allowed: ${PLANTED.errorText}`,
      },
    ]);
    await chatCompletion(gateway, {
      sessionKey: "agent:main:privacy-tool",
      content: `MARKTOOL ${PLANTED.prompt}`,
    });
    await chatCompletion(gateway, {
      sessionKey: "agent:main:privacy-failed",
      content: `MARKFAIL ${PLANTED.errorPrompt}`,
    });
    const records = await waitForProbeRecords(
      gateway,
      (current) =>
        ["agent:main:privacy-tool", "agent:main:privacy-failed"].every((key) =>
          current.turns.some((turn) => turn.sessionKey === key),
        ),
      "both turns",
    );
    turns.tool = records.turns.find((turn) => turn.sessionKey === "agent:main:privacy-tool") as Turn;
    turns.failed = records.turns.find((turn) => turn.sessionKey === "agent:main:privacy-failed") as Turn;
    experimentId = (await backends.mlflowReader.experimentId(EXPERIMENT)) as string;
    for (const name of ["tool", "failed"] as const) {
      held[name] = await waitFor(
        async () => {
          const found = {
            otel: backends.otelTurn(turns[name].id),
            mlflow: await backends.mlflowTurn(experimentId, turns[name].id),
            langfuse: backends.langfuseTurn(turns[name].id),
          };
          return Object.values(found).every((item) => item !== undefined)
            ? (found as Record<"otel" | "mlflow" | "langfuse", BackendTurn>)
            : undefined;
        },
        60_000,
        500,
        `the ${name} turn in every backend`,
      );
    }
    // the last batches, the OTel logs and metrics, and the final health files
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await gateway.stop();
  }, 8 * 60_000);

  afterAll(async () => {
    await gateway?.close();
    await backends?.close();
  });

  it("exported both turns everywhere: the test searched real data (the planted text did reach the provider)", () => {
    const prompts = JSON.stringify(gateway.provider.requests.map((request) => request.body));
    expect(prompts).toContain(PLANTED.prompt);
    expect(prompts).toContain(PLANTED.toolArgument);
    for (const backend of ["otel", "mlflow", "langfuse"] as const) {
      expect(held.tool[backend].tools, backend).toBe(1);
      expect(held.failed[backend].failed, backend).toBe(true);
    }
  });

  it("says why the provider failed only in fixed words: category, status and reason", () => {
    expect(turns.failed.error).toEqual({
      category: "Error",
      status: 400,
      reason: "the provider rejected the request (HTTP 400)",
      source: "model.call.error",
    });
    for (const backend of ["otel", "mlflow", "langfuse"] as const) {
      expect(held.failed[backend].calls[0]?.statusMessage, backend).toContain(
        "the provider rejected the request (HTTP 400)",
      );
    }
  });

  it("finds none of it in any backend's stored data, in the pack's files or in its log lines", () => {
    const collectorFiles = listFiles(backends.collector.dir);
    const mlflowFiles = listFiles(backends.mlflowDir);
    const packFiles = listFiles(path.join(gateway.stateDir, "plugins")).filter((file) =>
      file.includes(`${path.sep}clawscope-`),
    );
    expect(collectorFiles.length).toBeGreaterThan(0);
    expect(mlflowFiles.some((file) => file.endsWith("mlflow.db"))).toBe(true);
    expect(packFiles.some((file) => file.endsWith("health.json"))).toBe(true);
    const readAll = (files: string[]) =>
      files.map((file) => ({ where: file, text: readFileSync(file).toString("latin1") }));
    const packLines = `${gateway.readLogFile()}\n${gateway.logs().stdout}\n${gateway.logs().stderr}`
      .split("\n")
      .filter((line) => line.includes("clawscope-"))
      .join("\n");
    const leaks = findPlanted([
      ...readAll(collectorFiles),
      ...readAll(mlflowFiles),
      ...readAll(packFiles),
      { where: "the Langfuse receiver's spans", text: JSON.stringify(backends.langfuse.spans) },
      { where: "the Langfuse receiver's scores", text: JSON.stringify(backends.langfuse.scores) },
      { where: "the pack's log lines", text: packLines },
    ]);
    expect(leaks).toEqual([]);
  });
});
