/**
 * Records what the real gateway (`openclaw@2026.9.6`) emits for the runs the shared captures lack:
 * provider retries (429, 5xx until it gives up), a tool loop that ends in a 400, a fallback to a
 * second provider, an unpriced model, a heartbeat, a cron job and an `openclaw agent` run. Each
 * scenario's bus events and hooks go to `packages/testing/recorded/<scenario>/` in the shapes of
 * `../shared/reference/openclaw-2026.9.6/captured/`, so the unit tests replay real payloads.
 *
 *   pnpm exec tsx scripts/record-host.ts    # about 3 minutes (the 5xx run waits out the host's retries)
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { startGateway } from "../tests/e2e/harness/gateway.js";
import { chatCompletion, runOpenClawCli, waitFor } from "../tests/e2e/harness/gateway-client.js";
import { startMockProvider } from "../tests/e2e/harness/mock-provider.js";
import type { MockStep } from "../tests/e2e/harness/mock-reply.js";
import { ECHO_TOOL_PLUGIN } from "../tests/e2e/harness/plugin-fixtures.js";
import {
  type HostRecording,
  type RecordedEventRow,
  type RecordedHookRow,
  readHostRecording,
  writeRecorderPlugin,
} from "../tests/e2e/harness/recorder-plugin.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const OUT = path.join(ROOT, "packages", "testing", "recorded");
const MAX_STRING = 600;
const model = (id: string, cost?: Record<string, number>) => ({
  id,
  name: id,
  reasoning: false,
  input: ["text"],
  ...(cost ? { cost } : {}),
  contextWindow: 128000,
  maxTokens: 4096,
});

/** A scenario: a session key to find its runs by, and how to drive it. */
interface Scenario {
  name: string;
  sessionKey: string;
  drive: () => Promise<void>;
}

const scratch = path.join(ROOT, ".cache", "record-host");
rmSync(scratch, { recursive: true, force: true });
mkdirSync(scratch, { recursive: true });
const recorder = writeRecorderPlugin(scratch);
const provider = await startMockProvider();
const gateway = await startGateway({
  provider,
  plugins: [recorder, ECHO_TOOL_PLUGIN],
  extraConfig: {
    models: {
      providers: {
        mock: {
          models: [
            model("mock-model", { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 }),
            model("mock-model-free"),
          ],
        },
        mock2: {
          baseUrl: provider.baseUrl,
          apiKey: "mock-two",
          api: "openai-completions",
          models: [model("mock-model-b", { input: 1, output: 4, cacheRead: 0.1, cacheWrite: 1.25 })],
        },
      },
    },
    agents: { defaults: { model: { primary: "mock/mock-model", fallbacks: ["mock2/mock-model-b"] } } },
  },
});

const http = (key: string, marker: string, steps: MockStep[]) => async () => {
  provider.script(marker, steps);
  const answer = await chatCompletion(gateway, {
    sessionKey: `agent:main:${key}`,
    content: `run ${marker}`,
    timeoutMs: 300_000,
  });
  console.log(`${key}: HTTP ${answer.status}`);
};
const cli = async (args: string[]) => {
  const result = await runOpenClawCli(gateway, args);
  console.log(`openclaw ${args.slice(0, 2).join(" ")}: exit ${result.exitCode}`);
  return result;
};

