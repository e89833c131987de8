/**
 * Tests only: the official Langfuse SDK path the extension's direct span building must equal. The
 * SDK runs on a private tracer provider: spans are started with the SDK's tracer name and version
 * and described with its attribute helpers, and its `LangfuseSpanProcessor` adds environment,
 * release and the propagated trace attributes, marks the app root and applies the mask, exactly as
 * for an SDK user; its exporter turns each finished span into the kit's record. The oracle test
 * (`langfuse-tracing.test.ts`) replays turns through both and requires identical records.
 */
import { toHrTime } from "@clawscope/kit/otlp";
import { configureGlobalLogger, LANGFUSE_SDK_VERSION, LANGFUSE_TRACER_NAME, LogLevel } from "@langfuse/core";
import { LangfuseSpanProcessor } from "@langfuse/otel";
import { createObservationAttributes } from "@langfuse/tracing";
import { type Context, type Span, SpanStatusCode, trace } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { AlwaysOnSampler, BasicTracerProvider, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { ObservationPlan, TurnPlan } from "../mapping/to-turn-plan.js";
import { toMaskedContent, toTraceContext } from "./langfuse-tracing.js";
import { createTurnIdGenerator } from "./turn-id-generator.js";

/** Options of {@link createSdkTracing}. */
export interface SdkTracingOptions {
  publicKey: string;
  secretKey: string;
  baseUrl: string;
  environment?: string;
  release?: string;
  /** Longest text kept by the mask per input, output or metadata value. */
  maxContentChars: number;
  /** Where finished spans go (the pipeline exporter). */
  exporter: SpanExporter;
  resourceAttributes?: Record<string, string>;
}

/** The SDK path. */
export interface SdkTracing {
  /** Creates and ends the spans of one turn, synchronously; they reach the exporter shortly after. */
  emit(plan: TurnPlan): void;
  /** Waits until every ended span went through the mask and reached the exporter. */
  flush(): Promise<void>;
  /** Flushes, then shuts the private provider down. */
  shutdown(): Promise<void>;
}

/** Builds the private provider, the SDK's processor and the tracer. */
export function createSdkTracing(options: SdkTracingOptions): SdkTracing {
  // at DEBUG (LANGFUSE_DEBUG, LANGFUSE_LOG_LEVEL) the SDK prints whole spans, content included, to
  // the console; the logger is this bundle's own copy, so quieting it touches no one else's SDK
  configureGlobalLogger({ level: LogLevel.WARN });
  const ids = createTurnIdGenerator();
  const processor = new LangfuseSpanProcessor({
    publicKey: options.publicKey,
    secretKey: options.secretKey,
    baseUrl: options.baseUrl,
    ...(options.environment ? { environment: options.environment } : {}),
    ...(options.release ? { release: options.release } : {}),
    exporter: options.exporter,
    // one span at a time into our pipeline, which does the batching, spooling and retrying
    exportMode: "immediate",
    mediaUploadEnabled: false,
    mask: ({ data }) => toMaskedContent(data, options.maxContentChars),
    // every span of this provider is ours: no filtering on instrumentation scope
    shouldExportSpan: () => true,
  });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(options.resourceAttributes ?? {}),
    idGenerator: ids,
    // explicit, so OTEL_TRACES_SAMPLER meant for other software cannot drop our spans
    sampler: new AlwaysOnSampler(),
    spanLimits: { attributeCountLimit: 256, attributeValueLengthLimit: Number.POSITIVE_INFINITY },
    spanProcessors: [processor],
  });
  const tracer = provider.getTracer(LANGFUSE_TRACER_NAME, LANGFUSE_SDK_VERSION);
  let stopped = false;

  const start = (observation: ObservationPlan, context: Context, traceId?: string): Span => {
    ids.setNext(traceId ? { traceId, spanId: observation.spanId } : { spanId: observation.spanId });
    const span = tracer.startSpan(
      observation.name,
      { startTime: toHrTime(observation.startTimeMs) },
      context,
    );
    // set after the start, as the SDK's observations do: onStart has added the propagated attributes
    span.setAttributes(createObservationAttributes(observation.type, observation.attributes));
    if (observation.errorMessage !== undefined)
      span.setStatus({ code: SpanStatusCode.ERROR, message: observation.errorMessage });
    return span;
  };

  return {
    emit(plan) {
      if (stopped) return;
      const [rootPlan, ...children] = plan.observations;
      if (!rootPlan) return;
      let root: Span | undefined;
      try {
        const base = toTraceContext(plan);
        root = start(rootPlan, base, plan.traceId);
        const parent = trace.setSpan(base, root);
        for (const child of children) start(child, parent).end(toHrTime(child.endTimeMs));
      } finally {
        ids.clear();
        // ended whatever happened to the children: an open span would stay in the processor's books
        if (root?.isRecording()) root.end(toHrTime(rootPlan.endTimeMs));
      }
    },
    async flush() {
      await provider.forceFlush();
    },
    async shutdown() {
      if (stopped) return;
      stopped = true;
      await provider.shutdown();
    },
  };
}
