/**
 * Deterministic OTLP ids: an extension derives its trace and span ids from a turn's stable id, so a
 * backend de-duplicates what the at-least-once pipeline sends twice (after a retry or a restart).
 */
import { hash } from "node:crypto";

const HEX_TRACE_ID = /^[0-9a-f]{32}$/;
const HEX_SPAN_ID = /^[0-9a-f]{16}$/;

/** `sha256(text)` as hex, cut to `chars`; an all-zero result (invalid in OTLP) gets its last bit set. */
export function hashToHex(text: string, chars: number): string {
  // the one-shot `crypto.hash`: about twice as fast as createHash for short texts
  return ensureNonZero(hash("sha256", text, "hex").slice(0, chars));
}

/** Flips the last bit of an all-zero hex id: all-zero trace and span ids mean "no id" in OTLP. */
export function ensureNonZero(hex: string): string {
  return /^0+$/.test(hex) ? `${hex.slice(0, -1)}1` : hex;
}

/** A W3C trace id: 32 lowercase hex characters, not all zero (the spec's invalid id). */
export function isValidTraceId(value: unknown): value is string {
  return typeof value === "string" && HEX_TRACE_ID.test(value) && !/^0+$/.test(value);
}

/** A W3C span id: 16 lowercase hex characters, not all zero. */
export function isValidSpanId(value: unknown): value is string {
  return typeof value === "string" && HEX_SPAN_ID.test(value) && !/^0+$/.test(value);
}

/** The ids of one turn's spans, in the order of `turn.modelCalls` and `turn.toolCalls`. */
export interface TurnSpanIds {
  traceId: string;
  rootSpanId: string;
  modelCallSpanIds: string[];
  toolCallSpanIds: string[];
}

/**
 * Every id of a turn's trace in one backend's namespace (`clawscope-otel`, `clawscope-mlflow`,
 * `clawscope-langfuse`): the trace id is the first 32 hex of `sha256("<ns>:trace:<turn id>")`, the
 * root's the first 16 of `"<ns>:root:<turn id>"`, a call's of `"<ns>:<model|tool>:<turn id>:<call id>"`.
 * The same turn always gets the same ids, so a re-sent export de-duplicates. Call ids are scoped by
 * the turn (providers reuse `call_0` across turns); two calls sharing an id inside one turn get
 * distinct ids by their occurrence number (`#2`, `#3`), still deterministic.
 */
export function toTurnSpanIds(namespace: string, turn: TurnIdSource): TurnSpanIds {
  // a frozen turn is mapped several times (spans, logs, sampling): its ids are derived once
  const frozen = Object.isFrozen(turn) && Object.isFrozen(turn.modelCalls) && Object.isFrozen(turn.toolCalls);
  if (!frozen) return deriveTurnSpanIds(namespace, turn);
  let byNamespace = derivedIds.get(turn);
  if (!byNamespace) {
    byNamespace = new Map();
    derivedIds.set(turn, byNamespace);
  }
  let ids = byNamespace.get(namespace);
  if (!ids) {
    ids = Object.freeze(deriveTurnSpanIds(namespace, turn));
    Object.freeze(ids.modelCallSpanIds);
    Object.freeze(ids.toolCallSpanIds);
    byNamespace.set(namespace, ids);
  }
  return ids;
}

/** What {@link toTurnSpanIds} reads of a turn. */
export interface TurnIdSource {
  id: string;
  modelCalls: readonly { callId: string }[];
  toolCalls: readonly { toolCallId: string }[];
}

/** Ids already derived for a frozen turn, by namespace; the turn's lifetime bounds the entry's. */
const derivedIds = new WeakMap<TurnIdSource, Map<string, TurnSpanIds>>();

function deriveTurnSpanIds(namespace: string, turn: TurnIdSource): TurnSpanIds {
  const rootSpanId = hashToHex(`${namespace}:root:${turn.id}`, 16);
  const used = new Set<string>([rootSpanId]);
  const unique = (kind: string, callId: string): string => {
    let spanId = hashToHex(`${namespace}:${kind}:${turn.id}:${callId}`, 16);
    for (let occurrence = 2; used.has(spanId); occurrence += 1) {
      spanId = hashToHex(`${namespace}:${kind}:${turn.id}:${callId}#${occurrence}`, 16);
    }
    used.add(spanId);
    return spanId;
  };
  return {
    traceId: toTurnTraceId(namespace, turn.id),
    rootSpanId,
    modelCallSpanIds: turn.modelCalls.map((call) => unique("model", String(call.callId))),
    toolCallSpanIds: turn.toolCalls.map((call) => unique("tool", String(call.toolCallId))),
  };
}

/** A turn's trace id in one backend's namespace (see {@link toTurnSpanIds}). */
export function toTurnTraceId(namespace: string, turnId: string): string {
  return hashToHex(`${namespace}:trace:${turnId}`, 32);
}
