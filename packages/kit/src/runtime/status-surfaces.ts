/**
 * Where an operator reads the pack's health: a gateway RPC method per extension
 * (`<plugin id>.status`), and `openclaw clawscope status`, which reads the snapshots every extension
 * writes under the state dir (so it works from the CLI process, and after the gateway stopped).
 */
import os from "node:os";
import path from "node:path";
import { formatHealthLine } from "../health/health.js";
import type { HostPluginApi } from "./host-api.js";
import { readRuntime } from "./runtime-registry.js";
import { readHealthFiles } from "./status-file.js";

const CLI_KEY = Symbol.for("clawscope.cli-registered.v1");

type GlobalWithCli = typeof globalThis & { [CLI_KEY]?: boolean };

/** Registers the status RPC method and, once per process for the whole pack, the CLI command. */
export function registerStatusSurfaces(pluginId: string, api: HostPluginApi): void {
  api.registerGatewayMethod?.(`${pluginId}.status`, ({ respond }) => {
    const runtime = readRuntime(pluginId);
    if (!runtime) {
      respond(true, { pluginId, state: "stopped" });
      return;
    }
    respond(true, runtime.health());
  });
  registerCliOnce(api);
}

function registerCliOnce(api: HostPluginApi): void {
  const global = globalThis as GlobalWithCli;
  // every clawscope extension could register it; the first one in a process does, for all of them
  if (global[CLI_KEY] || !api.registerCli) return;
  global[CLI_KEY] = true;
  api.registerCli(
    ({ program }) => {
      const root = program as CommanderLike;
      const command = root.command("clawscope").description("clawscope observability pack");
      command
        .command("status")
        .description("health of every clawscope extension: events, turns, exports, errors")
        .option("--json", "print JSON")
        .option("--state-dir <dir>", "OpenClaw state dir (default: $OPENCLAW_STATE_DIR or ~/.openclaw)")
        .action(async (options: { json?: boolean; stateDir?: string }) => {
          const stateDir =
            options.stateDir ?? process.env.OPENCLAW_STATE_DIR ?? path.join(os.homedir(), ".openclaw");
          const snapshots = await readHealthFiles(stateDir);
          if (options.json) {
            process.stdout.write(`${JSON.stringify(snapshots, null, 2)}\n`);
            return;
          }
          if (snapshots.length === 0) {
            process.stdout.write(`no clawscope extension has reported under ${stateDir}/plugins\n`);
            return;
          }
          for (const snapshot of snapshots) {
            const age = Math.round((Date.now() - snapshot.at) / 1000);
            process.stdout.write(`${formatHealthLine(snapshot)} (as of ${age}s ago)\n`);
          }
        });
    },
    {
      descriptors: [
        { name: "clawscope", description: "clawscope observability pack: status", hasSubcommands: true },
      ],
    },
  );
}

interface CommanderLike {
  command: (name: string) => CommanderLike;
  description: (text: string) => CommanderLike;
  option: (flags: string, description: string) => CommanderLike;
  action: (handler: (options: { json?: boolean; stateDir?: string }) => Promise<void>) => CommanderLike;
}
