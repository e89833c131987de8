/**
 * One running clawscope extension: resolved config, the shared bus subscription, a turn assembler,
 * session roll-ups, export pipelines, health, and an orderly stop. Created at each service start.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { ConfigDefinition, ConfigOf } from "../config/define-config.js";
import { ConfigError, resolveConfig } from "../config/resolve-config.js";
import { TURN_EVENT_TYPES } from "../events/host-events.js";
import {
  createExportPipeline,
  type ExportPipeline,
  type ExportPipelineOptions,
} from "../export/export-pipeline.js";
import { createHealthRecorder, type HealthRecorder } from "../health/health.js";
import { toCapturedContent } from "../privacy/captured-content.js";
import { createIdHasher } from "../privacy/hash-ids.js";
import { loadOrCreateHashKey } from "../privacy/hash-key.js";
import { createSessionRollups } from "../turns/session-rollups.js";
import type { SessionRollup, Turn } from "../turns/turn.js";
import { createTurnAssembler } from "../turns/turn-assembler.js";
import { attachToEventHub, type SubscribeToBus } from "./event-hub.js";
import type { HostServiceContext } from "./host-api.js";
import { createPackLogger, type PackLogger } from "./logger.js";
import type { PackPluginSpec } from "./pack-plugin.js";
import { type LiveRuntime, publishRuntime, readRuntime, unpublishRuntime } from "./runtime-registry.js";
import { writeHealthFile } from "./status-file.js";

/** What an extension's `start` receives. */
export interface PackStartContext<Config> {
  pluginId: string;
  config: Config;
  /** The extension's own state folder, `<stateDir>/plugins/<id>/`, created before start. */
  stateDir: string;
  logger: PackLogger;
  health: HealthRecorder;
  /** Keyed hash of session and user ids (raw passthrough when the operator opted in). */
  hashId: (id: string | undefined) => string | undefined;
  /** True when the operator turned content capture on; content then arrives redacted and bounded. */
  captureContent: boolean;
  /** Whether `llm_output`/`agent_end` are allowed for this plugin. */
  conversationAccess: boolean;
  /** The whole OpenClaw config (read-only), for agent and channel names. */
  hostConfig: unknown;
  /** An export pipeline spooled under this extension's state dir, stopped with the extension. */
  createPipeline: <T>(
    name: string,
    options: Omit<ExportPipelineOptions<T>, "name" | "spoolDir" | "logger">,
  ) => ExportPipeline<T>;
}

/** What an extension's `start` returns. */
export interface PackService {
  onTurn?: (turn: Turn, session: SessionRollup | undefined) => void;
  onEvent?: (event: unknown, metadata: unknown) => void;
  /** Bounded: flush what can be flushed; pipelines made with `createPipeline` are stopped after. */
  stop?: () => Promise<void>;
  status?: () => Record<string, unknown>;
}

interface StartOptions<Definition extends ConfigDefinition> {
  spec: PackPluginSpec<Definition>;
  subscribe: SubscribeToBus;
  serviceContext: HostServiceContext;
  rawConfig: unknown;
  conversationAccess: boolean;
  /** Test seam: the environment for env-var fallbacks. */
  env?: Record<string, string | undefined>;
}

const TICK_MS = 1000;
const HEALTH_FILE_MS = 10_000;
const STOP_TIMEOUT_MS = 5000;

