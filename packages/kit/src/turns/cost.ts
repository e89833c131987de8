/**
 * Cost provenance: every cost is `provider` (the host priced it), `estimated` (we priced it from a
 * price table) or `unknown` (`usd: null`) — never a silent zero.
 */
import type { Cost, Usage } from "./turn.js";
import { hasTokens } from "./usage.js";

/** USD per million tokens, as in OpenClaw's `models.providers.*.models[].cost`. */
export interface ModelPrice {
  input?: number;
  output?: number;
  cacheRead?: number;
  cacheWrite?: number;
}

/** Prices keyed by `provider/model` (preferred) or by bare `model`. */
export type PriceTable = Record<string, ModelPrice>;

/** What a cost is resolved from. */
export interface CostInput {
  usage: Usage | undefined;
  /** The host's figure (`costUsd`, `usage.cost.total`), if it reported one. */
  hostCostUsd: number | undefined;
  provider?: string;
  model?: string;
  pricing?: PriceTable;
}

/** The cost of nothing known. */
export const UNKNOWN_COST: Cost = Object.freeze({ usd: null, source: "unknown" }) as Cost;

/**
 * Resolves a cost with its provenance. A host cost of exactly 0 for a usage with tokens is treated
 * as "not priced" (OpenClaw reports 0 for models without `cost` config), so it falls through to the
 * price table and then to `unknown`; a 0 for a usage without tokens is a real zero.
 */
export function resolveCost(input: CostInput): Cost {
  const { usage, hostCostUsd } = input;
  if (hostCostUsd !== undefined && Number.isFinite(hostCostUsd) && hostCostUsd >= 0) {
    const tokens = usage !== undefined && hasTokens(usage);
    if (hostCostUsd > 0 || !tokens) return { usd: hostCostUsd, source: "provider" };
  }
  if (usage !== undefined) {
    const estimated = estimateCost(usage, input.provider, input.model, input.pricing);
    if (estimated !== undefined) return { usd: estimated, source: "estimated" };
  }
  return { usd: null, source: "unknown" };
}

/**
 * Prices a usage from the table, or undefined when the model has no entry. Summed in
 * token-dollars before one division, so 111 input + 22 output at 3/15 gives exactly 0.000663.
 */
export function estimateCost(
  usage: Usage,
  provider: string | undefined,
  model: string | undefined,
  pricing: PriceTable | undefined,
): number | undefined {
  const price = findPrice(pricing, provider, model);
  if (price === undefined) return undefined;
  const tokenDollars =
    usage.input * rate(price.input) +
    usage.output * rate(price.output) +
    usage.cacheRead * rate(price.cacheRead) +
    usage.cacheWrite * rate(price.cacheWrite);
  return roundUsd(tokenDollars / 1_000_000);
}

/**
 * Sums costs. Any `unknown` part makes the sum `unknown` (a partial sum would under-report); any
 * `estimated` part makes it `estimated`; an empty list is `unknown`.
 */
export function combineCosts(costs: readonly Cost[]): Cost {
  if (costs.length === 0) return { usd: null, source: "unknown" };
  let total = 0;
  let estimated = false;
  for (const cost of costs) {
    if (cost.source === "unknown" || cost.usd === null) return { usd: null, source: "unknown" };
    if (cost.source === "estimated") estimated = true;
    total += cost.usd;
  }
  return { usd: roundUsd(total), source: estimated ? "estimated" : "provider" };
}

/** Rounds to 1e-12 USD so float noise from sums (0.1 + 0.2) does not leak into exports. */
export function roundUsd(usd: number): number {
  return Math.round(usd * 1e12) / 1e12;
}

function findPrice(
  pricing: PriceTable | undefined,
  provider: string | undefined,
  model: string | undefined,
): ModelPrice | undefined {
  if (pricing === undefined || model === undefined) return undefined;
  try {
    const keys = provider !== undefined ? [`${provider}/${model}`, model] : [model];
    for (const key of keys) {
      if (Object.hasOwn(pricing, key)) {
        const price = pricing[key];
        if (price !== null && typeof price === "object") {
          // copied here so a hostile entry's getters throw inside this try, not later
          return {
            input: price.input,
            output: price.output,
            cacheRead: price.cacheRead,
            cacheWrite: price.cacheWrite,
          };
        }
      }
    }
  } catch {
    // a hostile table (throwing getters) prices nothing
  }
  return undefined;
}

function rate(value: number | undefined): number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : 0;
}
