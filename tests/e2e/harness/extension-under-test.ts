/**
 * An extension of the pack as an e2e test sees it: its plugin spec (refusing a missing or stale
 * bundle), its health through the kit's status RPC, its log lines, and the batch files of its spool.
 * One implementation for every extension; `otel-plugin.ts`, `mlflow-plugin.ts` and
 * `langfuse-plugin.ts` name their extension's.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import type { HealthSnapshot } from "@clawscope/kit";
import { REPO_ROOT } from "./gateway.js";
import { callGatewayMethod, type GatewayAddress } from "./gateway-client.js";
import type { GatewayPluginSpec } from "./gateway-config.js";
import { type GatewayLogLine, readGatewayLog } from "./probe.js";

/** What a test needs of a gateway to read an extension's files. */
export interface PluginStateHolder {
  pluginStateDir(id: string): string;
}

/** What a test needs of a gateway to read its log. */
export interface LogHolder {
  readLogFile(): string;
}

/** The spool's files, relative to it, split into live batches and dead-lettered ones. */
export interface SpoolListing {
  live: string[];
  deadLettered: string[];
}

/** One extension under test (see {@link describeExtension}). */
export interface ExtensionUnderTest {
  /** Plugin id, `clawscope-<name>`. */
  id: string;
  /** The extension's folder; the gateway loads `dist/index.js` (its `runtimeExtensions`). */
  dir: string;
  /** The file the gateway loads. */
  entry: string;
  /** The plugin spec with `config` as its `plugins.entries` config; throws when the bundle is stale. */
  spec(config: Record<string, unknown>): GatewayPluginSpec;
  /** Throws a one-line instruction when the bundle is missing or older than its sources. */
  assertBuilt(): void;
  /** The extension's health, through the kit's status RPC. */
  readStatus(gateway: GatewayAddress): Promise<HealthSnapshot>;
  /** Log lines the extension wrote through the kit's logger (`clawscope-<name>: ...`). */
  logLines(gateway: LogHolder): GatewayLogLine[];
  /** `<stateDir>/plugins/<id>/spool`. */
  spoolDir(gateway: PluginStateHolder): string;
  /** Files under the spool; temp files of a write in progress count as live. */
  listSpool(gateway: PluginStateHolder): SpoolListing;
}

/**
 * Describes `extensions/<name>`. `packages` are the workspace packages bundled into it besides the
 * kit (their sources count for staleness too).
 */
export function describeExtension(name: string, packages: readonly string[] = []): ExtensionUnderTest {
  const id = `clawscope-${name}`;
  const dir = path.join(REPO_ROOT, "extensions", name);
  const entry = path.join(dir, "dist", "index.js");
  const sourceDirs = [
    path.join(dir, "src"),
    ...["kit", ...packages].map((pkg) => path.join(REPO_ROOT, "packages", pkg, "src")),
  ];
  const assertBuilt = (): void => {
    const rebuild = `run \`pnpm --filter @clawscope/${name} build\` (or \`pnpm build\`)`;
    if (!existsSync(entry)) throw new Error(`${entry} is missing: ${rebuild}`);
    // a stale bundle would test old code and pass or fail for the wrong reason
    const builtAt = statSync(entry).mtimeMs;
    const newer = sourceDirs.flatMap(listSources).filter((file) => statSync(file).mtimeMs > builtAt);
    if (newer.length > 0) {
      const shown = newer.slice(0, 3).map((file) => path.relative(REPO_ROOT, file));
      throw new Error(`${entry} is older than ${shown.join(", ")}: ${rebuild}`);
    }
  };
  const spoolDir = (gateway: PluginStateHolder) => path.join(gateway.pluginStateDir(id), "spool");
  return {
    id,
    dir,
    entry,
    spec(config) {
      assertBuilt();
      return { dir, id, config, allowConversationAccess: true };
    },
    assertBuilt,
    async readStatus(gateway) {
      return (await callGatewayMethod(gateway, `${id}.status`)) as HealthSnapshot;
    },
    logLines: (gateway) => readGatewayLog(gateway).filter((line) => line.message.startsWith(`${id}: `)),
    spoolDir,
    listSpool: (gateway) => listSpoolFiles(spoolDir(gateway)),
  };
}

function listSources(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".ts") && !name.endsWith(".test.ts"))
    .map((name) => path.join(dir, name));
}

function listSpoolFiles(root: string): SpoolListing {
  const live: string[] = [];
  const deadLettered: string[] = [];
  if (!existsSync(root)) return { live, deadLettered };
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true, encoding: "utf8" })) {
    if (!entry.isFile()) continue;
    const relative = path.relative(root, path.join(entry.parentPath, entry.name));
    if (relative.split(path.sep).includes("dead-letter")) deadLettered.push(relative);
    else live.push(relative);
  }
  return { live: live.sort(), deadLettered: deadLettered.sort() };
}