/** Starts an extension. Never throws for bad config: logs one line and stays disabled. */
export async function startPackRuntime<Definition extends ConfigDefinition>(
  options: StartOptions<Definition>,
): Promise<void> {
  const { spec, serviceContext } = options;
  const logger = createPackLogger(serviceContext.logger, spec.id);
  const health = createHealthRecorder(spec.id);
  const stateDir = path.join(serviceContext.stateDir, "plugins", spec.id);
  const previous = await stopPrevious(spec.id);
  if (previous) logger.warn("a previous instance was still running; it was stopped first");

  let config: ConfigOf<Definition>;
  try {
    const resolved = resolveConfig(spec.config, options.rawConfig, options.env ?? process.env);
    config = resolved.config as ConfigOf<Definition>;
    for (const warning of resolved.warnings) {
      logger.warn(warning);
      health.addWarning(warning);
    }
  } catch (error) {
    const message =
      error instanceof ConfigError ? error.message : `config could not be read: ${String(error)}`;
    logger.error(`disabled: ${message}`);
    health.setState("disabled", message);
    health.recordError(message);
    serviceContext.serviceHealth?.reportFailure(new Error(message));
    await writeHealthFileQuietly(stateDir, health);
    return;
  }

  await mkdir(stateDir, { recursive: true });
  const common = config as unknown as CommonPackConfig;
  if (!options.conversationAccess) {
    const warning = `conversation hooks (llm_output, agent_end) are blocked: set plugins.entries.${spec.id}.hooks.allowConversationAccess to true so provider failures are recovered from the final message and content can be captured`;
    logger.warn(warning);
    health.addWarning(warning);
  }
  const hashKey = common.rawIds
    ? ""
    : (common.hashKey ?? (await loadOrCreateHashKey(serviceContext.stateDir)));
  const hasher = createIdHasher({ key: hashKey, raw: common.rawIds === true });
  const captureContent = common.captureContent === true;
  const maxContentChars = common.maxContentChars;

  const pipelines: ExportPipeline<unknown>[] = [];
  const context: PackStartContext<ConfigOf<Definition>> = {
    pluginId: spec.id,
    config,
    stateDir,
    logger,
    health,
    hashId: (id) => (id === undefined || id === "" ? undefined : hasher.hash(id)),
    captureContent,
    conversationAccess: options.conversationAccess,
    hostConfig: serviceContext.config,
    createPipeline(name, pipelineOptions) {
      // the pack-wide settings are defaults; an extension may pass its own per pipeline
      const spoolBytes = common.spoolMaxBytes;
      const pipeline = createExportPipeline({
        flushIntervalMs: common.flushIntervalMs,
        ...(spoolBytes ? { maxSpoolBytes: spoolBytes } : {}),
        ...pipelineOptions,
        name,
        ...(spoolBytes === 0 ? {} : { spoolDir: path.join(stateDir, "spool", name) }),
        logger,
      });
      pipelines.push(pipeline as ExportPipeline<unknown>);
      health.attachPipeline(() => pipeline.stats());
      pipeline.start();
      return pipeline;
    },
  };

  let service: PackService;
  try {
    service = await spec.start(context);
  } catch (error) {
    const message = `start failed: ${error instanceof Error ? error.message : String(error)}`;
    logger.error(`disabled: ${message}`);
    health.setState("disabled", message);
    health.recordError(message);
    serviceContext.serviceHealth?.reportFailure(error);
    await Promise.allSettled(pipelines.map((pipeline) => pipeline.stop({ timeoutMs: 1000 })));
    await writeHealthFileQuietly(stateDir, health);
    return;
  }

  const rollups = createSessionRollups({ maxSessions: 10_000 });
  const assembler = createTurnAssembler({
    settleMs: common.settleMs,
    turnTimeoutMs: common.turnTimeoutMs,
    pricing: common.pricing,
    captureContent: captureContent
      ? (value: unknown) => toCapturedContent(value, { maxChars: maxContentChars ?? 8000 })
      : undefined,
    onWarning: (message: string) => logger.limited("warn", "assembler", message),
    onTurn(turn: Turn) {
      health.countTurn(turn.incomplete !== undefined);
      const session = turn.sessionKey ? rollups.add(turn) : undefined;
      try {
        service.onTurn?.(turn, session);
      } catch (error) {
        health.recordError(`turn export failed: ${String(error)}`);
        logger.limited("error", "on-turn", `turn export failed: ${String(error)}`);
      }
    },
  });
  health.setOpenTurns(() => assembler.stats().open);

  const rawTypes = new Set(spec.eventTypes ?? []);
  const turnTypes = new Set<string>(TURN_EVENT_TYPES);
  const attachment = attachToEventHub(
    options.subscribe,
    {
      owner: spec.id,
      types: [...new Set([...TURN_EVENT_TYPES, ...rawTypes])],
      deliver(event, metadata) {
        health.countEvent("seen");
        const type = (event as { type?: unknown } | null)?.type;
        if (typeof type !== "string") {
          health.countEvent("malformed");
          logger.limited("warn", "malformed-event", `skipped a malformed diagnostic event (no type)`);
          return;
        }
        if (turnTypes.has(type)) assembler.handleEvent(event, metadata);
        if (rawTypes.has(type) && service.onEvent) {
          try {
            service.onEvent(event, metadata);
          } catch (error) {
            logger.limited("error", `on-event-${type}`, `could not handle ${type}: ${String(error)}`);
          }
        }
      },
    },
    (owner, error) =>
      logger.limited("error", `hub-${owner}`, `event listener of ${owner} failed: ${String(error)}`),
  );

  const tick = setInterval(() => {
    try {
      assembler.tick();
    } catch (error) {
      logger.limited("error", "tick", `turn reaper failed: ${String(error)}`);
    }
  }, TICK_MS);
  tick.unref();
  const healthTimer = setInterval(() => {
    void writeHealthFileQuietly(stateDir, health);
    reportServiceHealth(serviceContext, health);
  }, HEALTH_FILE_MS);
  healthTimer.unref();

  let stopping: Promise<void> | undefined;
  const runtime: LiveRuntime = {
    pluginId: spec.id,
    stateDir,
    handleHook(name, event, hookContext) {
      assembler.handleHook(name, event, hookContext);
    },
    health: () => ({
      ...health.snapshot(),
      details: { ...health.snapshot().details, ...safeStatus(service) },
    }),
    stop() {
      stopping ??= (async () => {
        clearInterval(tick);
        clearInterval(healthTimer);
        attachment.detach();
        try {
          assembler.closeAll("shutdown");
        } catch {}
        await withTimeout(Promise.resolve(service.stop?.()), STOP_TIMEOUT_MS).catch((error: unknown) =>
          logger.error(`stop failed: ${String(error)}`),
        );
        await Promise.allSettled(pipelines.map((pipeline) => pipeline.stop({ timeoutMs: STOP_TIMEOUT_MS })));
        health.setState("stopped");
        unpublishRuntime(runtime);
        await writeHealthFileQuietly(stateDir, health);
      })();
      return stopping;
    },
  };
  publishRuntime(runtime);
  health.setState("running");
  serviceContext.serviceHealth?.clearFailure();
  await writeHealthFileQuietly(stateDir, health);
  logger.info(`started (state in ${stateDir})`);
}

