/**
 * The config fields every clawscope extension shares. Spread them into an extension's
 * definition: `defineConfig({ ...packConfigFields, trackingUri: field.url({...}) })`.
 */
import type { InferFields } from "./define-config.js";
import { field } from "./define-config.js";

/** Per-model prices in USD per million tokens, used when the host reports no cost. */
const modelPriceFields = {
  input: field.number({ description: "USD per million input tokens.", min: 0, required: true }),
  output: field.number({ description: "USD per million output tokens.", min: 0, required: true }),
  cacheRead: field.number({ description: "USD per million cache-read input tokens.", min: 0 }),
  cacheWrite: field.number({ description: "USD per million cache-write input tokens.", min: 0 }),
};

/** Shared fields: privacy switches, turn assembly timing, export pacing and bounds, pricing. */
export const packConfigFields = {
  captureContent: field.boolean({
    description:
      "Export prompts, replies and tool arguments/results (redacted and truncated). Off by default: only metadata leaves the gateway.",
    default: false,
  }),
  rawIds: field.boolean({
    description:
      "Export session and user ids as they are. When false, ids are replaced by a keyed HMAC-SHA256 hash (stable per deployment).",
    default: false,
  }),
  hashKey: field.secret({
    description:
      "Key for hashing ids. When unset, a random key is generated once and kept in the state dir, shared by all clawscope extensions of this gateway.",
    env: ["CLAWSCOPE_HASH_KEY"],
    minLength: 16,
    advanced: true,
  }),
  turnTimeoutMs: field.integer({
    description: "A turn with no end event after this long is closed and exported with outcome `timeout`.",
    min: 1_000,
    max: 86_400_000,
    default: 600_000,
    advanced: true,
  }),
  settleMs: field.integer({
    description:
      "How long to wait after a run ends for late events (usage, tool events) before the turn is exported.",
    min: 0,
    max: 60_000,
    default: 2_000,
    advanced: true,
  }),
  retryWaitMs: field.integer({
    description:
      "How long a turn whose provider call failed waits for the gateway to retry it or fall back to another model, when the gateway does not itself say the run is over (it normally does at once). The turn is exported with its last attempt's outcome.",
    min: 0,
    max: 900_000,
    default: 120_000,
    advanced: true,
  }),
  flushIntervalMs: field.integer({
    description: "How often queued records are sent to the backend.",
    min: 100,
    max: 300_000,
    default: 5_000,
    advanced: true,
  }),
  retryMaxDelayMs: field.integer({
    description:
      "Longest wait between two delivery attempts while the backend is unreachable (backoff with jitter doubles from 1 s up to this). A backend's Retry-After is always honoured.",
    min: 1_000,
    max: 600_000,
    default: 60_000,
    advanced: true,
  }),
  spoolMaxBytes: field.integer({
    description:
      "Disk space for records kept while the backend is unreachable (under the state dir); 0 keeps them in memory only. Oldest records are dropped first.",
    min: 0,
    max: 10_737_418_240,
    default: 52_428_800,
    advanced: true,
  }),
  maxContentChars: field.integer({
    description: "Longest captured text per field, after redaction; longer text is cut and marked.",
    min: 64,
    max: 1_000_000,
    default: 8_000,
    advanced: true,
  }),
  pricing: field.record({
    description:
      "Prices by model id (as the host reports it, e.g. `gpt-4o`), for turns where the host reports no cost. Costs computed from it are marked `estimated`.",
    values: field.object({ description: "Prices in USD per million tokens.", fields: modelPriceFields }),
    maxKeys: 500,
    advanced: true,
  }),
};

/** The resolved shared fields. */
export type PackConfig = InferFields<typeof packConfigFields>;
/** Prices of one model, USD per million tokens. */
export type ModelPrice = InferFields<typeof modelPriceFields>;
