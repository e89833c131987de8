/**
 * A turn's plan as the spans the official Langfuse SDK (5.11.1) would export for it, built directly
 * as the kit's span records. The SDK path — a tracer provider, its `LangfuseSpanProcessor` and an
 * exporter turning each finished span back into a record — cost about a third of the extension's
 * CPU per turn; what it adds to a span is small and fixed, and is done here in the same order with
 * the SDK's own helpers and constants:
 *
 * - at the start: `langfuse.environment` and `langfuse.release` (the options, else the SDK's
 *   `LANGFUSE_TRACING_ENVIRONMENT` and `LANGFUSE_RELEASE`), then the trace attributes the SDK
 *   propagates from the context (`getPropagatedAttributesFromContext`), then the app-root mark on
 *   the root (`langfuse.internal.is_app_root`);
 * - the observation's attributes from the SDK's `createObservationAttributes`, under the SDK span's
 *   rules (no empty keys, no null or non-attribute values, at most 256 attributes);
 * - at the end, the mask on input, output and metadata; the error status; children before the root.
 *
 * A turn's spans travel as one item of the export pipeline (the SDK's exporter queued each span).
 *
 * `langfuse-tracing.test.ts` replays turns through this and through the real SDK path
 * (`sdk-tracing-fixtures.ts`) and requires identical records, so an SDK upgrade that changes what
 * it sends fails a test instead of drifting.
 */
import { toCapturedContent } from "@clawscope/kit";
import { type Attributes, type SpanRecord, type TurnExport, toHrTime } from "@clawscope/kit/otlp";
import {
  configureGlobalLogger,
  getEnv,
  getPropagatedAttributesFromContext,
  LangfuseOtelContextKeys,
  LangfuseOtelSpanAttributes,
  LogLevel,
} from "@langfuse/core";
import { createObservationAttributes } from "@langfuse/tracing";
import { type Context, ROOT_CONTEXT } from "@opentelemetry/api";
import { isAttributeValue } from "@opentelemetry/core";
import type { ObservationPlan, TurnPlan } from "../mapping/to-turn-plan.js";

/** Options of {@link createLangfuseTracing}. */
export interface LangfuseTracingOptions {
  environment?: string;
  release?: string;
  /** Longest text kept by the mask per input, output or metadata value. */
  maxContentChars: number;
  /** Queues one turn's spans; the id (the trace id) is stable, so re-sends de-duplicate. */
  enqueue: (id: string, payload: TurnExport) => void;
  /** Called when an observation cannot become a span (counted, never thrown). */
  onInvalid?: (reason: string) => void;
}

/** The tracing half of the extension. */
export interface LangfuseTracing {
  /** Builds the spans of one turn and queues them, synchronously: nothing is left to flush. */
  emit(plan: TurnPlan): void;
  /** After it, turns are dropped. */
  shutdown(): void;
}

/** The SDK span's attribute count limit the SDK path ran with. */
const ATTRIBUTE_COUNT_LIMIT = 256;
/** The attributes the SDK's processor masks when a span ends. */
const MASKED_KEYS = [
  LangfuseOtelSpanAttributes.OBSERVATION_INPUT,
  LangfuseOtelSpanAttributes.TRACE_INPUT,
  LangfuseOtelSpanAttributes.OBSERVATION_OUTPUT,
  LangfuseOtelSpanAttributes.TRACE_OUTPUT,
  LangfuseOtelSpanAttributes.OBSERVATION_METADATA,
  LangfuseOtelSpanAttributes.TRACE_METADATA,
];

