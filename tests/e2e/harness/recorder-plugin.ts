/**
 * A throwaway plain-JS plugin that appends every internal diagnostic event and every observable
 * hook call to JSON lines, with receive times: the evidence behind what the pack assumes of the
 * host (retry sequences, which hooks a cron or heartbeat run fires). The rows have the shapes of
 * `../shared/reference/openclaw-2026.9.6/captured/` (`diag-internal.jsonl`, `hooks.jsonl`), so the
 * testing package's loaders read them.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { CapturedDiagnosticRow, CapturedHookRow } from "@clawscope/testing";
import type { GatewayPluginSpec } from "./gateway-config.js";
import { writePluginFixture } from "./plugin-fixtures.js";

/** Hooks the recorder listens to: every one that can carry turn data (no mutating hooks). */
export const RECORDED_HOOKS = [
  "model_call_started",
  "model_call_ended",
  "llm_input",
  "llm_output",
  "agent_end",
  "before_tool_call",
  "after_tool_call",
  "message_received",
  "message_sending",
  "message_sent",
  "reply_payload_sending",
  "session_start",
  "session_end",
  "subagent_spawned",
  "subagent_ended",
] as const;

/** A recorded bus event, as `diag-internal.jsonl` holds it. */
export type RecordedEventRow = CapturedDiagnosticRow;

/** A recorded hook call, as `hooks.jsonl` holds it. */
export type RecordedHookRow = CapturedHookRow & { event: Record<string, unknown> };

/** What the recorder wrote. */
export interface HostRecording {
  events: RecordedEventRow[];
  hooks: RecordedHookRow[];
}

/** The recorder's id. */
export const RECORDER_ID = "e2e-host-recorder";

/** Writes the recorder plugin under `parentDir`; it appends to `diag-internal.jsonl` and `hooks.jsonl` there. */
export function writeRecorderPlugin(parentDir: string): GatewayPluginSpec & { dir: string; outDir: string } {
  const outDir = path.join(parentDir, "recording");
  const spec = writePluginFixture({
    parentDir,
    id: RECORDER_ID,
    preamble: [
      'import { appendFileSync, mkdirSync } from "node:fs";',
      'import { onInternalDiagnosticEvent } from "openclaw/plugin-sdk/diagnostic-runtime";',
      `const OUT = ${JSON.stringify(outDir)};`,
      "const write = (file, row) => { try { mkdirSync(OUT, { recursive: true }); appendFileSync(OUT + '/' + file, JSON.stringify(row) + '\\n'); } catch {} };",
      "const KEY = Symbol.for('e2e-host-recorder.subscribed');",
    ].join("\n"),
    registerBody: [
      "if (!globalThis[KEY]) {",
      "  globalThis[KEY] = true;",
      "  onInternalDiagnosticEvent((event, metadata) => write('diag-internal.jsonl', { at: new Date().toISOString(), metadata, event }));",
      "}",
      `for (const name of ${JSON.stringify(RECORDED_HOOKS)}) {`,
      "  api.on(name, (event, ctx) => { write('hooks.jsonl', { at: new Date().toISOString(), hook: name, event, ctx }); });",
      "}",
    ].join("\n"),
  });
  return { ...spec, outDir };
}

/** The rows recorded so far (a line cut by a concurrent append is skipped). */
export function readHostRecording(outDir: string): HostRecording {
  return {
    events: readRows(path.join(outDir, "diag-internal.jsonl")) as RecordedEventRow[],
    hooks: readRows(path.join(outDir, "hooks.jsonl")) as RecordedHookRow[],
  };
}

function readRows(file: string): unknown[] {
  if (!existsSync(file)) return [];
  const rows: unknown[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    try {
      rows.push(JSON.parse(line));
    } catch {
      // a line cut by a concurrent append
    }
  }
  return rows;
}
