/** The public surface of @clawscope/testing: explicit names only. */

export {
  type AlertmanagerServer,
  ensureAlertmanagerInstalled,
  startAlertmanager,
} from "./alertmanager.js";
export {
  type CapturedDiagnosticRow,
  type CapturedHookRow,
  type CapturedInput,
  type CapturedScenario,
  interleaveCaptured,
  listCapturedScenarios,
  loadCapturedSamples,
  loadCapturedScenario,
  loadRecordedScenario,
  resolveRecordedDir,
} from "./captured.js";
export { type CapturedLogger, createCapturedLogger, type LogLine } from "./captured-logger.js";
export {
  type BuiltTurn,
  buildTurnEvents,
  delayInputs,
  dropInputs,
  type ModelCallSpec,
  mockModelCost,
  replayInputs,
  shuffleInputs,
  type ToolSpec,
  type TurnSpec,
} from "./event-builders.js";
export {
  createFakeHost,
  FAKE_GATEWAY_TOKEN,
  type FakeHost,
  type FakeHostOptions,
  type FakePluginEntry,
} from "./fake-host.js";
export { ensureFerretDbBuilt, type FerretDbServer, startFerretDb } from "./ferretdb.js";
export { findFreePort } from "./free-port.js";
export { type HookTarget, replayTurnSpec, waitForHostInputHandled } from "./host-settle.js";
export {
  createHttpReceiver,
  type HttpReceiver,
  type ReceivedRequest,
  type ReceiverAnswer,
  waitFor,
} from "./http-receiver.js";
export {
  LANGFUSE_OBSERVATION_LEVELS,
  LANGFUSE_OBSERVATION_TYPES,
  LANGFUSE_SPAN_ATTRIBUTES,
  type LangfuseObservationLevel,
  type LangfuseObservationType,
  type LangfuseSpanAttributeName,
} from "./langfuse-attributes.js";
export {
  checkLangfuseAuth,
  LANGFUSE_AUTH_MESSAGES,
  type LangfuseAuthFailure,
  type LangfuseAuthResult,
  type LangfuseCredentials,
  toLangfuseBasicAuth,
} from "./langfuse-auth.js";
export {
  type LangfuseObservation,
  type LangfuseTrace,
  type LangfuseTraceView,
  toLangfuseObservations,
} from "./langfuse-observations.js";
export {
  createOpenApiBodyValidator,
  type LangfuseBodyValidator,
  type LangfuseValidationIssue,
  type LangfuseValidationResult,
  openApiRequestBodySchema,
} from "./langfuse-openapi-schema.js";
export {
  checkLangfuseTraceExport,
  describeLangfuseExportRejection,
  isRejectedExport,
  type LangfuseExportCheck,
  type OtlpIdEncoding,
} from "./langfuse-otlp-rules.js";
export { createLangfuseReceiver } from "./langfuse-receiver.js";
export type {
  LangfuseEndpoint,
  LangfuseFaultOptions,
  LangfuseReceiver,
  LangfuseReceiverOptions,
  LangfuseRejectedExport,
  LangfuseRejectedScore,
  LangfuseRequestOutcome,
  LangfuseRequestRecord,
  LangfuseStoredScore,
} from "./langfuse-receiver-types.js";
export {
  LANGFUSE_REFERENCE_FILES,
  type LangfuseSdkExportRequest,
  loadLangfuseOpenApi,
  loadLangfuseSdkExport,
  resolveLangfuseReferenceDir,
} from "./langfuse-reference.js";
export {
  checkLangfuseScoreRules,
  createLangfuseScoreValidator,
  LANGFUSE_SCORES_PATH,
  type LangfuseScoreValidatorOptions,
} from "./langfuse-score-validator.js";
export {
  ensureMailpitBuilt,
  type MailpitMessage,
  type MailpitServer,
  type MailpitSummary,
  startMailpit,
} from "./mailpit.js";
export { createManualClock, type ManualClock } from "./manual-clock.js";
export {
  ensureMlflowInstalled,
  type MlflowBasicAuth,
  type MlflowServer,
  type StartMlflowServerOptions,
  startMlflowServer,
} from "./mlflow-server.js";
export { decodeOtlpRequest, type OtlpRequest, type OtlpSpan, otlpSignalFromPath } from "./otlp-decoder.js";
export {
  ensurePrometheusInstalled,
  type PrometheusServer,
  runPromtool,
  type ScrapeJob,
  startPrometheus,
} from "./prometheus.js";
export { runSetupScriptOnce } from "./setup-script.js";
export {
  checkSlackWebhookBody,
  createSlackWebhookReceiver,
  type SlackWebhookReceiver,
} from "./slack-webhook-receiver.js";
export {
  type AssembleCapturedOptions,
  assembleCapturedTurns,
  capturedErrorTurn,
  capturedToolTurn,
  makeModelCall,
  makeToolCall,
  makeTurn,
} from "./turn-fixtures.js";