const scenarios: Scenario[] = [
  {
    name: "retry-429-twice",
    sessionKey: "agent:main:retry-429-twice",
    drive: http("retry-429-twice", "R429TWICE", [
      { kind: "error", status: 429 },
      { kind: "error", status: 429 },
      { kind: "text" },
    ]),
  },
  {
    name: "retry-429-retry-after",
    sessionKey: "agent:main:retry-429-ra",
    drive: http("retry-429-ra", "R429RA", [
      { kind: "error", status: 429, retryAfter: "3" },
      { kind: "text" },
    ]),
  },
  {
    name: "retry-after-tool",
    sessionKey: "agent:main:retry-after-tool",
    drive: http("retry-after-tool", "RTOOL429", [
      { kind: "tool" },
      { kind: "error", status: 429 },
      { kind: "text" },
    ]),
  },
  {
    name: "tool-loop-400",
    sessionKey: "agent:main:tool-loop-400",
    drive: http("tool-loop-400", "TOOLLOOP", [
      { kind: "tool" },
      { kind: "tool" },
      { kind: "error", status: 400 },
    ]),
  },
  {
    name: "retry-5xx-exhausted",
    sessionKey: "agent:main:retry-5xx",
    drive: http(
      "retry-5xx",
      "R5XX",
      Array.from({ length: 20 }, () => ({ kind: "error", status: 503 }) as MockStep),
    ),
  },
  {
    name: "unpriced-model",
    sessionKey: "agent:main:unpriced",
    drive: async () => {
      const response = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${gateway.token}`,
          "content-type": "application/json",
          "x-openclaw-session-key": "agent:main:unpriced",
          "x-openclaw-model": "mock/mock-model-free",
        },
        body: JSON.stringify({ model: "openclaw/main", messages: [{ role: "user", content: "hello" }] }),
      });
      console.log(`unpriced: HTTP ${response.status}`);
      await response.arrayBuffer();
    },
  },
  {
    name: "heartbeat-no-reply",
    sessionKey: "agent:main:main",
    drive: async () => {
      provider.script("reply NO_REPLY", [{ kind: "text", text: "NO_REPLY" }]);
      await cli(["system", "event", "--text", "heartbeat check", "--mode", "now", "--json"]);
      await waitFor(() => provider.remainingSteps("reply NO_REPLY") === 0, 60_000, 250, "the heartbeat call");
    },
  },
  {
    name: "agent-cli",
    sessionKey: "agent:main:cli-run",
    drive: async () => {
      await cli([
        "agent",
        "--session-key",
        "agent:main:cli-run",
        "--message",
        "hello from the cli",
        "--json",
      ]);
    },
  },
  {
    name: "cron-isolated",
    sessionKey: "agent:main:cron:",
    drive: async () => {
      const added = await cli([
        "cron",
        "add",
        "--name",
        "recorded",
        "--every",
        "1h",
        "--message",
        "cron says hello",
        "--session",
        "isolated",
        "--json",
      ]);
      const id = (added.json as { id?: string } | undefined)?.id;
      if (!id) throw new Error(`cron add gave no id: ${added.stdout}`);
      const before = provider.modelRequests().length;
      await cli(["cron", "run", id, "--json"]);
      await waitFor(() => provider.modelRequests().length > before, 60_000, 250, "the cron job's call");
    },
  },
  {
    // last: the 401 puts the first provider's key on a cooldown
    name: "fallback-auth",
    sessionKey: "agent:main:fallback",
    drive: http("fallback", "FALLBACK", [{ kind: "error", status: 401 }, { kind: "text" }]),
  },
];

try {
  await chatCompletion(gateway, { sessionKey: "agent:main:warm-up", content: "warm up" });
  for (const scenario of scenarios) await scenario.drive();
  await new Promise((resolve) => setTimeout(resolve, 3000));
} finally {
  await gateway.stop();
  await gateway.close();
}

const recording = readHostRecording(recorder.outDir);
rmSync(OUT, { recursive: true, force: true });
for (const scenario of scenarios) {
  const rows = selectScenario(recording, scenario.sessionKey);
  const dir = path.join(OUT, scenario.name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "diag-internal.jsonl"), toLines(rows.events.map(trim)));
  writeFileSync(path.join(dir, "hooks.jsonl"), toLines(rows.hooks.map(trim)));
  console.log(`${scenario.name}: ${rows.events.length} events, ${rows.hooks.length} hooks`);
}

/** The rows of the runs whose session key starts with `sessionKey`, by their trace and run ids. */
function selectScenario(all: HostRecording, sessionKey: string): HostRecording {
  const traces = new Set<string>();
  const runs = new Set<string>();
  for (const row of all.events) {
    const event = row.event as { sessionKey?: unknown; runId?: unknown; trace?: { traceId?: unknown } };
    const key = typeof event.sessionKey === "string" ? event.sessionKey.toLowerCase() : "";
    if (!key.startsWith(sessionKey) || !row.event.type.startsWith("run.")) continue;
    if (typeof event.trace?.traceId === "string") traces.add(event.trace.traceId);
    if (typeof event.runId === "string") runs.add(event.runId);
  }
  const traceOf = (value: unknown) =>
    (value as { trace?: { traceId?: unknown } } | undefined)?.trace?.traceId;
  const runOf = (value: unknown) => (value as { runId?: unknown } | undefined)?.runId;
  return {
    events: all.events.filter((row) => traces.has(traceOf(row.event) as string)),
    hooks: all.hooks.filter(
      (row) =>
        traces.has(traceOf(row.ctx) as string) ||
        runs.has(runOf(row.event) as string) ||
        runs.has(runOf(row.ctx) as string),
    ),
  };
}

/** Long strings (prompts, tool schemas) cut, the gateway's folders rewritten: fixtures stay small and portable. */
function trim<T extends RecordedEventRow | RecordedHookRow>(row: T): T {
  const root = gateway.rootDir;
  if ("hook" in row && row.hook === "llm_input") {
    // the tool schemas and the system prompt are 200 kB of text no test reads
    const event = { ...row.event };
    if (Array.isArray(event.tools)) {
      event.tools = event.tools.map((tool: unknown) => ({ name: (tool as { name?: unknown })?.name }));
    }
    if (Array.isArray(event.historyMessages)) event.historyMessages = event.historyMessages.slice(-4);
    row = { ...row, event };
  }
  const walk = (value: unknown): unknown => {
    if (typeof value === "string") {
      const local = value.split(root).join("/srv/gateway");
      return local.length > MAX_STRING ? `${local.slice(0, MAX_STRING)}…[cut]` : local;
    }
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, walk(field)]));
    }
    return value;
  };
  return walk(row) as T;
}

function toLines(rows: unknown[]): string {
  return rows.map((row) => JSON.stringify(row)).join("\n") + (rows.length > 0 ? "\n" : "");
}
