/**
 * The gateway's own usage figures (`sessions.usage` RPC), to compare with the turns our plugins
 * assemble. The gateway computes them from its session transcripts in the background: a fresh
 * session shows `usage: null` and `cacheStatus.status: "refreshing"` for a few seconds.
 */
import { callGatewayMethod, type GatewayAddress, waitFor } from "./gateway-client.js";

/** Token and cost totals as `sessions.usage` reports them (costs in USD, from `models[].cost`). */
export interface GatewayUsageTotals {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  totalTokens: number;
  totalCost: number;
  inputCost: number;
  outputCost: number;
  cacheReadCost: number;
  cacheWriteCost: number;
  missingCostEntries: number;
}

/** Per-session usage (a subset; the gateway sends more: daily breakdowns, latency, ...). */
export interface GatewaySessionUsage extends GatewayUsageTotals {
  sessionId: string;
  firstActivity?: number;
  lastActivity?: number;
  durationMs?: number;
  messageCounts?: {
    total: number;
    user: number;
    assistant: number;
    toolCalls: number;
    toolResults: number;
    errors: number;
  };
  toolUsage?: { totalCalls: number; uniqueTools: number; tools: Array<{ name: string; count: number }> };
  modelUsage?: Array<{ provider: string; model: string; count: number; totals: GatewayUsageTotals }>;
  latency?: { count: number; avgMs: number; p95Ms: number; minMs: number; maxMs: number };
}

/** One row of `sessions[]`. */
export interface GatewayUsageSession {
  /** Canonical key, e.g. `agent:main:<x-openclaw-session-key>`. */
  key: string;
  sessionId: string;
  agentId: string;
  modelProvider?: string;
  model?: string;
  /** null while the gateway's usage cache refreshes. */
  usage: GatewaySessionUsage | null;
}

/** The `sessions.usage` answer (subset). */
export interface GatewaySessionsUsageResult {
  startDate: string;
  endDate: string;
  sessions: GatewayUsageSession[];
  totals: GatewayUsageTotals;
  aggregates: unknown;
  /** `fresh` once every transcript is summarised; `refreshing` before. */
  cacheStatus?: { status: string; cachedFiles?: number; pendingFiles?: number; staleFiles?: number };
}

/**
 * Params of `sessions.usage` (closed schema; unknown keys are rejected): `key` (one session),
 * `agentId` | `agentScope: "all"`, `startDate`/`endDate` (YYYY-MM-DD) or `range` (7d|30d|90d|1y|all),
 * `mode` (utc|gateway|specific), `timeZone`, `groupBy` (instance|family), `limit` (default 50),
 * `includeContextWeight`, `creatorKey`. Requires `operator.read`.
 */
export interface SessionsUsageParams {
  key?: string;
  agentId?: string;
  agentScope?: "all";
  startDate?: string;
  endDate?: string;
  range?: "7d" | "30d" | "90d" | "1y" | "all";
  mode?: "utc" | "gateway" | "specific";
  timeZone?: string;
  groupBy?: "instance" | "family";
  limit?: number;
  includeContextWeight?: boolean;
  creatorKey?: string;
}

/** One `sessions.usage` call, as is (may still be refreshing). */
export async function fetchSessionsUsage(
  gateway: GatewayAddress,
  params: SessionsUsageParams = {},
): Promise<GatewaySessionsUsageResult> {
  return (await callGatewayMethod(gateway, "sessions.usage", params)) as GatewaySessionsUsageResult;
}

/** Canonical session key for an HTTP `x-openclaw-session-key` or a bare key (`agent:main:<key>`). */
export function toCanonicalSessionKey(sessionKey: string): string {
  return sessionKey.startsWith("agent:") ? sessionKey : `agent:main:${sessionKey}`;
}

/**
 * Polls `sessions.usage` for one session until its cache is fresh and its usage satisfies
 * `isComplete` (default: usage present). Pass e.g. `(usage) => usage.messageCounts?.assistant === 3`
 * to wait for a known number of model calls after more turns.
 */
export async function waitForSessionUsage(
  gateway: GatewayAddress,
  sessionKey: string,
  isComplete: (usage: GatewaySessionUsage) => boolean = () => true,
  timeoutMs = 30_000,
): Promise<GatewaySessionUsage> {
  const key = toCanonicalSessionKey(sessionKey);
  return await waitFor(
    async () => {
      const result = await fetchSessionsUsage(gateway, { key });
      if (result.cacheStatus && result.cacheStatus.status !== "fresh") return undefined;
      const usage = result.sessions.find((session) => session.key === key)?.usage;
      return usage && isComplete(usage) ? usage : undefined;
    },
    timeoutMs,
    500,
    `sessions.usage for ${key}`,
  );
}
