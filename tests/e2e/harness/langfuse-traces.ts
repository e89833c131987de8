/**
 * What the Langfuse e2e files compute on their own to find a turn at the receiver: the trace id and
 * the outcome score id the extension derives from a turn id (recomputed here, so a change to the
 * scheme, which would break de-duplication of re-sent data in Langfuse, fails the tests), and one
 * turn's trace view out of the receiver's spans.
 */
import { createHash } from "node:crypto";
import type { LangfuseObservation, LangfuseTraceView } from "@clawscope/testing";

/** The extension's trace id of a turn: `sha256("clawscope-langfuse:trace:" + turnId)`, 32 hex. */
export function toLangfuseTraceId(turnId: string): string {
  return createHash("sha256").update(`clawscope-langfuse:trace:${turnId}`).digest("hex").slice(0, 32);
}

/** A name-based UUID (version 5 layout over SHA-256), as the extension derives score ids. */
export function toStableScoreId(...parts: readonly string[]): string {
  const hex = createHash("sha256")
    .update(`clawscope-langfuse:${parts.join("\u0000")}`)
    .digest("hex");
  const variant = ((Number.parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return [
    hex.slice(0, 8),
    hex.slice(8, 12),
    `5${hex.slice(13, 16)}`,
    `${variant}${hex.slice(17, 20)}`,
    hex.slice(20, 32),
  ].join("-");
}

/** The id of a turn's `turn.outcome` score. */
export function toOutcomeScoreId(turnId: string): string {
  return toStableScoreId("score", turnId, "turn.outcome");
}

/** One delivered turn: its trace view split by observation type. */
export interface DeliveredTurn {
  view: LangfuseTraceView;
  /** Observations without a parent. */
  roots: LangfuseObservation[];
  generations: LangfuseObservation[];
  tools: LangfuseObservation[];
}

/** The delivered turn with this Langfuse trace id, or undefined when none of its spans arrived. */
export function findDeliveredTurn(
  views: readonly LangfuseTraceView[],
  traceId: string,
): DeliveredTurn | undefined {
  const view = views.find((candidate) => candidate.trace.id === traceId);
  if (!view) return undefined;
  const observations = view.observations;
  return {
    view,
    roots: observations.filter((observation) => observation.parentObservationId === null),
    generations: observations.filter((observation) => observation.type === "generation"),
    tools: observations.filter(
      (observation) => observation.type === "tool" || observation.type === "retriever",
    ),
  };
}

/** Sum of one usage or cost key over observations (absent keys count 0). */
export function sumDetail(
  observations: readonly LangfuseObservation[],
  field: "usageDetails" | "costDetails",
  key: string,
): number {
  return observations.reduce((sum, observation) => sum + (observation[field][key] ?? 0), 0);
}
