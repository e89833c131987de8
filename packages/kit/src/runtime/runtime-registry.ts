/**
 * Live per-extension state on `globalThis`. The host runs hooks in `discovery` module instances and
 * the service in the `full` one; module variables are not shared between them, `globalThis` is.
 */
import type { HealthSnapshot } from "../health/health.js";
import type { SurfaceTable } from "./surfaces.js";

/** What hook handlers and status surfaces need from a running extension. */
export interface LiveRuntime {
  pluginId: string;
  stateDir: string;
  handleHook: (name: string, event: unknown, context: unknown) => void;
  health: () => HealthSnapshot;
  /** The route handlers and tool implementations the running extension bound. */
  surfaces?: SurfaceTable;
  /** Records an error in the extension's health (a route or tool that failed). */
  recordError?: (message: string) => void;
  /** Sends what the backend refused before (the dead letters) again; says how many items. */
  redeliver?: () => Promise<{ files: number; items: number }>;
  stop: () => Promise<void>;
}

const REGISTRY_KEY = Symbol.for("clawscope.runtimes.v1");

type GlobalWithRegistry = typeof globalThis & { [REGISTRY_KEY]?: Map<string, LiveRuntime> };

function registry(): Map<string, LiveRuntime> {
  const global = globalThis as GlobalWithRegistry;
  global[REGISTRY_KEY] ??= new Map();
  return global[REGISTRY_KEY];
}

/** The running instance of an extension in this process, if any. */
export function readRuntime(pluginId: string): LiveRuntime | undefined {
  return registry().get(pluginId);
}

/** Every running clawscope extension in this process (all copies of the kit share the registry). */
export function listRuntimes(): LiveRuntime[] {
  return [...registry().values()];
}

/** Publishes a started runtime; returns the one it replaced (a start without stop, on reload). */
export function publishRuntime(runtime: LiveRuntime): LiveRuntime | undefined {
  const previous = registry().get(runtime.pluginId);
  registry().set(runtime.pluginId, runtime);
  return previous;
}

/** Removes a runtime if it is still the published one. */
export function unpublishRuntime(runtime: LiveRuntime): void {
  if (registry().get(runtime.pluginId) === runtime) registry().delete(runtime.pluginId);
}
