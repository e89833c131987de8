/**
 * What the turns' tools and failures did, beside the minute rollups (which are grouped by agent,
 * provider, model, channel and outcome, not by tool): one record per gateway and minute with each
 * tool's calls, failures and durations, and the count of each error category. The consolidation
 * reads them for the day's top tools, slowest tools, top error categories and tools seen first.
 */
import type { TurnFact } from "./turn-fact.js";

export interface ToolFigures {
  calls: number;
  failures: number;
  durationMs: number;
  maxMs: number;
}

export type ToolActivity = {
  /** `<gateway>:<minute>`. */
  id: string;
  ts: number;
  gateway: string;
  tools: Record<string, ToolFigures>;
  errors: Record<string, number>;
};

/** Tool activity of one gateway's minute, from that minute's facts. */
export function toToolActivity(gateway: string, minute: number, facts: readonly TurnFact[]): ToolActivity {
  const activity: ToolActivity = { id: `${gateway}:${minute}`, ts: minute, gateway, tools: {}, errors: {} };
  for (const fact of facts) {
    for (const tool of fact.tools ?? [])
      addTool(activity.tools, tool.name, {
        calls: 1,
        failures: tool.failed ? 1 : 0,
        durationMs: tool.ms,
        maxMs: tool.ms,
      });
    for (const category of fact.errors ?? [])
      activity.errors[category] = (activity.errors[category] ?? 0) + 1;
  }
  return activity;
}

/** A window's tool activity (a day, one scope), summed. */
export interface ToolWindow {
  tools: Record<string, ToolFigures>;
  errors: Record<string, number>;
}

export function createToolWindow(): ToolWindow {
  return { tools: {}, errors: {} };
}

export function foldToolActivity(window: ToolWindow, activity: Pick<ToolActivity, "tools" | "errors">): void {
  for (const [name, figures] of Object.entries(activity.tools ?? {})) addTool(window.tools, name, figures);
  for (const [category, count] of Object.entries(activity.errors ?? {}))
    window.errors[category] = (window.errors[category] ?? 0) + count;
}

function addTool(tools: Record<string, ToolFigures>, name: string, figures: ToolFigures): void {
  const own = tools[name] ?? { calls: 0, failures: 0, durationMs: 0, maxMs: 0 };
  own.calls += figures.calls;
  own.failures += figures.failures;
  own.durationMs += figures.durationMs;
  own.maxMs = Math.max(own.maxMs, figures.maxMs);
  tools[name] = own;
}
