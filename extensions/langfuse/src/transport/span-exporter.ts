/**
 * Tests only (the SDK reference path of `sdk-tracing-fixtures.ts`): the exporter behind the SDK's
 * span processor. Each finished span, after the SDK has added its attributes and applied the mask,
 * becomes the kit's plain record, so the oracle test can compare it with what
 * `langfuse-tracing.ts` builds directly. `export` reports success once the span is handed over.
 */
import type { Attributes, SpanRecord, TurnExport } from "@clawscope/kit/otlp";
import { type HrTime, SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";

/** Options of {@link createPipelineSpanExporter}. */
export interface PipelineSpanExporterOptions {
  /** Queues one span; the id is stable for the span (trace id + span id), so re-sends de-duplicate. */
  enqueue: (id: string, payload: TurnExport) => void;
  /** Called when a span cannot be turned into a record (counted, never thrown). */
  onInvalid?: (reason: string) => void;
}

const KINDS: Record<number, SpanRecord["kind"]> = {
  [SpanKind.INTERNAL]: "internal",
  [SpanKind.SERVER]: "server",
  [SpanKind.CLIENT]: "client",
  [SpanKind.PRODUCER]: "producer",
  [SpanKind.CONSUMER]: "consumer",
};
const STATUSES: Record<number, SpanRecord["status"]["code"]> = {
  [SpanStatusCode.UNSET]: "unset",
  [SpanStatusCode.OK]: "ok",
  [SpanStatusCode.ERROR]: "error",
};

/** Creates the exporter; it never throws and never fails an export (problems go to `onInvalid`). */
export function createPipelineSpanExporter(options: PipelineSpanExporterOptions): SpanExporter {
  let stopped = false;
  return {
    export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
      for (const span of Array.isArray(spans) ? spans : []) {
        try {
          if (stopped) {
            options.onInvalid?.("span ended after the exporter shut down");
            continue;
          }
          const record = toSpanRecord(span);
          const id = `${record.traceId}:${record.spanId}`;
          options.enqueue(id, { id, spans: [record], logs: [] });
        } catch (error) {
          options.onInvalid?.(error instanceof Error ? error.message : String(error));
        }
      }
      resultCallback({ code: ExportResultCode.SUCCESS });
    },
    async shutdown() {
      stopped = true;
    },
    async forceFlush() {},
  };
}

/** One finished span as the kit's plain OTLP record (times in epoch ms, fractions to the microsecond). */
export function toSpanRecord(span: ReadableSpan): SpanRecord {
  const context = span.spanContext();
  const parentSpanId = span.parentSpanContext?.spanId;
  const message = span.status?.message;
  const record: SpanRecord = {
    traceId: context.traceId,
    spanId: context.spanId,
    name: span.name,
    kind: KINDS[span.kind] ?? "internal",
    startTimeMs: toEpochMs(span.startTime),
    endTimeMs: toEpochMs(span.endTime),
    attributes: toAttributes(span.attributes),
    status: {
      code: STATUSES[span.status?.code ?? SpanStatusCode.UNSET] ?? "unset",
      ...(typeof message === "string" && message !== "" ? { message } : {}),
    },
  };
  if (parentSpanId) record.parentSpanId = parentSpanId;
  if (span.events.length > 0) {
    record.events = span.events.map((event) => ({
      name: event.name,
      timeMs: toEpochMs(event.time),
      ...(event.attributes ? { attributes: toAttributes(event.attributes) } : {}),
    }));
  }
  if (span.links.length > 0) {
    record.links = span.links.map((link) => ({
      traceId: link.context.traceId,
      spanId: link.context.spanId,
      ...(link.attributes ? { attributes: toAttributes(link.attributes) } : {}),
    }));
  }
  return record;
}

function toEpochMs(time: HrTime): number {
  return time[0] * 1000 + time[1] / 1_000_000;
}

/** The span's attributes without `undefined` values (JSON would drop them anyway). */
function toAttributes(attributes: ReadableSpan["attributes"]): Attributes {
  const result: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) result[key] = value as Attributes[string];
  }
  return result;
}
