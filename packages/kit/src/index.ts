/**
 * The public surface of @clawscope/kit. Explicit names only: what is not listed here is internal.
 */

export { toCanonicalJson } from "./config/canonical-json.js";
// config: one definition yields runtime validation, the manifest schema and uiHints
export {
  type ConfigDefinition,
  type ConfigOf,
  defineConfig,
  type FieldMap,
  type FieldSpec,
  field,
  type InferConfig,
  parseKeyValueList,
} from "./config/define-config.js";
export { type JsonSchema, toManifestConfigSchema, toUiHints, type UiHint } from "./config/json-schema.js";
export { type PackConfig, packConfigFields } from "./config/pack-config.js";
export {
  ConfigError,
  type ResolvedConfig,
  redactConfigForDisplay,
  resolveConfig,
} from "./config/resolve-config.js";
// host events and hooks
export {
  type HostDiagnosticEvent,
  type HostEventMetadata,
  type HostEventOf,
  type HostEventType,
  type HostHookContext,
  type HostTraceContext,
  type HostUsage,
  PACK_HOOKS,
  type PackHookName,
  TURN_EVENT_TYPES,
} from "./events/host-events.js";
export {
  isOperationalEventType,
  OPERATIONAL_EVENT_TYPES,
  type OperationalEvent,
  type OperationalEventBase,
  type OperationalEventOf,
  type OperationalEventType,
  readOperationalEvent,
} from "./events/operational-event.js";
export {
  MAX_FIELD_CHARS,
  type ReadHostEventResult,
  readCount,
  readField,
  readHostEvent,
  readId,
  readNumber,
  readPath,
  readString,
  readText,
} from "./events/read-event.js";
// export pipeline
export {
  createExportPipeline,
  type ExportPipeline,
  type ExportPipelineOptions,
} from "./export/export-pipeline.js";
export {
  classifyHttpResponse,
  parseRetryAfter,
  toExcerpt,
  toHttpSendResult,
  toNetworkSendResult,
} from "./export/http-result.js";
export { readBoundedBody } from "./export/read-body.js";
export type { ExportItem, PipelineStats, SendBatch, SendFailure, SendResult } from "./export/types.js";
export {
  createHealthRecorder,
  formatHealthLine,
  type HealthRecorder,
  type HealthSnapshot,
} from "./health/health.js";
// health
export {
  PACK_GAUGE_DEFINITIONS,
  PACK_GAUGES,
  type PackGaugeDefinition,
  type PackGaugeReading,
  publishPackGauges,
  readPackGauges,
  toPrometheusText,
} from "./health/pack-gauges.js";
// privacy
export { toCapturedContent } from "./privacy/captured-content.js";
export { MAX_ERROR_TEXT_CHARS, toErrorText } from "./privacy/error-text.js";
export { createIdHasher, type IdHasher } from "./privacy/hash-ids.js";
export { loadOrCreateHashKey } from "./privacy/hash-key.js";
export { MAX_LOG_TEXT_CHARS, toLogText } from "./privacy/log-text.js";
export { type RedactOptions, redactText } from "./privacy/redact.js";
export { redactValue } from "./privacy/redact-value.js";
export { truncate } from "./privacy/truncate.js";
export { hasUrlCredentials, maskUrlCredentials } from "./privacy/url-credentials.js";
export { describeError } from "./runtime/describe-error.js";
// runtime: the plugin factory every extension uses
export {
  attachToEventHub,
  type EventHubStats,
  readEventHubStats,
  type SubscribeToBus,
} from "./runtime/event-hub.js";
export { FINAL_FLUSH_BUDGET_MS, flushWithinBudget } from "./runtime/final-flush.js";
export type { HostPluginApi, HostServiceContext } from "./runtime/host-api.js";
export { createPackLogger, type KitLogger, type PackLogger } from "./runtime/logger.js";
export type { PackCommandContext, PackCommandSpec } from "./runtime/pack-commands.js";
export {
  createPackPlugin,
  type PackHostBindings,
  type PackPluginDefinition,
  type PackPluginSpec,
  readConversationAccess,
  readPluginConfig,
} from "./runtime/pack-plugin.js";
export type { PackService, PackStartContext } from "./runtime/pack-runtime.js";
export type { GatewayIdentity, OwnedResource } from "./runtime/pack-service.js";
export { listRuntimes, readRuntime } from "./runtime/runtime-registry.js";
export {
  createScheduler,
  type ScheduledJob,
  type ScheduledRun,
  type ScheduleEvery,
  type ScheduleOptions,
  type Scheduler,
  type SchedulerClock,
  type ScheduleStats,
  type SlotCalendar,
  systemClock,
  toSlots,
} from "./runtime/scheduler.js";
export { resolveGatewayIdentity } from "./runtime/start-context.js";
export { readHealthFiles } from "./runtime/status-file.js";
export type {
  PackHttpHandler,
  PackHttpRequest,
  PackHttpResponse,
  PackRouteSpec,
  PackToolExecute,
  PackToolSpec,
} from "./runtime/surfaces.js";
// turns
export { type TurnAmendment, toTurnAmendment } from "./turns/amendment.js";
export { type PriceTable, resolveCost } from "./turns/cost.js";
export {
  mayBeRetried,
  readErrorStatus,
  toCallFailureText,
  toFailureReason,
  toTurnFailureText,
} from "./turns/failure-reason.js";
export { createSessionRollups } from "./turns/session-rollups.js";
export type {
  Cost,
  CostSource,
  ModelCall,
  ModelFallback,
  SessionRollup,
  ToolCall,
  Turn,
  TurnError,
  TurnIncomplete,
  TurnOutcome,
  TurnRevisionFigures,
  Usage,
} from "./turns/turn.js";
export {
  createTurnAssembler,
  type TurnAssembler,
  type TurnAssemblerOptions,
} from "./turns/turn-assembler.js";
export {
  isFailedTurn,
  isSampledIn,
  type SamplingDecision,
  type SamplingReason,
  shouldKeepTurn,
  type TurnSampling,
} from "./turns/turn-sampling.js";