interface CommonPackConfig {
  captureContent?: boolean;
  rawIds?: boolean;
  hashKey?: string;
  turnTimeoutMs?: number;
  settleMs?: number;
  maxContentChars?: number;
  flushIntervalMs?: number;
  spoolMaxBytes?: number;
  pricing?: Record<string, { input?: number; output?: number; cacheRead?: number; cacheWrite?: number }>;
}

async function stopPrevious(pluginId: string): Promise<boolean> {
  const previous = readRuntime(pluginId);
  if (!previous) return false;
  await previous.stop().catch(() => undefined);
  return true;
}

function safeStatus(service: PackService): Record<string, unknown> {
  try {
    return service.status?.() ?? {};
  } catch {
    return {};
  }
}

function reportServiceHealth(context: HostServiceContext, health: HealthRecorder): void {
  try {
    const snapshot = health.snapshot();
    const recentError = snapshot.lastError && Date.now() - snapshot.lastError.at < 2 * HEALTH_FILE_MS;
    if (snapshot.export.authPaused || recentError) {
      context.serviceHealth?.reportFailure(
        new Error(snapshot.lastError?.message ?? "backend rejected credentials"),
      );
    } else {
      context.serviceHealth?.clearFailure();
    }
  } catch {}
}

async function writeHealthFileQuietly(stateDir: string, health: HealthRecorder): Promise<void> {
  try {
    await writeHealthFile(stateDir, health.snapshot());
  } catch {
    // status files are a convenience; a full disk must not stop the extension
  }
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(undefined), timeoutMs);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
