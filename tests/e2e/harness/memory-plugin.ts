/**
 * The memory-consolidation extension (`extensions/memory-consolidation`, plugin id
 * `clawscope-memory-consolidation`) as seen from an e2e test; the shared implementation is in
 * `extension-under-test.ts`.
 */
import path from "node:path";
import { describeExtension } from "./extension-under-test.js";
import type { GatewayPluginSpec } from "./gateway-config.js";

const memory = describeExtension("memory-consolidation", ["store"]);

export const MEMORY_ID = memory.id;
/** The extension's plugin spec; fails at once when `dist/index.js` is missing or stale. */
export const memoryPlugin = (config: Record<string, unknown>): GatewayPluginSpec => memory.spec(config);
export const readMemoryStatus = memory.readStatus;
/** The embedded store's file on its defaults. */
export const memoryStoreFile = (gateway: { pluginStateDir(id: string): string }): string =>
  path.join(gateway.pluginStateDir(MEMORY_ID), "store.sqlite");
