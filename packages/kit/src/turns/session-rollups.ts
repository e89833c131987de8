/** Per-session running totals of assembled turns, in a bounded least-recently-used map. */
import type { SessionRollup, Turn, TurnOutcome } from "./turn.js";
import { addUsage, subtractUsage, zeroUsage } from "./usage.js";

/** Options for {@link createSessionRollups}. */
export interface SessionRollupsOptions {
  /** Sessions kept at most; the least recently updated is dropped beyond it (default 10 000). */
  maxSessions?: number;
}

/** The roll-ups' surface. Returned rollups are copies. */
export interface SessionRollups {
  /** Adds a turn to its session's totals; undefined when the turn has no session key. */
  add(turn: Turn): SessionRollup | undefined;
  get(sessionKey: string): SessionRollup | undefined;
  /** Every session, least recently updated first. */
  list(): SessionRollup[];
  /** Sessions currently held, and how many were dropped to stay within `maxSessions`. */
  stats(): { sessions: number; evicted: number };
}

/** Creates session roll-ups. A session's `costUsd` is a lower bound while `turnsWithUnknownCost > 0`. */
export function createSessionRollups(options: SessionRollupsOptions = {}): SessionRollups {
  const maxSessions =
    typeof options.maxSessions === "number" && options.maxSessions >= 1
      ? Math.floor(options.maxSessions)
      : 10_000;
  const sessions = new Map<string, SessionRollup>();
  let evicted = 0;

  return {
    add(turn) {
      const sessionKey = turn.sessionKey;
      if (typeof sessionKey !== "string" || sessionKey.length === 0) return undefined;
      const rollup = sessions.get(sessionKey) ?? emptyRollup(sessionKey, turn.startedAt);
      rollup.sessionId = turn.sessionId ?? rollup.sessionId;
      rollup.agentId = turn.agentId ?? rollup.agentId;
      rollup.channel = turn.channel ?? rollup.channel;
      // an amendment replaces the figures of the revision it follows: take those out first
      const previous = turn.revision > 1 ? turn.previous : undefined;
      if (previous !== undefined) {
        rollup.usage = subtractUsage(rollup.usage, previous.usage);
        if (previous.cost.source === "unknown" || previous.cost.usd === null) {
          rollup.turnsWithUnknownCost = Math.max(0, rollup.turnsWithUnknownCost - 1);
        } else rollup.costUsd = Math.round((rollup.costUsd - previous.cost.usd) * 1e12) / 1e12;
        rollup.outcomes[previous.outcome] = Math.max(0, (rollup.outcomes[previous.outcome] ?? 0) - 1);
      } else {
        rollup.turns += 1;
      }
      rollup.usage = addUsage(rollup.usage, turn.usage);
      if (turn.cost.source === "unknown" || turn.cost.usd === null) rollup.turnsWithUnknownCost += 1;
      else rollup.costUsd = Math.round((rollup.costUsd + turn.cost.usd) * 1e12) / 1e12;
      rollup.outcomes[turn.outcome] = (rollup.outcomes[turn.outcome] ?? 0) + 1;
      rollup.firstSeenAt = Math.min(rollup.firstSeenAt, turn.startedAt);
      rollup.lastSeenAt = Math.max(rollup.lastSeenAt, turn.endedAt);
      // re-insert so Map order is least-recently-updated first
      sessions.delete(sessionKey);
      sessions.set(sessionKey, rollup);
      while (sessions.size > maxSessions) {
        const oldest = sessions.keys().next().value;
        if (oldest === undefined) break;
        sessions.delete(oldest);
        evicted += 1;
      }
      return copy(rollup);
    },
    get(sessionKey) {
      const rollup = sessions.get(sessionKey);
      return rollup === undefined ? undefined : copy(rollup);
    },
    list() {
      return [...sessions.values()].map(copy);
    },
    stats() {
      return { sessions: sessions.size, evicted };
    },
  };
}

function emptyRollup(sessionKey: string, at: number): SessionRollup {
  const outcomes: Record<TurnOutcome, number> = { success: 0, error: 0, aborted: 0, blocked: 0, unknown: 0 };
  return {
    sessionKey,
    turns: 0,
    usage: zeroUsage(),
    costUsd: 0,
    turnsWithUnknownCost: 0,
    outcomes,
    firstSeenAt: at,
    lastSeenAt: at,
  };
}

function copy(rollup: SessionRollup): SessionRollup {
  return { ...rollup, usage: { ...rollup.usage }, outcomes: { ...rollup.outcomes } };
}
