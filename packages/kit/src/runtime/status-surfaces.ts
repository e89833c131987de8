/**
 * Where an operator reads the pack's health: a gateway RPC method per extension
 * (`<plugin id>.status`), and `openclaw clawscope status` (registered by one extension of the pack),
 * which reads the snapshots every extension writes under the state dir (so it works from the CLI
 * process, and after the gateway stopped).
 */
import os from "node:os";
import path from "node:path";
import { readField } from "../events/read-event.js";
import { moveDeadLettersToSpool } from "../export/dead-letter-files.js";
import { formatHealthLine } from "../health/health.js";
import { describeError } from "./describe-error.js";
import type { HostPluginApi } from "./host-api.js";
import { addContributedCommands, listContributedCommands } from "./pack-commands.js";
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
  api.registerGatewayMethod?.(`${pluginId}.redeliver`, async ({ respond }) => {
    try {
      const runtime = readRuntime(pluginId);
      if (runtime?.redeliver === undefined) {
        respond(false, undefined, { code: "UNAVAILABLE", message: `${pluginId} is not running` });
        return;
      }
      respond(true, { pluginId, ...(await runtime.redeliver()) });
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
      command
        .command("redeliver")
        .description(
          "move what backends refused (the spools' dead letters) back into the spools: sent at the next gateway start; while the gateway runs, use `openclaw gateway call <plugin id>.redeliver`",
        )
        .option("--json", "print JSON")
        .option("--state-dir <dir>", "OpenClaw state dir (default: $OPENCLAW_STATE_DIR or ~/.openclaw)")
        .action(async (options: { json?: boolean; stateDir?: string }) => {
          const stateDir =
            options.stateDir ?? process.env.OPENCLAW_STATE_DIR ?? path.join(os.homedir(), ".openclaw");
          const pluginsDir = path.join(stateDir, "plugins");
          const { readdir } = await import("node:fs/promises");
          const plugins = (await readdir(pluginsDir).catch(() => [] as string[]))
            .filter((name) => name.startsWith("clawscope-"))
            .sort();
          const moved = [];
          for (const plugin of plugins) {
            for (const result of await moveDeadLettersToSpool(path.join(pluginsDir, plugin))) {
              moved.push({ pluginId: plugin, ...result });
            }
          }
          if (options.json) {
            process.stdout.write(`${JSON.stringify(moved, null, 2)}\n`);
            return;
          }
          if (moved.length === 0) {
            process.stdout.write(`no dead letters under ${pluginsDir}\n`);
            return;
          }
          for (const entry of moved) {
            process.stdout.write(
              `${entry.pluginId}: ${entry.items} item(s) from ${entry.files} file(s) back in ${entry.spoolDir}; sent at the next gateway start\n`,
            );
          }
        });
      // the other extensions' subcommands (consolidate, history...), when they registered before this runs
      addContributedCommands(command);
    },
    {
      descriptors: [
        {
          name: "clawscope",
          description: `clawscope observability pack: ${["status", "redeliver", ...listContributedCommands()].join(", ")}`,
          hasSubcommands: true,
        },
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
