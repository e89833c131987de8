/**
 * The Langfuse extension (`extensions/langfuse`, plugin id `clawscope-langfuse`) as seen from an e2e
 * test: its plugin spec pointed at a Langfuse receiver (refusing a missing or stale bundle), its
 * health through the status RPC, its log lines, and the batch files of its spool.
 */
import type { LangfuseReceiver } from "@clawscope/testing";
import { describeExtension } from "./extension-under-test.js";
import type { GatewayPluginSpec } from "./gateway-config.js";

const langfuse = describeExtension("langfuse");

/** The extension's plugin id. */
export const LANGFUSE_ID = langfuse.id;
/** The extension's folder. */
export const LANGFUSE_DIR = langfuse.dir;
/** The file the gateway loads. */
export const LANGFUSE_ENTRY = langfuse.entry;
/** `beforeAll` timeout of the Langfuse files: gateway starts and a slow first turn on a busy machine. */
export const LANGFUSE_SETUP_TIMEOUT_MS = 5 * 60_000;

/**
 * The extension's plugin spec, sending to `receiver` with its key pair, `config` merged over that.
 * Fails at once when `dist/index.js` is missing or stale.
 */
export function langfusePlugin(
  receiver: Pick<LangfuseReceiver, "url" | "credentials">,
  config: Record<string, unknown> = {},
): GatewayPluginSpec {
  return langfuse.spec({
    publicKey: receiver.credentials.publicKey,
    secretKey: receiver.credentials.secretKey,
    baseUrl: receiver.url,
    ...config,
  });
}
export const assertLangfuseBuilt = langfuse.assertBuilt;
export const readLangfuseStatus = langfuse.readStatus;
export const langfuseLogLines = langfuse.logLines;
export const langfuseSpoolDir = langfuse.spoolDir;
export const listLangfuseSpool = langfuse.listSpool;
