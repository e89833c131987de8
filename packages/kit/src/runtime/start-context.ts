/**
 * What an extension's `start` is handed: resolved config, id hashing, content-capture switch and a
 * factory of export pipelines that the runtime owns (and stops, spooling what is pending).
 */
import { createHash } from "node:crypto";
import { hostname } from "node:os";
import path from "node:path";
import { createExportPipeline, type ExportPipeline } from "../export/export-pipeline.js";
import type { HealthRecorder } from "../health/health.js";
import { createIdHasher } from "../privacy/hash-ids.js";
import { loadOrCreateHashKey } from "../privacy/hash-key.js";
import { describeError } from "./describe-error.js";
import type { PackLogger } from "./logger.js";
import type { CommonPackConfig, GatewayIdentity, PackService, PackStartContext } from "./pack-service.js";
import { finishWithin } from "./runtime-lifecycle.js";
import {
  createScheduler,
  resolveSchedulerClock,
  type Scheduler,
  type SchedulerClock,
  systemClock,
} from "./scheduler.js";
import { createSurfaceTable, type PackRouteSpec, type PackToolSpec, type SurfaceTable } from "./surfaces.js";

/** Inputs of {@link createStartContext}. */
export interface StartContextOptions<Config> {
  pluginId: string;
  config: Config;
  stateDir: string;
  /** False when the state dir could not be created: pipelines then keep data in memory only. */
  stateDirReady: boolean;
  hashKey: string;
  logger: PackLogger;
  health: HealthRecorder;
  conversationAccess: boolean;
  hostConfig: unknown;
  /** The host's state dir (the gateway identity hashes it); defaults to two levels above `stateDir`. */
  hostStateDir?: string;
  /** The routes and tools the spec declares (handlers are bound through the context). */
  declared?: { routes?: readonly PackRouteSpec[]; tools?: readonly PackToolSpec[] };
  /** Test seam: the scheduler's clock. */
  clock?: SchedulerClock;
  env?: Record<string, string | undefined>;
}

/** The context, and what the runtime stops through it: scheduler, pipelines, owned resources. */
export interface StartContextParts<Config> {
  context: PackStartContext<Config>;
  pipelines: ExportPipeline<unknown>[];
  scheduler: Scheduler;
  surfaces: SurfaceTable;
  /** Closes what the extension handed to `own`, last first, each within `timeoutMs`. */
  closeOwned: (timeoutMs: number) => Promise<void>;
}

/** Builds the context of one start. */
export function createStartContext<Config>(options: StartContextOptions<Config>): StartContextParts<Config> {
  const common = options.config as unknown as CommonPackConfig;
  const hasher = createIdHasher({ key: options.hashKey, raw: common.rawIds === true });
  const pipelines: ExportPipeline<unknown>[] = [];
  const shifted = options.clock ? undefined : resolveSchedulerClock(options.env ?? process.env);
  if (shifted?.notice) options.logger.warn(shifted.notice);
  const clock = options.clock ?? shifted?.clock ?? systemClock;
  const scheduler = createScheduler({ clock, logger: options.logger });
  options.health.attachSchedules(() => scheduler.stats());
  const surfaces = createSurfaceTable(options.declared ?? {});
  const owned: Array<{ name: string; close: () => unknown }> = [];
  const context: PackStartContext<Config> = {
    pluginId: options.pluginId,
    config: options.config,
    stateDir: options.stateDir,
    logger: options.logger,
    health: options.health,
    hashId: (id) => (id === undefined || id === "" ? undefined : hasher.hash(id)),
    captureContent: common.captureContent === true,
    conversationAccess: options.conversationAccess,
    hostConfig: options.hostConfig,
    createPipeline(name, pipelineOptions) {
      // the pack-wide settings are defaults; an extension may pass its own per pipeline
      const spoolBytes = common.spoolMaxBytes;
      const spooled = spoolBytes !== 0 && options.stateDirReady;
      const pipeline = createExportPipeline({
        flushIntervalMs: common.flushIntervalMs,
        ...(common.retryMaxDelayMs ? { retry: { maxDelayMs: common.retryMaxDelayMs } } : {}),
        ...(spoolBytes ? { maxSpoolBytes: spoolBytes } : {}),
        ...pipelineOptions,
        name,
        ...(spooled ? { spoolDir: path.join(options.stateDir, "spool", name) } : {}),
        logger: options.logger,
      });
      pipelines.push(pipeline as ExportPipeline<unknown>);
      options.health.attachPipeline(() => pipeline.stats());
      pipeline.start();
      return pipeline;
    },
    schedule: (name, scheduleOptions, job) => scheduler.schedule(name, scheduleOptions, job),
    clock,
    own(resource, name) {
      const close: (() => unknown) | undefined =
        typeof resource === "function"
          ? resource
          : typeof (resource as { close?: unknown })?.close === "function"
            ? () => (resource as { close: () => unknown }).close()
            : undefined;
      if (!close) throw new Error("own: the resource needs a close() method (or pass a close function)");
      owned.push({ name: name ?? `resource ${owned.length + 1}`, close });
      return resource;
    },
    registerHttpRoute: (routePath, handler) => surfaces.bindRoute(routePath, handler),
    registerTool: (name, execute) => surfaces.bindTool(name, execute),
    gateway: resolveGatewayIdentity(
      (options.config as { gatewayName?: unknown }).gatewayName,
      options.hostStateDir ?? path.dirname(path.dirname(options.stateDir)),
      options.env ?? process.env,
    ),
  };
  const closeOwned = async (timeoutMs: number) => {
    for (const resource of owned.splice(0).reverse()) {
      try {
        const finished = await finishWithin(resource.close, timeoutMs);
        if (!finished)
          options.logger.warn(`${resource.name} did not close within ${timeoutMs} ms; carrying on`);
      } catch (error) {
        options.logger.error(`${resource.name} could not be closed: ${describeError(error)}`);
      }
    }
  };
  return { context, pipelines, scheduler, surfaces, closeOwned };
}

