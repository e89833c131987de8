/**
 * One start of a clawscope extension: resolve config, prepare the state dir and id hashing, call the
 * extension's `start`, attach to the shared bus, publish. Every failure ends in one actionable log
 * line and a published `disabled` state (visible to the status method and CLI), never in a throw.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { ConfigDefinition, ConfigOf } from "../config/define-config.js";
import { ConfigError, resolveConfig } from "../config/resolve-config.js";
import { createHealthRecorder, type HealthRecorder } from "../health/health.js";
import { describeError } from "./describe-error.js";
import type { SubscribeToBus } from "./event-hub.js";
import type { HostServiceContext } from "./host-api.js";
import { createPackLogger, type KitLogger, type PackLogger } from "./logger.js";
import type { PackPluginSpec } from "./pack-plugin.js";
import type { CommonPackConfig, PackService } from "./pack-service.js";
import { createRunningRuntime, STOP_TIMEOUT_MS } from "./running-runtime.js";
import { type LiveRuntime, publishRuntime, readRuntime, unpublishRuntime } from "./runtime-registry.js";
import type { SchedulerClock } from "./scheduler.js";
import { createStartContext, resolveHashKey, stopPipelines, stopService } from "./start-context.js";
import { writeHealthFileQuietly } from "./status-file.js";

export type { PackService, PackStartContext } from "./pack-service.js";

/** Inputs of {@link startPackRuntime}. */
export interface StartOptions<Definition extends ConfigDefinition> {
  spec: PackPluginSpec<Definition>;
  subscribe: SubscribeToBus;
  serviceContext: HostServiceContext;
  rawConfig: unknown;
  conversationAccess: boolean;
  /** Test seam: the environment for env-var fallbacks. */
  env?: Record<string, string | undefined>;
  /** False once a newer start or stop of this plugin began (see `runLifecycleStep`): then give up. */
  isCurrent?: () => boolean;
  /** Test seam: the clock of the extension's scheduled jobs. */
  clock?: SchedulerClock;
}

