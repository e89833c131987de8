/**
 * Tests only (the SDK reference path of `sdk-tracing-fixtures.ts`): the tracer's id source. Span
 * creation is synchronous, so setting the ids right before each `startSpan` gives every observation
 * the id the mapping derived from the turn: a re-sent turn is the same trace. Anything else asking
 * for ids gets random ones.
 */
import { randomBytes } from "node:crypto";
import type { IdGenerator } from "@opentelemetry/sdk-trace-base";

/** An `IdGenerator` whose next ids can be set. */
export interface TurnIdGenerator extends IdGenerator {
  /** The ids the next `startSpan` takes: the span id always, the trace id when it starts a root. */
  setNext(ids: { traceId?: string; spanId: string }): void;
  /** Forgets ids that were set but not taken (after a failed span creation). */
  clear(): void;
}

/** Creates the generator of one private tracer provider. */
export function createTurnIdGenerator(): TurnIdGenerator {
  let nextTraceId: string | undefined;
  let nextSpanId: string | undefined;
  return {
    setNext(ids) {
      nextTraceId = ids.traceId;
      nextSpanId = ids.spanId;
    },
    clear() {
      nextTraceId = undefined;
      nextSpanId = undefined;
    },
    generateTraceId() {
      const id = nextTraceId ?? randomHex(16);
      nextTraceId = undefined;
      return id;
    },
    generateSpanId() {
      const id = nextSpanId ?? randomHex(8);
      nextSpanId = undefined;
      return id;
    },
  };
}

function randomHex(bytes: number): string {
  const hex = randomBytes(bytes).toString("hex");
  // all-zero ids are invalid in OTLP: astronomically unlikely, cheap to rule out
  return /^0+$/.test(hex) ? `${hex.slice(0, -1)}1` : hex;
}
