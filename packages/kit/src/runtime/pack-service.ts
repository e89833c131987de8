/** What an extension's `start` receives and returns: the contract between the kit and an extension. */

import type { OperationalEvent } from "../events/operational-event.js";
import type { ExportPipeline, ExportPipelineOptions } from "../export/export-pipeline.js";
import type { HealthRecorder } from "../health/health.js";
import type { SessionRollup, Turn } from "../turns/turn.js";
import type { PackLogger } from "./logger.js";
import type { ScheduledJob, ScheduleOptions, SchedulerClock } from "./scheduler.js";
import type { PackHttpHandler, PackToolExecute } from "./surfaces.js";

/** What an extension's `start` receives. */
export interface PackStartContext<Config> {
  pluginId: string;
  config: Config;
  /**
   * The extension's own state folder, `<stateDir>/plugins/<id>/`, created before start. When it
   * cannot be created the extension still starts (a warning says so), with memory-only pipelines.
   */
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
  /**
   * Runs `job` on wall-clock boundaries (see the kit's scheduler): never overlapping itself, once
   * after a sleep or a clock jump, counted in health, stopped before the pipelines at stop.
   * Throws on a bad schedule.
   */
  schedule: (name: string, options: ScheduleOptions, job: ScheduledJob) => void;
  /** The clock the scheduler runs on; read time from it so tests can move it. */
  clock: SchedulerClock;
  /**
   * Hands a resource (a database) to the kit: closed after the final flush of the pipelines, in
   * reverse order of `own`, within a bound; returns it.
   */
  own: <R extends OwnedResource>(resource: R, name?: string) => R;
  /** Binds the handler of a route the spec declares (`routes`); throws for an undeclared path. */
  registerHttpRoute: (path: string, handler: PackHttpHandler) => void;
  /** Binds the implementation of a tool the spec declares (`tools`); throws for an undeclared name. */
  registerTool: (name: string, execute: PackToolExecute) => void;
  /**
   * This gateway in a fleet: `name` (the extension's `gatewayName` setting, else env
   * `CLAWSCOPE_GATEWAY_NAME`, else the host name) and `id`, the name plus a hash of the host's state
   * dir — stable across restarts, equal for every extension of one gateway, distinct between two
   * gateways that share a name. Every fleet record carries it.
   */
  gateway: GatewayIdentity;
}

/** A resource the kit closes at stop: an object with `close()`, or a close function. */
export type OwnedResource = { close: () => unknown } | (() => unknown);

/** A gateway's identity in a fleet. */
export interface GatewayIdentity {
  name: string;
  id: string;
}

/** What an extension's `start` returns. */
export interface PackService {
  onTurn?: (turn: Turn, session: SessionRollup | undefined) => void;
  /**
   * An operational event of a type the extension's spec lists, read once by the kit and frozen
   * (malformed ones are counted in health and never reach here).
   */
  onEvent?: (event: OperationalEvent) => void;
  /** Bounded: flush what can be flushed; pipelines made with `createPipeline` are stopped after. */
  stop?: () => Promise<void>;
  status?: () => Record<string, unknown>;
}

/** The shared fields of `packConfigFields`, as the runtime reads them from any extension's config. */
export interface CommonPackConfig {
  captureContent?: boolean;
  rawIds?: boolean;
  hashKey?: string;
  turnTimeoutMs?: number;
  settleMs?: number;
  retryWaitMs?: number;
  maxContentChars?: number;
  flushIntervalMs?: number;
  spoolMaxBytes?: number;
  retryMaxDelayMs?: number;
  pricing?: Record<string, { input?: number; output?: number; cacheRead?: number; cacheWrite?: number }>;
}
