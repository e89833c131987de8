/**
 * A started extension: a member of the process's shared turn assembly (`turn-hub.ts`, fed by the
 * shared bus subscription and the hooks), the health timer, and an orderly stop (open turns handed
 * over as `shutdown`, then the extension's stop, then its pipelines, which spool what is pending).
 */

import type { OperationalEventType } from "../events/operational-event.js";
import type { HealthRecorder } from "../health/health.js";
import { describeError } from "./describe-error.js";
import type { SubscribeToBus } from "./event-hub.js";
import type { HostServiceContext } from "./host-api.js";
import type { PackLogger } from "./logger.js";
import type { CommonPackConfig, PackService } from "./pack-service.js";
import { type LiveRuntime, unpublishRuntime } from "./runtime-registry.js";
import { type StartContextParts, stopPipelines, stopService } from "./start-context.js";
import { writeHealthFileQuietly } from "./status-file.js";
import { joinTurnHub } from "./turn-hub.js";

/** Inputs of {@link createRunningRuntime}. */
export interface RunningRuntimeOptions {
  pluginId: string;
  stateDir: string;
  service: PackService;
  /** Operational event types the extension wants besides assembled turns. */
  eventTypes: readonly OperationalEventType[];
  subscribe: SubscribeToBus;
  common: CommonPackConfig;
  /** Whether the host gives this plugin conversation hooks: members of one assembly must agree. */
  conversationAccess: boolean;
  logger: PackLogger;
  health: HealthRecorder;
  serviceContext: HostServiceContext;
  /** What the start context made: the runtime stops the scheduler, pipelines and owned resources. */
  parts: Pick<StartContextParts<unknown>, "pipelines" | "scheduler" | "surfaces" | "closeOwned">;
}

const HEALTH_FILE_MS = 10_000;
/** Bound of the extension's own stop, and separately of its pipelines' final delivery. */
export const STOP_TIMEOUT_MS = 5000;

/** Attaches to the bus and starts the timers. Throws only when the bus subscription itself fails. */
export function createRunningRuntime(options: RunningRuntimeOptions): LiveRuntime {
  const { pluginId, stateDir, service, logger, health, common, parts } = options;
  // one assembly per process for every extension that assembles alike: the same frozen turns
  const membership = joinTurnHub(
    options.subscribe,
    {
      settleMs: common.settleMs,
      retryWaitMs: common.retryWaitMs,
      turnTimeoutMs: common.turnTimeoutMs,
      pricing: common.pricing,
      captureContent: common.captureContent === true,
      maxContentChars: common.maxContentChars,
      conversationAccess: options.conversationAccess,
    },
    {
      owner: pluginId,
      eventTypes: options.eventTypes,
      onEvent: service.onEvent ? (event) => service.onEvent?.(event) : undefined,
      onTurn(turn, session) {
        // an amendment re-exports a turn already counted
        if (turn.revision <= 1) health.countTurn(turn.incomplete !== undefined);
        try {
          service.onTurn?.(turn, session);
        } catch (error) {
          const message = `turn export failed: ${describeError(error)}`;
          health.recordError(message);
          logger.limited("error", "on-turn", message);
        }
      },
      onInput: (kind) => health.countEvent(kind),
      onProblem(key, message) {
        if (key.startsWith("on-event-")) health.recordError(message);
        const level =
          key === "assembler" || key === "malformed-event" || key === "input-overflow" ? "warn" : "error";
        logger.limited(level, key, message);
      },
    },
  );
  health.attachTurnCounts(() => membership.assemblerStats());
  health.attachInputCounts(() => membership.assemblerStats());
  health.attachInputCounts(() => ({ overflowed: membership.inputStats().overflowed }));

  // writes in order, so the final "stopped" snapshot cannot be overtaken by a periodic one in flight
  let writing: Promise<unknown> = Promise.resolve();
  const writeHealth = () => {
    writing = writing.then(() => writeHealthFileQuietly(stateDir, runtime.health()));
    return writing;
  };
  const healthTimer = setInterval(() => {
    void writeHealth();
    reportServiceHealth(options.serviceContext, health);
  }, HEALTH_FILE_MS);
  healthTimer.unref();

  let stopping: Promise<void> | undefined;
  const runtime: LiveRuntime = {
    pluginId,
    stateDir,
    surfaces: parts.surfaces,
    recordError: (message) => health.recordError(message),
    handleHook(name, event, hookContext) {
      membership.handleHook(name, event, hookContext);
    },
    health() {
      const snapshot = health.snapshot();
      return { ...snapshot, details: { ...snapshot.details, ...safeStatus(service) } };
    },
    async redeliver() {
      const results = await Promise.all(parts.pipelines.map((pipeline) => pipeline.redeliverDeadLetters()));
      return results.reduce(
        (sum, result) => ({ files: sum.files + result.files, items: sum.items + result.items }),
        { files: 0, items: 0 },
      );
    },
    stop() {
      stopping ??= (async () => {
        clearInterval(healthTimer);
        // no job starts once stopping began; a running one is aborted and awaited (bounded)
        await parts.scheduler.stop(STOP_TIMEOUT_MS);
        try {
          // before the extension's stop, so it can still export them: its open turns, as shutdown
          membership.leave();
        } catch {}
        await stopService(service, logger, health, STOP_TIMEOUT_MS);
        await stopPipelines(parts.pipelines, STOP_TIMEOUT_MS);
        // after the final flush: a pipeline's last batch may still be writing to an owned store
        await parts.closeOwned(STOP_TIMEOUT_MS);
        health.setState("stopped");
        unpublishRuntime(runtime);
        await writeHealth();
      })();
      return stopping;
    },
  };
  return runtime;
}

function safeStatus(service: PackService): Record<string, unknown> {
  try {
    const status: unknown = service.status?.();
    return typeof status === "object" && status !== null && !Array.isArray(status)
      ? (status as Record<string, unknown>)
      : {};
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
