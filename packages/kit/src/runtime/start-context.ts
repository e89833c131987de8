/**
 * What an extension's `start` is handed: resolved config, id hashing, content-capture switch and a
 * factory of export pipelines that the runtime owns (and stops, spooling what is pending).
 */
import path from "node:path";
import { createExportPipeline, type ExportPipeline } from "../export/export-pipeline.js";
import type { HealthRecorder } from "../health/health.js";
import { createIdHasher } from "../privacy/hash-ids.js";
import { loadOrCreateHashKey } from "../privacy/hash-key.js";
import { describeError } from "./describe-error.js";
import type { PackLogger } from "./logger.js";
import type { CommonPackConfig, PackService, PackStartContext } from "./pack-service.js";
import { withTimeout } from "./runtime-lifecycle.js";

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
}

/** The context, and the pipelines created through it (the runtime stops them). */
export interface StartContextParts<Config> {
  context: PackStartContext<Config>;
  pipelines: ExportPipeline<unknown>[];
}

/** Builds the context of one start. */
export function createStartContext<Config>(options: StartContextOptions<Config>): StartContextParts<Config> {
  const common = options.config as unknown as CommonPackConfig;
  const hasher = createIdHasher({ key: options.hashKey, raw: common.rawIds === true });
  const pipelines: ExportPipeline<unknown>[] = [];
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
  };
  return { context, pipelines };
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
  let finished = false;
  try {
    await withTimeout(
      Promise.resolve()
        .then(() => service.stop?.())
        .then(() => {
          finished = true;
        }),
      timeoutMs,
    );
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
