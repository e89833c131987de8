/**
 * The `@clawscope/kit/otlp` subpath: OTLP records, their encoding with the official OpenTelemetry
 * serializers, and OTLP/HTTP delivery for the kit's pipelines. A subpath of its own so extensions
 * that do not speak OTLP never bundle the OpenTelemetry code. Explicit names only.
 */
export {
  createOtlpEncoder,
  DEFAULT_OTLP_SCOPE_NAME,
  type EncodedRecords,
  mergeOtlpBodies,
  type OtlpBody,
  type OtlpEncoder,
  type OtlpEncoderOptions,
  type OtlpProtocol,
  type OtlpResourceMetrics,
  type SpooledOtlpBody,
  toApiAttributes,
  toHrTime,
  toReadableLogRecord,
  toReadableSpan,
  toSpooledBody,
} from "./encoding.js";
export {
  createOtlpSender,
  GZIP_MIN_BYTES,
  type OtlpSender,
  type OtlpSenderOptions,
  type OtlpSignal,
  type OtlpSignalStats,
} from "./http-sender.js";
export {
  ensureNonZero,
  hashToHex,
  isValidSpanId,
  isValidTraceId,
  type TurnSpanIds,
  toTurnSpanIds,
  toTurnTraceId,
} from "./ids.js";
export type { Attributes, AttributeValue, LogRecordData, SpanRecord, TurnExport } from "./records.js";
export { definedAttributes, type TimedCall, toCallTiming, toGenAiUsageAttributes } from "./span-fields.js";
