/** The public surface of @clawscope/testing: explicit names only. */
export {
  type CapturedInput,
  type CapturedScenario,
  interleaveCaptured,
  listCapturedScenarios,
  loadCapturedSamples,
  loadCapturedScenario,
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
export { createFakeHost, type FakeHost, type FakeHostOptions, type FakePluginEntry } from "./fake-host.js";
export { findFreePort } from "./free-port.js";
export { waitForHostInputHandled } from "./host-settle.js";
export {
  createHttpReceiver,
  type HttpReceiver,
  type ReceivedRequest,
  type ReceiverAnswer,
  waitFor,
} from "./http-receiver.js";
export { decodeOtlpRequest, type OtlpRequest, type OtlpSpan, otlpSignalFromPath } from "./otlp-decoder.js";
export { runSetupScriptOnce } from "./setup-script.js";
