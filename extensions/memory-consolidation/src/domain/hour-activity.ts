/**
 * What the operational events said during each hour: sessions that worked, got stuck or stalled,
 * queue depth and wait, tool loops and blocked tools. Kept in memory for the current and the
 * previous hour (a snapshot reads the hour that just ended); bounded by distinct sessions and tools.
 */
import type { OperationalEvent } from "@clawscope/kit";

const HOUR_MS = 3_600_000;
const MAX_KEYS = 10_000;
const MAX_TOOLS = 200;

/** An hour's activity, as a snapshot stores it. */
export interface HourActivity {
  sessions: { active: number; stuck: number; stalled: number };
  queue: { maxDepth: number; waits: number; totalWaitMs: number; maxWaitMs: number };
  toolLoops: number;
  blockedTools: number;
  /** Loops and blocks by tool name (at most 200 tools; the rest under `other`). */
  byTool: Record<string, { loops: number; blocked: number }>;
}

interface HourState {
  active: Set<string>;
  stuck: Set<string>;
  stalled: Set<string>;
  maxDepth: number;
  waits: number;
  totalWaitMs: number;
  maxWaitMs: number;
  toolLoops: number;
  blockedTools: number;
  byTool: Map<string, { loops: number; blocked: number }>;
}

export interface ActivityTracker {
  /** Counts an event in the hour of its host time (`ts`). */
  add(event: OperationalEvent): void;
  /** The activity of the hour starting at `hour` (empty when nothing was heard). */
  read(hour: number): HourActivity;
}

export function createActivityTracker(): ActivityTracker {
  const hours = new Map<number, HourState>();
  const stateOf = (hour: number): HourState => {
    let state = hours.get(hour);
    if (!state) {
      state = {
        active: new Set(),
        stuck: new Set(),
        stalled: new Set(),
        maxDepth: 0,
        waits: 0,
        totalWaitMs: 0,
        maxWaitMs: 0,
        toolLoops: 0,
        blockedTools: 0,
        byTool: new Map(),
      };
      hours.set(hour, state);
      // the current and the previous hour are enough: a snapshot reads the hour that just ended
      for (const key of hours.keys()) if (key < hour - HOUR_MS) hours.delete(key);
    }
    return state;
  };
  const addKey = (set: Set<string>, key: string | undefined) => {
    if (key !== undefined && (set.size < MAX_KEYS || set.has(key))) set.add(key);
  };
  const tool = (state: HourState, name: string) => {
    const key = state.byTool.has(name) || state.byTool.size < MAX_TOOLS ? name : "other";
    let entry = state.byTool.get(key);
    if (!entry) {
      entry = { loops: 0, blocked: 0 };
      state.byTool.set(key, entry);
    }
    return entry;
  };
  return {
    add(event) {
      const state = stateOf(Math.floor(event.ts / HOUR_MS) * HOUR_MS);
      switch (event.type) {
        case "session.state":
          if (event.state !== "idle") addKey(state.active, event.session);
          if (event.queueDepth !== undefined) state.maxDepth = Math.max(state.maxDepth, event.queueDepth);
          break;
        case "session.stuck":
          addKey(state.stuck, event.session ?? `anonymous-${state.stuck.size}`);
          break;
        case "session.stalled":
          addKey(state.stalled, event.session ?? `anonymous-${state.stalled.size}`);
          break;
        case "queue.lane.enqueue":
          state.maxDepth = Math.max(state.maxDepth, event.queueSize);
          break;
        case "queue.lane.dequeue":
          state.waits += 1;
          state.totalWaitMs += event.waitMs;
          state.maxWaitMs = Math.max(state.maxWaitMs, event.waitMs);
          break;
        case "tool.loop":
          state.toolLoops += 1;
          tool(state, event.toolName).loops += 1;
          break;
        case "tool.execution.blocked":
          state.blockedTools += 1;
          tool(state, event.toolName).blocked += 1;
          break;
        default:
          break;
      }
    },
    read(hour) {
      const state = hours.get(hour);
      return {
        sessions: {
          active: state?.active.size ?? 0,
          stuck: state?.stuck.size ?? 0,
          stalled: state?.stalled.size ?? 0,
        },
        queue: {
          maxDepth: state?.maxDepth ?? 0,
          waits: state?.waits ?? 0,
          totalWaitMs: state?.totalWaitMs ?? 0,
          maxWaitMs: state?.maxWaitMs ?? 0,
        },
        toolLoops: state?.toolLoops ?? 0,
        blockedTools: state?.blockedTools ?? 0,
        byTool: Object.fromEntries(
          [...(state?.byTool ?? new Map()).entries()].map(([name, value]) => [name, { ...value }]),
        ),
      };
    },
  };
}

/** The activity tracker's event types: what the spec subscribes to. */
export const ACTIVITY_EVENT_TYPES = [
  "session.state",
  "session.stuck",
  "session.stalled",
  "queue.lane.enqueue",
  "queue.lane.dequeue",
  "tool.loop",
  "tool.execution.blocked",
] as const;