/** Creates the span builder. */
export function createLangfuseTracing(options: LangfuseTracingOptions): LangfuseTracing {
  // at DEBUG (LANGFUSE_DEBUG, LANGFUSE_LOG_LEVEL) the SDK's helpers may print what they handle; the
  // logger is this bundle's own copy, so quieting it touches no one else's SDK
  configureGlobalLogger({ level: LogLevel.WARN });
  const environment = options.environment ?? getEnv("LANGFUSE_TRACING_ENVIRONMENT");
  const release = options.release ?? getEnv("LANGFUSE_RELEASE");
  let stopped = false;

  const toRecord = (
    observation: ObservationPlan,
    traceId: string,
    traceAttributes: Record<string, unknown>,
    parentSpanId: string | undefined,
  ): SpanRecord => {
    const attributes = createAttributeSet();
    attributes.set(LangfuseOtelSpanAttributes.ENVIRONMENT, environment);
    attributes.set(LangfuseOtelSpanAttributes.RELEASE, release);
    attributes.setAll(traceAttributes);
    if (parentSpanId === undefined) attributes.set(LangfuseOtelSpanAttributes.IS_APP_ROOT, true);
    attributes.setAll(createObservationAttributes(observation.type, observation.attributes));
    const values = attributes.values;
    for (const key of MASKED_KEYS) {
      if (key in values) values[key] = toMaskedContent(values[key], options.maxContentChars);
    }
    const startTimeMs = toSpanTimeMs(observation.startTimeMs);
    const endTimeMs = toSpanTimeMs(observation.endTimeMs);
    const message = observation.errorMessage;
    const record: SpanRecord = {
      traceId,
      spanId: observation.spanId,
      name: observation.name,
      kind: "internal",
      startTimeMs,
      // as the SDK's span: an end before the start is the start
      endTimeMs: Math.max(endTimeMs, startTimeMs),
      attributes: values,
      status:
        message === undefined
          ? { code: "unset" }
          : { code: "error", ...(typeof message === "string" && message !== "" ? { message } : {}) },
    };
    if (parentSpanId !== undefined) record.parentSpanId = parentSpanId;
    return record;
  };

  return {
    emit(plan) {
      if (stopped) return;
      const [rootPlan, ...children] = plan.observations;
      if (!rootPlan) return;
      const traceAttributes = getPropagatedAttributesFromContext(toTraceContext(plan)) as Record<
        string,
        unknown
      >;
      // the root is built first (a failure there drops the turn, as a failed root span did); the
      // turn's spans are one item of the pipeline, under the trace id, children first as they ended
      const root = toRecord(rootPlan, plan.traceId, traceAttributes, undefined);
      const spans: SpanRecord[] = [];
      for (const child of children) {
        try {
          spans.push(toRecord(child, plan.traceId, traceAttributes, root.spanId));
        } catch (error) {
          options.onInvalid?.(error instanceof Error ? error.message : String(error));
        }
      }
      spans.push(root);
      options.enqueue(plan.traceId, { id: plan.traceId, spans, logs: [] });
    },
    shutdown() {
      stopped = true;
    },
  };
}

/** An SDK span's attribute map: what `Span.setAttribute` would keep, in the order it kept it. */
function createAttributeSet() {
  const values: Attributes = {};
  let count = 0;
  const set = (key: string, value: unknown) => {
    if (value === undefined || value === null || key.length === 0 || !isAttributeValue(value)) return;
    const isNew = !Object.hasOwn(values, key);
    if (isNew && count >= ATTRIBUTE_COUNT_LIMIT) return;
    values[key] = value as Attributes[string];
    if (isNew) count += 1;
  };
  return {
    values,
    set,
    setAll(attributes: object) {
      for (const [key, value] of Object.entries(attributes)) set(key, value);
    },
  };
}

/** Epoch ms as the SDK path carried it: to `[seconds, nanoseconds]` (to the microsecond) and back. */
function toSpanTimeMs(epochMs: number): number {
  const [seconds, nanos] = toHrTime(epochMs);
  return seconds * 1000 + nanos / 1_000_000;
}

/**
 * The context the SDK reads the trace-level attributes from: the plan's under the SDK's own context
 * keys, exactly as `propagateAttributes` would set them (without the global context manager it needs).
 */
export function toTraceContext(plan: TurnPlan): Context {
  let context = ROOT_CONTEXT.setValue(LangfuseOtelContextKeys.traceName, plan.traceName);
  if (plan.sessionId) context = context.setValue(LangfuseOtelContextKeys.sessionId, plan.sessionId);
  if (plan.userId) context = context.setValue(LangfuseOtelContextKeys.userId, plan.userId);
  if (plan.tags.length > 0) context = context.setValue(LangfuseOtelContextKeys.tags, [...plan.tags]);
  if (Object.keys(plan.metadata).length > 0)
    context = context.setValue(LangfuseOtelContextKeys.metadata, { ...plan.metadata });
  return context;
}

/**
 * The mask: any value (the SDK hands strings, but a hook must not trust that) becomes redacted,
 * bounded text. Never throws; a value it cannot read becomes a marker, never the value.
 */
export function toMaskedContent(data: unknown, maxChars: number): string {
  try {
    return toCapturedContent(data, { maxChars: Number.isFinite(maxChars) && maxChars > 0 ? maxChars : 8000 });
  } catch {
    return "[unserializable]";
  }
}
