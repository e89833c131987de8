/**
 * Where an operator reads the pack's health: a gateway RPC method per extension
 * (`<plugin id>.status`), and `openclaw clawscope status` (registered by one extension of the pack),
 * which reads the snapshots every extension writes under the state dir (so it works from the CLI
 * process, and after the gateway stopped).
 */
import os from "node:os";
import path from "node:path";
import { readField } from "../events/read-event.js";
import { formatHealthLine } from "../health/health.js";
import { describeError } from "./describe-error.js";
import type { HostPluginApi } from "./host-api.js";
import { readRuntime } from "./runtime-registry.js";
import { readHealthFiles } from "./status-file.js";

/** Registers the status RPC method and, when this extension owns it, the pack's CLI command. */
export function registerStatusSurfaces(pluginId: string, api: HostPluginApi): void {
  api.registerGatewayMethod?.(`${pluginId}.status`, ({ respond }) => {
    try {
      respond(true, readRuntime(pluginId)?.health() ?? { pluginId, state: "stopped" });
    } catch (error) {
      try {
        respond(false, undefined, { code: "UNAVAILABLE", message: describeError(error) });
      } catch {}
    }
  });
  if (api.registerCli && isCliOwner(pluginId, api.config)) registerCli(api);
}

/**
 * Whether this extension registers the shared `openclaw clawscope` command: the enabled clawscope
 * extension with the smallest id. The host refuses a second registration of one command name within
 * a registry, and builds several registries per process (the CLI loads a metadata registry, then
 * the one whose registrars it runs), so "the first one in this process" would lose the command;
 * a rule every extension evaluates alike from the config picks one owner in every registry.
 */
export function isCliOwner(pluginId: string, hostConfig: unknown): boolean {
  const entries = readField(readField(hostConfig, "plugins"), "entries");
  const enabled =
    typeof entries === "object" && entries !== null
      ? Object.keys(entries).filter(
          (id) => id.startsWith("clawscope-") && readField(readField(entries, id), "enabled") !== false,
        )
      : [];
  return [pluginId, ...enabled].sort()[0] === pluginId;
}

function registerCli(api: HostPluginApi): void {
  api.registerCli?.(
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
