/**
 * The memory behind the host-signal scores, bounded: tool loops the host reported for a run whose
 * turn has not arrived yet (matched to the turn by the host's trace id), and which sessions already
 * got a session score this hour. Oldest entries are evicted first and counted.
 */
import { SESSION_SCORE_WINDOW_MS, type SessionSignal, type ToolLoop } from "../mapping/to-scores.js";

/** Options of {@link createSignalTracker}. */
export interface SignalTrackerOptions {
  /** Most pending host tool loops kept (default 1000). */
  maxPendingLoops?: number;
  /** Most sessions remembered as already scored (default 10 000). */
  maxScoredSessions?: number;
}

/** Counters of the tracker. */
export interface SignalTrackerStats {
  pendingLoops: number;
  scoredSessions: number;
  evicted: number;
}

/** What the service keeps between host events and turns. */
export interface SignalTracker {
  /** Remembers a host `tool.loop` for the run with this host trace id (the strongest one wins). */
  noteHostLoop(hostTraceId: string, loop: ToolLoop): void;
  /** The host's loop for a turn's host trace id, forgotten once taken. */
  takeHostLoop(hostTraceId: string | undefined): ToolLoop | undefined;
  /** True the first time a session gets a score of this name within its hour; false after. */
  claimSessionScore(signal: SessionSignal, name: string): boolean;
  stats(): SignalTrackerStats;
}

/** Creates an empty tracker. */
export function createSignalTracker(options: SignalTrackerOptions = {}): SignalTracker {
  const maxLoops = options.maxPendingLoops ?? 1000;
  const maxSessions = options.maxScoredSessions ?? 10_000;
  const loops = new Map<string, ToolLoop>();
  const scored = new Map<string, number>();
  let evicted = 0;
  const bound = (map: Map<string, unknown>, max: number) => {
    while (map.size > max) {
      const oldest = map.keys().next().value as string;
      map.delete(oldest);
      evicted += 1;
    }
  };
  return {
    noteHostLoop(hostTraceId, loop) {
      const known = loops.get(hostTraceId);
      if (known && known.count >= loop.count) return;
      loops.delete(hostTraceId);
      loops.set(hostTraceId, loop);
      bound(loops, maxLoops);
    },
    takeHostLoop(hostTraceId) {
      if (!hostTraceId) return undefined;
      const loop = loops.get(hostTraceId);
      loops.delete(hostTraceId);
      return loop;
    },
    claimSessionScore(signal, name) {
      if (!signal.session) return false;
      const key = `${name}\u0000${signal.session}`;
      const hour = Math.floor(signal.ts / SESSION_SCORE_WINDOW_MS);
      if (scored.get(key) === hour) return false;
      scored.delete(key);
      scored.set(key, hour);
      bound(scored, maxSessions);
      return true;
    },
    stats: () => ({ pendingLoops: loops.size, scoredSessions: scored.size, evicted }),
  };
}
