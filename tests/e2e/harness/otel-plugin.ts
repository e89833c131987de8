/**
 * The OTel extension (`extensions/otel`, plugin id `clawscope-otel`) as seen from an e2e test; the
 * shared implementation is in `extension-under-test.ts`.
 */

import { describeExtension } from "./extension-under-test.js";
import type { GatewayPluginSpec } from "./gateway-config.js";

const otel = describeExtension("otel");

/** The extension's plugin id. */
export const OTEL_ID = otel.id;
/** The extension's folder. */
export const OTEL_DIR = otel.dir;
/** The file the gateway loads. */
export const OTEL_ENTRY = otel.entry;
/**
 * `beforeAll` timeout of the OTel files: a cold collector build (`ensureCollectorBinary`, about 6
 * minutes on 2 cores, 30 allowed) plus a gateway start. Cached, the build returns at once.
 */
export const OTEL_SETUP_TIMEOUT_MS = 35 * 60_000;

/** The extension's plugin spec; fails at once when `dist/index.js` is missing or stale. */
export const otelPlugin = (config: Record<string, unknown>): GatewayPluginSpec => otel.spec(config);
export const assertOtelBuilt = otel.assertBuilt;
export const readOtelStatus = otel.readStatus;
export const otelLogLines = otel.logLines;
export const otelSpoolDir = otel.spoolDir;
export const listOtelSpool = otel.listSpool;
