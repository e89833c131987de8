/**
 * A started extension: the turn assembler fed by the shared bus subscription and the hooks, session
 * roll-ups, the reaper and health timers, and an orderly stop (open turns handed over as
 * `shutdown`, then the extension's stop, then its pipelines, which spool what is pending).
 */

import { TURN_EVENT_TYPES } from "../events/host-events.js";
import { readField } from "../events/read-event.js";
import type { ExportPipeline } from "../export/export-pipeline.js";
import type { HealthRecorder } from "../health/health.js";
import { toCapturedContent } from "../privacy/captured-content.js";
import { createSessionRollups } from "../turns/session-rollups.js";
import type { SessionRollup, Turn } from "../turns/turn.js";
import { createTurnAssembler } from "../turns/turn-assembler.js";
import { describeError } from "./describe-error.js";
import { attachToEventHub, type SubscribeToBus } from "./event-hub.js";
import type { HostServiceContext } from "./host-api.js";
import { createInputQueue, type RuntimeInput } from "./input-queue.js";
import type { PackLogger } from "./logger.js";
import type { CommonPackConfig, PackService } from "./pack-service.js";
import { type LiveRuntime, unpublishRuntime } from "./runtime-registry.js";
import { stopPipelines, stopService } from "./start-context.js";
import { writeHealthFileQuietly } from "./status-file.js";

/** Inputs of {@link createRunningRuntime}. */
export interface RunningRuntimeOptions {
  pluginId: string;
  stateDir: string;
  service: PackService;
  /** Raw event types the extension wants besides assembled turns. */
  eventTypes: readonly string[];
  subscribe: SubscribeToBus;
  common: CommonPackConfig;
  logger: PackLogger;
  health: HealthRecorder;
  serviceContext: HostServiceContext;
  pipelines: readonly ExportPipeline<unknown>[];
}

const TICK_MS = 1000;
const HEALTH_FILE_MS = 10_000;
/** Bound of the extension's own stop, and separately of its pipelines' final delivery. */
export const STOP_TIMEOUT_MS = 5000;

/** Attaches to the bus and starts the timers. Throws only when the bus subscription itself fails. */
export function createRunningRuntime(options: RunningRuntimeOptions): LiveRuntime {
  const { pluginId, stateDir, service, logger, health, common } = options;
  const rollups = createSessionRollups({ maxSessions: 10_000 });
  const assembler = createTurnAssembler({
    settleMs: common.settleMs,
    retryWaitMs: common.retryWaitMs,
    // the host's error text can quote the user's input: it leaves only with content capture on
    keepErrorText: common.captureContent === true,
    turnTimeoutMs: common.turnTimeoutMs,
    pricing: common.pricing,
    captureContent:
      common.captureContent === true
        ? (value: unknown) => toCapturedContent(value, { maxChars: common.maxContentChars ?? 8000 })
        : undefined,
    onWarning: (message: string) => logger.limited("warn", "assembler", message),
    onTurn(turn: Turn) {
      // an amendment re-exports a turn already counted
      if (turn.revision <= 1) health.countTurn(turn.incomplete !== undefined);
      let session: SessionRollup | undefined;
      try {
        session = turn.sessionKey ? rollups.add(turn) : undefined;
      } catch {}
      try {
        service.onTurn?.(turn, session);
      } catch (error) {
        const message = `turn export failed: ${describeError(error)}`;
        health.recordError(message);
        logger.limited("error", "on-turn", message);
      }
    },
  });
  health.attachTurnCounts(() => assembler.stats());
  health.attachInputCounts(() => assembler.stats());

  const rawTypes = new Set(options.eventTypes);
  const turnTypes = new Set<string>(TURN_EVENT_TYPES);
  const handleEvent = (event: unknown, metadata: unknown): void => {
    health.countEvent("seen");
    const type = readField(event, "type");
    if (typeof type !== "string") {
      health.countEvent("malformed");
      logger.limited("warn", "malformed-event", "skipped a malformed diagnostic event (no type)");
      return;
    }
    if (turnTypes.has(type)) assembler.handleEvent(event, metadata);
    if (rawTypes.has(type) && service.onEvent) {
      try {
        service.onEvent(event, metadata);
      } catch (error) {
        const message = `could not handle ${type}: ${describeError(error)}`;
        health.recordError(message);
        logger.limited("error", `on-event-${type}`, message);
      }
    }
  };
  // the host's emit and hook dispatch only append here; assembling, closing and exporting turns run
  // on a later turn of the event loop
  const input = createInputQueue({
    process(item: RuntimeInput) {
      if (item.kind === "event") handleEvent(item.event, item.metadata);
      else assembler.handleHook(item.name, item.event, item.context);
    },
    onOverflow: () =>
      logger.limited(
        "warn",
        "input-overflow",
        "input queue full: dropping diagnostic events until it drains (counted in health events.overflowed)",
      ),
    onError: (error) => logger.limited("error", "input", `could not handle input: ${describeError(error)}`),
  });
  health.attachInputCounts(() => ({ overflowed: input.stats().overflowed }));
  const attachment = attachToEventHub(
    options.subscribe,
    {
      owner: pluginId,
      types: [...new Set([...TURN_EVENT_TYPES, ...rawTypes])],
      deliver(event, metadata) {
        input.push({ kind: "event", event, metadata });
      },
    },
    (owner, error) =>
      logger.limited("error", `hub-${owner}`, `event listener of ${owner} failed: ${describeError(error)}`),
  );

  const tick = setInterval(() => {
    try {
      input.drain();
      assembler.tick();
    } catch (error) {
      logger.limited("error", "tick", `turn reaper failed: ${describeError(error)}`);
    }
  }, TICK_MS);
  tick.unref();
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
    handleHook(name, event, hookContext) {
      input.push({ kind: "hook", name, event, context: hookContext });
    },
    health() {
      const snapshot = health.snapshot();
      return { ...snapshot, details: { ...snapshot.details, ...safeStatus(service) } };
    },
    async redeliver() {
      const results = await Promise.all(options.pipelines.map((pipeline) => pipeline.redeliverDeadLetters()));
      return results.reduce(
        (sum, result) => ({ files: sum.files + result.files, items: sum.items + result.items }),
        { files: 0, items: 0 },
      );
    },
    stop() {
      stopping ??= (async () => {
        clearInterval(tick);
        clearInterval(healthTimer);
        try {
          attachment.detach();
        } catch {}
        try {
          // before the extension's stop, so it can still export them
          input.drain();
          assembler.closeAll("shutdown");
        } catch {}
        await stopService(service, logger, health, STOP_TIMEOUT_MS);
        await stopPipelines(options.pipelines, STOP_TIMEOUT_MS);
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
