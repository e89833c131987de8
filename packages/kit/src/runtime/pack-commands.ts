/**
 * Subcommands an extension adds to the pack's shared `openclaw clawscope` command (`consolidate`,
 * `history`). They run in the CLI process, not the gateway: with the extension's config resolved
 * as the service would resolve it, and its state dir. Two paths put them there, because the host
 * registers plugin CLI entries in its registry's order, which we do not choose: the extension
 * registers them under the parent (`parentPath: ["clawscope"]`), which works when the owner of
 * `clawscope` came first; and the owner adds every contribution it finds on `globalThis` after its
 * own subcommands, which works when it comes last. Whichever runs second finds the command there
 * and leaves it.
 */
import os from "node:os";
import path from "node:path";
import type { ConfigDefinition, ConfigOf } from "../config/define-config.js";
import { resolveConfig } from "../config/resolve-config.js";
import { describeError } from "./describe-error.js";
import type { HostPluginApi } from "./host-api.js";
import type { GatewayIdentity } from "./pack-service.js";
import { resolveGatewayIdentity } from "./start-context.js";

/** One `openclaw clawscope <name>` subcommand. */
export interface PackCommandSpec<Config = unknown> {
  name: string;
  description: string;
  /** Commander flags (`--date <date>`) with their help; `--json` and `--state-dir` are always there. */
  options?: readonly { flags: string; description: string }[];
  /** Positional arguments in commander's syntax (`<action> [words...]`); they reach `context.args`. */
  arguments?: string;
  /** Does the work and prints with `context.print`; a throw prints one `error:` line and exits 1. */
  run: (context: PackCommandContext<Config>) => Promise<void>;
}

export interface PackCommandContext<Config = unknown> {
  /** The parsed options (commander's camelCase keys). */
  options: Record<string, unknown>;
  /** The extension's config, resolved as at service start (plugin config → env → defaults). */
  config: Config;
  /** The extension's state dir: `<host state dir>/plugins/<plugin id>`. */
  stateDir: string;
  gateway: GatewayIdentity;
  json: boolean;
  print: (text: string) => void;
  /** The positional arguments the spec declared, flattened (a variadic one spreads). */
  args: string[];
}

interface Contribution {
  pluginId: string;
  commands: readonly PackCommandSpec<never>[];
  config: ConfigDefinition;
  rawConfig: unknown;
}

const CONTRIBUTIONS = Symbol.for("clawscope.cli-contributions");
type Registry = Map<string, Contribution>;

function contributions(): Registry {
  const global = globalThis as { [CONTRIBUTIONS]?: Registry };
  global[CONTRIBUTIONS] ??= new Map();
  return global[CONTRIBUTIONS];
}

/** Registers an extension's subcommands of `openclaw clawscope` (see the file's comment for the two paths). */
export function registerPackCommands<Definition extends ConfigDefinition>(
  pluginId: string,
  definition: Definition,
  commands: readonly PackCommandSpec<ConfigOf<Definition>>[],
  api: HostPluginApi,
): void {
  if (commands.length === 0) return;
  const contribution: Contribution = {
    pluginId,
    commands: commands as readonly PackCommandSpec<never>[],
    config: definition,
    rawConfig: api.pluginConfig,
  };
  contributions().set(pluginId, contribution);
  api.registerCli?.(({ program }) => addCommands(program as CommandLike, contribution), {
    parentPath: ["clawscope"],
    commands: commands.map((command) => command.name),
    descriptors: commands.map((command) => ({
      name: command.name,
      description: command.description,
      hasSubcommands: false,
    })),
  });
}

/** Adds every extension's contributed subcommands under `parent` (the owner's `clawscope` command). */
export function addContributedCommands(parent: unknown): void {
  for (const contribution of [...contributions().values()].sort((a, b) =>
    a.pluginId.localeCompare(b.pluginId),
  ))
    addCommands(parent as CommandLike, contribution);
}

/** The subcommand names contributed so far, for the owner's descriptor. */
export function listContributedCommands(): string[] {
  return [...contributions().values()].flatMap((contribution) =>
    contribution.commands.map((command) => command.name),
  );
}

function addCommands(parent: CommandLike, contribution: Contribution): void {
  for (const spec of contribution.commands) {
    if (parent.commands?.some((existing) => existing.name() === spec.name)) continue;
    let command = parent
      .command(spec.arguments ? `${spec.name} ${spec.arguments}` : spec.name)
      .description(spec.description)
      .option("--json", "print JSON")
      .option("--state-dir <dir>", "OpenClaw state dir (default: $OPENCLAW_STATE_DIR or ~/.openclaw)");
    for (const option of spec.options ?? []) command = command.option(option.flags, option.description);
    command.action(async (...received: unknown[]) => {
      // commander passes the declared arguments, then the options, then the command itself
      const options = (spec.arguments ? received.at(-2) : received[0]) as Record<string, unknown>;
      const args = spec.arguments
        ? received
            .slice(0, -2)
            .flatMap((value) =>
              Array.isArray(value) ? value.map(String) : value === undefined ? [] : [String(value)],
            )
        : [];
      const print = (text: string) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
      try {
        const hostStateDir =
          (typeof options.stateDir === "string" ? options.stateDir : undefined) ??
          process.env.OPENCLAW_STATE_DIR ??
          path.join(os.homedir(), ".openclaw");
        const resolved: { config: unknown; warnings: string[] } = resolveConfig(
          contribution.config,
          contribution.rawConfig,
          process.env,
        );
        const { config, warnings } = resolved;
        for (const warning of warnings) process.stderr.write(`${contribution.pluginId}: ${warning}\n`);
        await spec.run({
          options,
          config: config as Record<string, unknown> as never,
          stateDir: path.join(hostStateDir, "plugins", contribution.pluginId),
          gateway: resolveGatewayIdentity(
            (config as { gatewayName?: unknown }).gatewayName,
            hostStateDir,
            process.env,
          ),
          json: options.json === true,
          print,
          args,
        });
      } catch (error) {
        process.stderr.write(`error: ${contribution.pluginId} ${spec.name}: ${describeError(error)}\n`);
        process.exitCode = 1;
      }
    });
  }
}

interface CommandLike {
  commands?: readonly { name: () => string }[];
  command: (name: string) => CommandLike;
  description: (text: string) => CommandLike;
  option: (flags: string, description: string) => CommandLike;
  action: (handler: (...received: unknown[]) => Promise<void>) => CommandLike;
}
