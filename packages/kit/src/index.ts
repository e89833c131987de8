/**
 * The public surface of @clawscope/kit. Explicit names only: what is not listed here is internal.
 */

// config: one definition yields runtime validation, the manifest schema and uiHints
export {
  type ConfigDefinition,
  type ConfigOf,
  type FieldMap,
  type FieldSpec,
  type InferConfig,
  defineConfig,
  field,
  parseKeyValueList,
} from "./config/define-config.js";
export { type JsonSchema, type UiHint, toManifestConfigSchema, toUiHints } from "./config/json-schema.js";
export { type PackConfig, packConfigFields } from "./config/pack-config.js";
export { ConfigError, type ResolvedConfig, redactConfigForDisplay, resolveConfig } from "./config/resolve-config.js";
// host events and hooks
export {
  type HostDiagnosticEvent,
  type HostEventMetadata,
  type HostEventOf,
  type HostEventType,
  type HostHookContext,
  type HostTraceContext,
  type HostUsage,
  OPERATIONAL_EVENT_TYPES,
  PACK_HOOKS,
  type PackHookName,
  TURN_EVENT_TYPES,
} from "./events/host-events.js";
export { type ReadHostEventResult, readHostEvent } from "./events/read-event.js";
// export pipeline
export { type ExportPipeline, type ExportPipelineOptions, createExportPipeline } from "./export/export-pipeline.js";
export { classifyHttpResponse, parseRetryAfter } from "./export/http-result.js";
export type { ExportItem, PipelineStats, SendBatch, SendResult } from "./export/types.js";
// health
export { type HealthRecorder, type HealthSnapshot, createHealthRecorder, formatHealthLine } from "./health/health.js";
// privacy
export { toCapturedContent } from "./privacy/captured-content.js";
export { type IdHasher, createIdHasher } from "./privacy/hash-ids.js";
export { loadOrCreateHashKey } from "./privacy/hash-key.js";
export { type RedactOptions, redactText } from "./privacy/redact.js";
export { redactValue } from "./privacy/redact-value.js";
export { truncate } from "./privacy/truncate.js";
// runtime: the plugin factory every extension uses
export { type EventHubStats, type SubscribeToBus, attachToEventHub, readEventHubStats } from "./runtime/event-hub.js";
export type { HostPluginApi, HostServiceContext } from "./runtime/host-api.js";
export { type KitLogger, type PackLogger, createPackLogger } from "./runtime/logger.js";
export {
  type PackHostBindings,
  type PackPluginDefinition,
  type PackPluginSpec,
  createPackPlugin,
  readConversationAccess,
  readPluginConfig,
} from "./runtime/pack-plugin.js";
export type { PackService, PackStartContext } from "./runtime/pack-runtime.js";
export { listRuntimes, readRuntime } from "./runtime/runtime-registry.js";
export { readHealthFiles } from "./runtime/status-file.js";
// turns
export { type PriceTable, resolveCost } from "./turns/cost.js";
export { createSessionRollups } from "./turns/session-rollups.js";
export { type TurnAssembler, type TurnAssemblerOptions, createTurnAssembler } from "./turns/turn-assembler.js";
export type {
  Cost,
  CostSource,
  ModelCall,
  SessionRollup,
  ToolCall,
  Turn,
  TurnIncomplete,
  TurnOutcome,
  Usage,
} from "./turns/turn.js";