/** Starts an extension. Never throws: a problem logs one line and leaves the extension disabled. */
export async function startPackRuntime<Definition extends ConfigDefinition>(
  options: StartOptions<Definition>,
): Promise<void> {
  const { spec } = options;
  const serviceContext: Partial<HostServiceContext> = options.serviceContext ?? {};
  const logger = createPackLogger(serviceContext.logger as KitLogger, spec.id);
  const health = createHealthRecorder(spec.id);
  const isCurrent = options.isCurrent ?? (() => true);
  const hostStateDir = typeof serviceContext.stateDir === "string" ? serviceContext.stateDir : "";
  const stateDir = hostStateDir ? path.join(hostStateDir, "plugins", spec.id) : "";
  const disable = (message: string, error?: unknown) =>
    disableRuntime(
      { pluginId: spec.id, stateDir, logger, health, serviceContext, isCurrent },
      message,
      error,
    );

  await stopPrevious(spec.id, logger);
  if (!isCurrent()) return;
  if (!hostStateDir) return disable("the host gave the service no state dir");

  let config: ConfigOf<Definition>;
  try {
    const resolved = resolveConfig(spec.config, options.rawConfig, options.env ?? process.env);
    config = resolved.config as ConfigOf<Definition>;
    for (const warning of resolved.warnings) {
      logger.warn(warning);
      health.addWarning(warning);
    }
  } catch (error) {
    return disable(
      error instanceof ConfigError ? error.message : `config could not be read: ${describeError(error)}`,
    );
  }
  const common = config as unknown as CommonPackConfig;
  const stateDirReady = await prepareStateDir(stateDir, logger, health);
  if (!options.conversationAccess) {
    const warning = `conversation hooks (llm_output, agent_end) are blocked: set plugins.entries.${spec.id}.hooks.allowConversationAccess to true so provider failures are recovered from the final message and content can be captured`;
    logger.warn(warning);
    health.addWarning(warning);
  }
  let hashKey: string;
  try {
    hashKey = await resolveHashKey(common, hostStateDir);
  } catch (error) {
    return disable(describeError(error));
  }
  if (!isCurrent()) return;

  const parts = createStartContext({
    pluginId: spec.id,
    config,
    stateDir,
    stateDirReady,
    hashKey,
    logger,
    health,
    conversationAccess: options.conversationAccess,
    hostConfig: serviceContext.config,
    hostStateDir,
    declared: spec,
    ...(options.clock ? { clock: options.clock } : {}),
    env: options.env ?? process.env,
  });
  const { context, pipelines } = parts;
  let service: PackService;
  try {
    const started: unknown = await spec.start(context);
    service = typeof started === "object" && started !== null ? (started as PackService) : {};
  } catch (error) {
    await parts.scheduler.stop(1000);
    await stopPipelines(pipelines, 1000);
    await parts.closeOwned(1000);
    return disable(`start failed: ${describeError(error)}`, error);
  }
  const abandon = async () => {
    await parts.scheduler.stop(STOP_TIMEOUT_MS);
    await stopService(service, logger, health, STOP_TIMEOUT_MS);
    await stopPipelines(pipelines, STOP_TIMEOUT_MS);
    await parts.closeOwned(STOP_TIMEOUT_MS);
  };
  if (!isCurrent()) {
    // a stop (or a newer start) arrived while the extension was starting: undo, publish nothing
    logger.info("start superseded by a stop or a newer start; stopped again");
    return abandon();
  }

  let runtime: LiveRuntime;
  try {
    runtime = createRunningRuntime({
      pluginId: spec.id,
      stateDir,
      service,
      eventTypes: spec.eventTypes ?? [],
      subscribe: options.subscribe,
      common,
      conversationAccess: options.conversationAccess,
      logger,
      health,
      serviceContext: serviceContext as HostServiceContext,
      parts,
    });
  } catch (error) {
    await abandon();
    return disable(`could not subscribe to diagnostic events: ${describeError(error)}`, error);
  }
  publishRuntime(runtime);
  health.setState("running");
  try {
    serviceContext.serviceHealth?.clearFailure();
  } catch {}
  await writeHealthFileQuietly(stateDir, runtime.health());
  logger.info(`started (state in ${stateDir})`);
}

async function stopPrevious(pluginId: string, logger: PackLogger): Promise<void> {
  const previous = readRuntime(pluginId);
  if (!previous) return;
  if (previous.health().state === "running")
    logger.warn("a previous instance was still running; it was stopped first");
  await previous.stop().catch(() => undefined);
}

/** Creates the extension's state folder; a read-only disk costs the spool and status file, not the extension. */
async function prepareStateDir(
  stateDir: string,
  logger: PackLogger,
  health: HealthRecorder,
): Promise<boolean> {
  try {
    await mkdir(stateDir, { recursive: true });
    return true;
  } catch (error) {
    const warning = `state dir ${stateDir} is not writable (${describeError(error)}): no spool and no status file; pending records are kept in memory only`;
    logger.warn(warning);
    health.addWarning(warning);
    return false;
  }
}

interface DisableTarget {
  pluginId: string;
  stateDir: string;
  logger: PackLogger;
  health: HealthRecorder;
  serviceContext: Partial<HostServiceContext>;
  isCurrent: () => boolean;
}

/** One error line, the host's service health, and a published `disabled` state with the reason. */
async function disableRuntime(target: DisableTarget, message: string, error?: unknown): Promise<void> {
  const { logger, health } = target;
  logger.error(`disabled: ${message}`);
  health.setState("disabled", message);
  health.recordError(message);
  try {
    target.serviceContext.serviceHealth?.reportFailure(error instanceof Error ? error : new Error(message));
  } catch {}
  if (!target.isCurrent()) return;
  const runtime: LiveRuntime = {
    pluginId: target.pluginId,
    stateDir: target.stateDir,
    handleHook: () => undefined,
    health: () => health.snapshot(),
    async stop() {
      unpublishRuntime(runtime);
    },
  };
  publishRuntime(runtime);
  if (target.stateDir) await writeHealthFileQuietly(target.stateDir, health.snapshot());
}
