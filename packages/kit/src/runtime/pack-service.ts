/** What an extension's `start` receives and returns: the contract between the kit and an extension. */

import type { OperationalEvent } from "../events/operational-event.js";
import type { ExportPipeline, ExportPipelineOptions } from "../export/export-pipeline.js";
import type { HealthRecorder } from "../health/health.js";
import type { SessionRollup, Turn } from "../turns/turn.js";
import type { PackLogger } from "./logger.js";

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
