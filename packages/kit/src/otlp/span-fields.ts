/**
 * Small pieces every turn-to-span mapper needs, spelled once: attributes without holes, and a
 * call's start and end inside its turn.
 */
import type { Attributes, AttributeValue } from "./records.js";

/** The attributes whose value is defined (and, for numbers, finite). */
export function definedAttributes(entries: Record<string, AttributeValue | undefined>): Attributes {
  const attributes: Attributes = {};
  for (const [key, value] of Object.entries(entries)) {
    if (value === undefined) continue;
    if (typeof value === "number" && !Number.isFinite(value)) continue;
    attributes[key] = value;
  }
  return attributes;
}

/** What {@link toCallTiming} reads of a model or tool call. */
export interface TimedCall {
  startedAt?: number;
  endedAt?: number;
  durationMs?: number;
  outcome: string;
}

/**
 * Start and end of a call; what is unknown falls back to the turn's bounds, a pending call ends
 * with its turn, and the end is never before the start.
 */
export function toCallTiming(
  call: TimedCall,
  turn: { startedAt: number; endedAt: number },
): { startTimeMs: number; endTimeMs: number } {
  const start = finite(call.startedAt) ?? turn.startedAt;
  const duration = finite(call.durationMs);
  const end =
    call.outcome === "pending"
      ? turn.endedAt
      : (finite(call.endedAt) ?? (duration === undefined ? turn.endedAt : start + duration));
  return { startTimeMs: start, endTimeMs: Math.max(start, end) };
}

function finite(value: number | undefined): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}
