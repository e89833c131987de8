/**
 * The probe fixture (`tests/e2e/fixtures/probe`, a plugin built on the kit) as seen from a test: its
 * plugin spec, what it recorded (`clawscope-probe.turns`), its health (`clawscope-probe.status`), and
 * the gateway's log as structured lines, to find the one-line errors the kit writes.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import type { HealthSnapshot, SessionRollup, Turn } from "@clawscope/kit";
import { REPO_ROOT, stripAnsi } from "./gateway.js";
import { callGatewayMethod, type GatewayAddress, waitFor } from "./gateway-client.js";
import type { GatewayPluginSpec } from "./gateway-config.js";
import { FIXTURES_DIR } from "./plugin-fixtures.js";

/** The probe's plugin id. */
export const PROBE_ID = "clawscope-probe";
/** The probe's folder; the gateway loads `dist/index.js` (its `runtimeExtensions`). */
export const PROBE_DIR = path.join(FIXTURES_DIR, "probe");
/** The file the gateway loads. */
export const PROBE_ENTRY = path.join(PROBE_DIR, "dist", "index.js");

/** `model.usage` as the probe recorded it (the host's own figures; the fields tests compare). */
export interface RecordedModelUsage {
  type: "model.usage";
  sessionKey?: string;
  sessionId?: string;
  usage: { input?: number; output?: number; cacheRead?: number; cacheWrite?: number; total?: number };
  costUsd?: number;
  trace?: { traceId?: string };
}

/** What `clawscope-probe.turns` answers. */
export interface ProbeRecords {
  turns: Turn[];
  sessions: Record<string, SessionRollup>;
  modelUsage: RecordedModelUsage[];
  startedAt: number;
}

/**
 * The probe's plugin spec. Fails at once when `dist/index.js` is missing or older than the probe's or
 * the kit's sources: a stale bundle would test old code and pass or fail for the wrong reason.
 */
export function probePlugin(config: Record<string, unknown> = {}): GatewayPluginSpec {
  assertProbeBuilt();
  return { dir: PROBE_DIR, id: PROBE_ID, config, allowConversationAccess: true };
}

/** Throws a one-line instruction when the probe bundle is missing or stale. */
export function assertProbeBuilt(): void {
  const rebuild = "run `pnpm --filter @clawscope/probe build` (or `pnpm build`)";
  if (!existsSync(PROBE_ENTRY)) throw new Error(`${PROBE_ENTRY} is missing: ${rebuild}`);
  const builtAt = statSync(PROBE_ENTRY).mtimeMs;
  const sources = [
    ...listSources(path.join(PROBE_DIR, "src")),
    ...listSources(path.join(REPO_ROOT, "packages", "kit", "src")),
  ];
  const newer = sources.filter((file) => statSync(file).mtimeMs > builtAt);
  if (newer.length > 0) {
    const shown = newer.slice(0, 3).map((file) => path.relative(REPO_ROOT, file));
    throw new Error(`${PROBE_ENTRY} is older than ${shown.join(", ")}: ${rebuild}`);
  }
}

function listSources(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".ts") && !name.endsWith(".test.ts"))
    .map((name) => path.join(dir, name));
}

/** The probe's records (turns, session roll-ups, the host's `model.usage` events). */
export async function readProbeRecords(gateway: GatewayAddress): Promise<ProbeRecords> {
  return (await callGatewayMethod(gateway, `${PROBE_ID}.turns`)) as ProbeRecords;
}

/** The probe's health, through the kit's status RPC. */
export async function readProbeStatus(gateway: GatewayAddress): Promise<HealthSnapshot> {
  return (await callGatewayMethod(gateway, `${PROBE_ID}.status`)) as HealthSnapshot;
}

/**
 * Polls the probe's records until `isComplete` holds; the timeout error lists the run ids it has, so
 * a failure says what did arrive.
 */
export async function waitForProbeRecords(
  gateway: GatewayAddress,
  isComplete: (records: ProbeRecords) => boolean,
  description: string,
  timeoutMs = 60_000,
): Promise<ProbeRecords> {
  let last: ProbeRecords | undefined;
  try {
    return await waitFor(
      async () => {
        last = await readProbeRecords(gateway);
        return isComplete(last) ? last : undefined;
      },
      timeoutMs,
      250,
      description,
    );
  } catch (error) {
    const seen = last?.turns.map((turn) => `${turn.runId} (${turn.sessionKey})`) ?? [];
    throw new Error(`${(error as Error).message}; the probe has: ${JSON.stringify(seen)}`);
  }
}

/** Waits until the probe has assembled a turn for every run id; returns the records then. */
export async function waitForProbeTurns(
  gateway: GatewayAddress,
  runIds: readonly string[],
  timeoutMs = 60_000,
): Promise<ProbeRecords> {
  return await waitForProbeRecords(
    gateway,
    (records) => {
      const seen = new Set(records.turns.map((turn) => turn.runId));
      return runIds.every((runId) => seen.has(runId));
    },
    `the probe to assemble turns ${runIds.join(", ")}`,
    timeoutMs,
  );
}

/** One line of the gateway's log file (`logging.file`, JSON lines). */
export interface GatewayLogLine {
  level: string;
  subsystem: string;
  message: string;
}

/** The gateway's log file, parsed; lines that are not the host's JSON format are kept as plain messages. */
export function readGatewayLog(gateway: { readLogFile(): string }): GatewayLogLine[] {
  const lines: GatewayLogLine[] = [];
  for (const raw of gateway.readLogFile().split("\n")) {
    if (raw.trim() === "") continue;
    try {
      const record = JSON.parse(raw) as Record<string, unknown>;
      const meta = (record._meta ?? {}) as { logLevelName?: string };
      let subsystem = "";
      try {
        subsystem = String((JSON.parse(String(record["0"])) as { subsystem?: unknown }).subsystem ?? "");
      } catch {}
      const message = typeof record["1"] === "string" ? record["1"] : String(record["0"] ?? "");
      lines.push({ level: meta.logLevelName ?? "", subsystem, message: stripAnsi(message) });
    } catch {
      lines.push({ level: "", subsystem: "", message: stripAnsi(raw) });
    }
  }
  return lines;
}

/** Log lines written by the probe through the kit's logger (`clawscope-probe: ...`). */
export function probeLogLines(gateway: { readLogFile(): string }): GatewayLogLine[] {
  return readGatewayLog(gateway).filter((line) => line.message.startsWith(`${PROBE_ID}: `));
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}
