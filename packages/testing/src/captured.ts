/**
 * Loaders for the payloads recorded from the real `openclaw@2026.9.6` gateway
 * (`../shared/reference/openclaw-2026.9.6/captured/` beside the repository; `CLAWSCOPE_REFERENCE_DIR`
 * overrides). Read-only and synchronous: fixtures are small and tests want them at collection time.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** A row of `diag-internal.jsonl` / `diag-public.jsonl` (public rows have no metadata). */
export interface CapturedDiagnosticRow {
  /** ISO time the capture plugin received it. */
  at: string;
  metadata?: Record<string, unknown>;
  event: { type: string; [key: string]: unknown };
}

/** A row of `hooks.jsonl`. */
export interface CapturedHookRow {
  at: string;
  hook: string;
  kind?: string;
  event: unknown;
  ctx: unknown;
}

/** One recorded scenario with every file it holds (missing files read as empty lists). */
export interface CapturedScenario {
  name: string;
  dir: string;
  internal: CapturedDiagnosticRow[];
  public: CapturedDiagnosticRow[];
  hooks: CapturedHookRow[];
  service: unknown[];
  toolCalls: unknown[];
  mockRequests: unknown[];
}

/** `samples-one-per-type.json`: one full example per diagnostic event type and per hook. */
export interface CapturedSamples {
  diag: Record<
    string,
    { scenario: string; metadata: Record<string, unknown>; event: CapturedDiagnosticRow["event"] }
  >;
  hooks: Record<string, { scenario: string; kind?: string; event: unknown; ctx: unknown }>;
}

/** One input of a replay: a bus event or a hook call, with the time it was received. */
export type CapturedInput =
  | { kind: "event"; at: number; event: CapturedDiagnosticRow["event"]; metadata?: Record<string, unknown> }
  | { kind: "hook"; at: number; name: string; event: unknown; context: unknown };

const RELATIVE_REFERENCE = "../shared/reference/openclaw-2026.9.6/captured";
/** Our own recordings of the same gateway (`scripts/record-host.ts`), in the same shapes. */
const RELATIVE_RECORDED = "packages/testing/recorded";

/** The repository root: the nearest folder above this file holding `pnpm-workspace.yaml`. */
export function findRepoRoot(start: string = path.dirname(fileURLToPath(import.meta.url))): string {
  let current = path.resolve(start);
  for (;;) {
    if (existsSync(path.join(current, "pnpm-workspace.yaml"))) return current;
    const parent = path.dirname(current);
    if (parent === current) throw new Error(`no pnpm-workspace.yaml above ${start}`);
    current = parent;
  }
}

/** The captured folder: `CLAWSCOPE_REFERENCE_DIR` when set, else beside the repository. */
export function resolveCapturedDir(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.CLAWSCOPE_REFERENCE_DIR;
  if (override !== undefined && override.length > 0) return path.resolve(override);
  return path.resolve(findRepoRoot(), RELATIVE_REFERENCE);
}

/** The folder of our own recordings (retries, fallbacks, cron, heartbeat, CLI runs). */
export function resolveRecordedDir(): string {
  return path.resolve(findRepoRoot(), RELATIVE_RECORDED);
}

/** One of our own recordings, read like a shared captured scenario. */
export function loadRecordedScenario(name: string): CapturedScenario {
  return loadCapturedScenario(name, resolveRecordedDir());
}

/** Names of the recorded scenarios (folders), sorted. */
export function listCapturedScenarios(dir: string = resolveCapturedDir()): string[] {
  return readdirSync(dir)
    .filter((entry) => statSync(path.join(dir, entry)).isDirectory())
    .sort();
}

/** Loads one scenario. Throws with the folder it looked in when the scenario does not exist. */
export function loadCapturedScenario(name: string, dir: string = resolveCapturedDir()): CapturedScenario {
  const folder = path.join(dir, name);
  if (!existsSync(folder)) throw new Error(`captured scenario "${name}" not found in ${dir}`);
  return {
    name,
    dir: folder,
    internal: readJsonLines(path.join(folder, "diag-internal.jsonl")) as CapturedDiagnosticRow[],
    public: readJsonLines(path.join(folder, "diag-public.jsonl")) as CapturedDiagnosticRow[],
    hooks: readJsonLines(path.join(folder, "hooks.jsonl")) as CapturedHookRow[],
    service: readJsonLines(path.join(folder, "service.jsonl")),
    toolCalls: readJsonLines(path.join(folder, "tool-calls.jsonl")),
    mockRequests: readJsonLines(path.join(folder, "mock-requests.jsonl")),
  };
}

/** Loads `samples-one-per-type.json`. */
export function loadCapturedSamples(dir: string = resolveCapturedDir()): CapturedSamples {
  return JSON.parse(readFileSync(path.join(dir, "samples-one-per-type.json"), "utf8")) as CapturedSamples;
}

/**
 * The scenario's internal bus events and hooks merged into one stream by receive time, each
 * file's own order kept (the bus delivers some types late, so a file is not sorted by `ts`).
 */
export function interleaveCaptured(scenario: CapturedScenario): CapturedInput[] {
  const events: CapturedInput[] = scenario.internal.map((row) => ({
    kind: "event",
    at: Date.parse(row.at),
    event: row.event,
    metadata: row.metadata,
  }));
  const hooks: CapturedInput[] = scenario.hooks.map((row) => ({
    kind: "hook",
    at: Date.parse(row.at),
    name: row.hook,
    event: row.event,
    context: row.ctx,
  }));
  const merged: CapturedInput[] = [];
  let eventIndex = 0;
  let hookIndex = 0;
  while (eventIndex < events.length || hookIndex < hooks.length) {
    const event = events[eventIndex];
    const hook = hooks[hookIndex];
    // on a tie the hook goes first: hooks run inline, bus events are often drained after them
    if (hook !== undefined && (event === undefined || hook.at <= event.at)) {
      merged.push(hook);
      hookIndex += 1;
    } else if (event !== undefined) {
      merged.push(event);
      eventIndex += 1;
    }
  }
  return merged;
}

function readJsonLines(file: string): unknown[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim().length > 0)
    .map((line, index) => {
      try {
        return JSON.parse(line) as unknown;
      } catch (error) {
        throw new Error(`${file}:${index + 1}: ${(error as Error).message}`);
      }
    });
}
