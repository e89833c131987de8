/**
 * `createPackPlugin` turns an extension's spec into an OpenClaw plugin definition. It owns what every
 * clawscope extension needs and must get right once: registering every surface in every
 * registration mode, keeping live state on `globalThis` (hooks run in other module instances than the
 * service), resolving config with one-line errors, the shared bus subscription, turn assembly,
 * health, and never letting an exception reach the gateway.
 */
import type { ConfigDefinition, ConfigOf } from "../config/define-config.js";
import { toManifestConfigSchema } from "../config/json-schema.js";
import { PACK_HOOKS } from "../events/host-events.js";
import type { OperationalEventType } from "../events/operational-event.js";
import type { HealthSnapshot } from "../health/health.js";
import type { Turn } from "../turns/turn.js";
import { describeError } from "./describe-error.js";
import type { SubscribeToBus } from "./event-hub.js";
import type { HostPluginApi, HostServiceContext } from "./host-api.js";
import { createPackLogger } from "./logger.js";
import { type PackCommandSpec, registerPackCommands } from "./pack-commands.js";
import { type PackService, type PackStartContext, startPackRuntime } from "./pack-runtime.js";
import { runLifecycleStep } from "./runtime-lifecycle.js";
import { readRuntime } from "./runtime-registry.js";
import type { SchedulerClock } from "./scheduler.js";
import { registerStatusSurfaces } from "./status-surfaces.js";
import { type PackRouteSpec, type PackToolSpec, registerDeclaredSurfaces } from "./surfaces.js";

/** What an extension declares; everything else is the kit's job. */
export interface PackPluginSpec<Definition extends ConfigDefinition> {
  /** Plugin id, `clawscope-<directory>`. */
  id: string;
  name: string;
  description: string;
  config: Definition;
  /** Operational event types the extension wants besides assembled turns (session, message, queue...). */
  eventTypes?: readonly OperationalEventType[];
  /**
   * HTTP routes on the gateway port (auth `gateway` unless told), registered with the host in every
   * registration mode; the extension binds their handlers at start (`context.registerHttpRoute`).
   */
  routes?: readonly PackRouteSpec[];
  /** Agent tools (also listed in `openclaw.plugin.json` `contracts.tools`); bound at start (`context.registerTool`). */
  tools?: readonly PackToolSpec[];
  /** Subcommands of `openclaw clawscope`, run in the CLI process with this extension's resolved config. */
  commands?: readonly PackCommandSpec<ConfigOf<Definition>>[];
  /** Called at each service start with a resolved config; returns the running service. */
  start: (context: PackStartContext<ConfigOf<Definition>>) => PackService | Promise<PackService>;
}

/** The host seam: functions from `openclaw/plugin-sdk/*`, passed in by the extension's `src/api.ts`. */
export interface PackHostBindings {
  subscribe: SubscribeToBus;
  /** Test seam: the clock scheduled jobs run on (the system clock by default). */
  clock?: SchedulerClock;
}

/** The plugin definition handed to the host's `definePluginEntry`. */
export interface PackPluginDefinition {
  id: string;
  name: string;
  description: string;
  configSchema: Record<string, unknown>;
  register: (api: HostPluginApi) => void;
}

/** Builds the plugin definition of one clawscope extension. */
export function createPackPlugin<Definition extends ConfigDefinition>(
  spec: PackPluginSpec<Definition>,
  host: PackHostBindings,
): PackPluginDefinition {
  return {
    id: spec.id,
    name: spec.name,
    description: spec.description,
    configSchema: toManifestConfigSchema(spec.config),
    register(api) {
      // every mode registers every surface: the host picks which instance runs what; each surface
      // on its own, so one the host refuses cannot take the others down
      const surfaces: Array<[string, () => void]> = [
        ["hooks", () => registerHooks(spec.id, api)],
        ["service", () => registerService(spec, host, api)],
        ["status surfaces", () => registerStatusSurfaces(spec.id, api)],
        ["commands", () => registerPackCommands(spec.id, spec.config, spec.commands ?? [], api)],
        [
          "routes and tools",
          () => registerDeclaredSurfaces(spec.id, spec, api, createPackLogger(api?.logger, spec.id)),
        ],
      ];
      for (const [name, registerSurface] of surfaces) {
        try {
          registerSurface();
        } catch (error) {
          createPackLogger(api?.logger, spec.id).error(`could not register ${name}: ${describeError(error)}`);
        }
      }
    },
  };
}

function registerHooks(pluginId: string, api: HostPluginApi): void {
  for (const name of [...PACK_HOOKS.plain, ...PACK_HOOKS.conversation]) {
    api.on(name, (event, context) => {
      try {
        readRuntime(pluginId)?.handleHook(name, event, context);
      } catch {
        // observe-only: a hook handler never affects the run
      }
      return undefined;
    });
  }
}

/** How long a start waits for a previous stop to finish (its pipelines' final delivery included). */
const START_WAIT_MS = 15_000;
/** How long a stop waits for a start still awaiting the extension; that start gives up when it returns. */
const STOP_WAIT_MS = 5000;

function registerService<Definition extends ConfigDefinition>(
  spec: PackPluginSpec<Definition>,
  host: PackHostBindings,
  api: HostPluginApi,
): void {
  api.registerService({
    id: spec.id,
    // the host restarts the service with the committed config when our entry changes
    reload: { configPrefixes: [`plugins.entries.${spec.id}`] },
    async start(context: HostServiceContext) {
      try {
        await runLifecycleStep(spec.id, START_WAIT_MS, ({ isCurrent }) =>
          startPackRuntime({
            spec,
            subscribe: host.subscribe,
            ...(host.clock ? { clock: host.clock } : {}),
            serviceContext: context,
            rawConfig: readPluginConfig(context?.config, spec.id, api.pluginConfig),
            conversationAccess: readConversationAccess(context?.config, spec.id),
            isCurrent,
          }),
        );
      } catch (error) {
        createPackLogger(context?.logger ?? api.logger, spec.id).error(
          `failed to start, extension disabled: ${describeError(error)}`,
        );
      }
    },
    async stop() {
      try {
        await runLifecycleStep(spec.id, STOP_WAIT_MS, async () => {
          await readRuntime(spec.id)?.stop();
        });
      } catch (error) {
        createPackLogger(api.logger, spec.id).error(`failed to stop cleanly: ${describeError(error)}`);
      }
    },
  });
}

/** The plugin's own config from the whole OpenClaw config (fresh on every start, so reloads see it). */
export function readPluginConfig(hostConfig: unknown, pluginId: string, fallback: unknown): unknown {
  const entry = readEntry(hostConfig, pluginId);
  if (entry && "config" in entry) return entry.config ?? {};
  return fallback ?? {};
}

/** Whether `plugins.entries.<id>.hooks.allowConversationAccess` is true. */
export function readConversationAccess(hostConfig: unknown, pluginId: string): boolean {
  const hooks = readEntry(hostConfig, pluginId)?.hooks;
  return (
    typeof hooks === "object" &&
    hooks !== null &&
    (hooks as { allowConversationAccess?: unknown }).allowConversationAccess === true
  );
}

function readEntry(hostConfig: unknown, pluginId: string): Record<string, unknown> | undefined {
  const plugins = (hostConfig as { plugins?: { entries?: Record<string, unknown> } } | undefined)?.plugins;
  const entry = plugins?.entries?.[pluginId];
  return typeof entry === "object" && entry !== null ? (entry as Record<string, unknown>) : undefined;
}

export type { HealthSnapshot, Turn };
export { describeError };