/** The gateway's name (configured, env, host name) and its id (name plus a hash of the host state dir). */
export function resolveGatewayIdentity(
  configured: unknown,
  hostStateDir: string,
  env: Record<string, string | undefined>,
): GatewayIdentity {
  let name = typeof configured === "string" && configured.trim() !== "" ? configured.trim() : undefined;
  name ??= env.CLAWSCOPE_GATEWAY_NAME?.trim() || undefined;
  if (name === undefined) {
    try {
      name = hostname() || "openclaw-gateway";
    } catch {
      name = "openclaw-gateway";
    }
  }
  const hash = createHash("sha256")
    .update(path.resolve(hostStateDir || "."))
    .digest("hex")
    .slice(0, 12);
  // characters every backend takes unescaped (MLflow's search grammar inside quotes, Mongo keys, URLs)
  return { name, id: `${name.replace(/[^\w.\- :]/g, "_").slice(0, 200)}@${hash}` };
}

/**
 * The key for id hashing: from config (or its env var), else the deployment's shared key file.
 * Throws one actionable line when that file cannot be read or created.
 */
export async function resolveHashKey(common: CommonPackConfig, hostStateDir: string): Promise<string> {
  if (common.rawIds === true) return "";
  if (common.hashKey) return common.hashKey;
  try {
    return await loadOrCreateHashKey(hostStateDir);
  } catch (error) {
    throw new Error(
      `could not load the id hash key (${describeError(error)}); set hashKey (or env CLAWSCOPE_HASH_KEY), or rawIds: true`,
    );
  }
}

/** Calls the extension's stop, bounded; a throw or a hang is logged once and recorded, never rethrown. */
export async function stopService(
  service: PackService,
  logger: PackLogger,
  health: HealthRecorder,
  timeoutMs: number,
): Promise<void> {
  try {
    const finished = await finishWithin(() => service.stop?.(), timeoutMs);
    if (!finished) logger.warn(`stop did not finish within ${timeoutMs} ms; carrying on`);
  } catch (error) {
    const message = `stop failed: ${describeError(error)}`;
    logger.error(message);
    health.recordError(message);
  }
}

/** Stops pipelines side by side: each spools what it could not deliver within `timeoutMs`. */
export async function stopPipelines(
  pipelines: readonly ExportPipeline<unknown>[],
  timeoutMs: number,
): Promise<void> {
  await Promise.allSettled(pipelines.map((pipeline) => pipeline.stop({ timeoutMs })));
}
