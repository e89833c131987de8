/**
 * The knowledge-base extension (`extensions/knowledge-base`, plugin id `clawscope-knowledge-base`)
 * as seen from an e2e test; the shared implementation is in `extension-under-test.ts`.
 */
import path from "node:path";
import { describeExtension } from "./extension-under-test.js";
import type { GatewayPluginSpec } from "./gateway-config.js";

const knowledgeBase = describeExtension("knowledge-base", ["store"]);

export const KB_ID = knowledgeBase.id;
/** The extension's plugin spec; fails at once when `dist/index.js` is missing or stale. */
export const kbPlugin = (config: Record<string, unknown>): GatewayPluginSpec => knowledgeBase.spec(config);
export const readKbStatus = knowledgeBase.readStatus;
/** The embedded store's file on its defaults. */
export const kbStoreFile = (gateway: { pluginStateDir(id: string): string }): string =>
  path.join(gateway.pluginStateDir(KB_ID), "store.sqlite");
