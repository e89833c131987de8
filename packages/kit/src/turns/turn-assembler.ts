/**
 * The turn assembler: joins a run's bus events and hooks into one {@link Turn} — by `runId`, and
 * `model.usage`, `model.failover` and the host's end-of-run `session.state` (which carry no runId)
 * by `trace.traceId`. Tolerates late, dropped, duplicated and out-of-order input; holds no timers
 * (the runtime calls `tick`); memory stays bounded.
 *
 * When a turn closes: the host may run a turn several times (a retried 429 or 5xx, a fallback to
 * another model), each time ending with `run.completed`. So a turn whose last attempt failed is
 * held until the host says the run is over (`session.state` idle for its trace) or, without that
 * word, `retryWaitMs`; a turn that succeeded closes `settleMs` after its end, or at once when
 * `model.usage` has come and nothing else is missing.
 */

import { MAX_ID_LENGTH, readField, readHostEvent, readString } from "../events/read-event.js";
import { describeError } from "../runtime/describe-error.js";
import { applyBusEvent } from "./apply-event.js";
import { ASSEMBLER_HOOKS, applyHook, readHook } from "./apply-hook.js";
import type { PriceTable } from "./cost.js";
import { hasEnded, listMissing, toRevisionFigures, toTurn } from "./finalize-turn.js";
import {
  type ContentCapture,
  type ContentKind,
  createOpenTurn,
  type OpenTurn,
  type TurnLimits,
} from "./open-turn.js";
import type { Turn, TurnIncomplete, TurnRevisionFigures } from "./turn.js";
import { readTurnEvent, type TurnEventRecord } from "./turn-event-record.js";
import {
  everyAttemptCalled,
  hasSuccessfulCall,
  isReady,
  isWhole,
  lastAttemptFailure,
  markEnded,
  waitAfterEnd,
} from "./turn-readiness.js";

/** Options for {@link createTurnAssembler}. */
export interface TurnAssemblerOptions {
  /** Receives every closed turn, and every amendment of one. May throw: that is caught, counted and warned about. */
  onTurn: (turn: Turn) => void;
  /** How long after the run ended to wait for `model.usage` and late calls (default 1500 ms). */
  settleMs?: number;
  /**
   * How long a turn whose last attempt failed waits for the host to try again when the host does
   * not say the run is over (default 120 000 ms: beyond the host's 60 s `Retry-After` cap and its
   * 90 s window for server errors).
   */
  retryWaitMs?: number;
  /** A turn with no new event for this long is closed incomplete (default 10 minutes). */
  turnTimeoutMs?: number;
  /** Open turns kept at most; beyond it the oldest is closed incomplete, `evicted` (default 5000). */
  maxOpenTurns?: number;
  /** Model calls and tool executions kept per turn; more are counted and dropped (default 256 each). */
  maxCallsPerTurn?: number;
  /** Closed run and trace ids remembered to recognise very late events (default 20 000). */
  maxRememberedClosed?: number;
  /** Closed turns kept whole so late input can amend them (default 1000, for `turnTimeoutMs`). */
  maxAmendableTurns?: number;
  /** Clock; tests drive it explicitly. */
  now?: () => number;
  /** USD per million tokens, keyed `provider/model` or `model`, for costs the host did not price. */
  pricing?: PriceTable;
  /** Content capture: when set, prompts, completions and tool input/output go through it and what it returns is stored. */
  captureContent?: (value: unknown, kind: ContentKind) => string | undefined;
  /** Keep the host's error text (redacted) on `turn.error.message`. Off: only category, status and a fixed reason. */
  keepErrorText?: boolean;
  /** One-line warnings (malformed input, a throwing onTurn); repeated ones are rate-limited here too. */
  onWarning?: (message: string) => void;
}

/** Counters of what the assembler saw and did. */
export interface TurnAssemblerStats {
  open: number;
  assembled: number;
  incomplete: number;
  timedOut: number;
  evicted: number;
  shutdown: number;
  /** Turns the host ran more than once (retries, fallbacks). */
  retried: number;
  /** Amendments exported: closed turns reopened by late input that changed them. */
  amended: number;
  events: number;
  hooks: number;
  malformed: number;
  ignored: number;
  untrusted: number;
  /** Input for a turn closed too long ago to amend: dropped, counted here and warned about. */
  late: number;
  unattributed: number;
  pendingUsage: number;
  droppedModelCalls: number;
  droppedToolCalls: number;
  onTurnErrors: number;
}

/** The assembler's surface. Every method is safe to call with any input. */
export interface TurnAssembler {
  handleEvent(event: unknown, metadata?: unknown): void;
  handleHook(name: string, event: unknown, context: unknown): void;
  tick(now?: number): void;
  closeAll(reason: "shutdown"): void;
  /**
   * The open turns as they would close now with `reason`, without closing them or counting them:
   * for a consumer that leaves while others keep assembling (a shared assembler).
   */
  snapshotOpen(reason: "shutdown"): Turn[];
  stats(): TurnAssemblerStats;
}

/** A closed turn kept so late input can amend it. */
interface ClosedTurn {
  state: OpenTurn;
  record: Turn;
  closedAt: number;
}

const MAX_PENDING_USAGE = 1000;
const MAX_ATTEMPTS = 32;
const WARNING_INTERVAL_MS = 60_000;
const MAX_WARNING_KEYS = 64;
/** Events that only describe a run: they never reopen a closed turn. */
const DESCRIPTIVE_EVENTS = new Set(["session.state", "model.failover", "context.assembled"]);

/** Creates a turn assembler. See {@link TurnAssemblerOptions} for the defaults. */
export function createTurnAssembler(options: TurnAssemblerOptions): TurnAssembler {
  const settleMs = positive(options.settleMs, 1500, true);
  const retryWaitMs = Math.max(settleMs, positive(options.retryWaitMs, 120_000, true));
  const turnTimeoutMs = positive(options.turnTimeoutMs, 10 * 60_000);
  const maxOpenTurns = Math.max(1, Math.floor(positive(options.maxOpenTurns, 5000)));
  const maxCalls = Math.max(1, Math.floor(positive(options.maxCallsPerTurn, 256)));
  const maxRemembered = Math.max(1, Math.floor(positive(options.maxRememberedClosed, 20_000)));
  const maxAmendable = Math.max(0, Math.floor(positive(options.maxAmendableTurns, 1000, true)));
  const clock = options.now ?? Date.now;
  const counters: Omit<TurnAssemblerStats, "open" | "pendingUsage"> = {
    assembled: 0,
    incomplete: 0,
    timedOut: 0,
    evicted: 0,
    shutdown: 0,
    retried: 0,
    amended: 0,
    events: 0,
    hooks: 0,
    malformed: 0,
    ignored: 0,
    untrusted: 0,
    late: 0,
    unattributed: 0,
    droppedModelCalls: 0,
    droppedToolCalls: 0,
    onTurnErrors: 0,
  };
  const open = new Map<string, OpenTurn>();
  const runByTrace = new Map<string, string>();
  const closedRuns = new Set<string>();
  const closedTraces = new Map<string, string>();
  const amendable = new Map<string, ClosedTurn>();
  const revisions = new WeakMap<
    OpenTurn,
    { revision: number; previous: TurnRevisionFigures; record: Turn }
  >();
  // model.usage that came before anything told us its trace's run (out-of-order delivery)
  const pendingUsage = new Map<string, { event: TurnEventRecord; at: number }>();
  // the host's end of a run whose trace no run has named yet (out-of-order delivery)
  const pendingEnds = new Map<string, number>();
  // the sender of each session's latest inbound message (message_received has no runId)
  const senders = new Map<string, string>();
  const warnings = new Map<string, { at: number; suppressed: number }>();
  const limits: TurnLimits = {
    maxModelCalls: maxCalls,
    maxToolCalls: maxCalls,
    maxAttempts: MAX_ATTEMPTS,
    onDroppedModelCall: () => {
      counters.droppedModelCalls += 1;
    },
    onDroppedToolCall: () => {
      counters.droppedToolCalls += 1;
    },
  };
  const capture: ContentCapture = options.captureContent
    ? (value, kind) => {
        if (value === undefined || value === null) return undefined;
        try {
          const result = options.captureContent?.(value, kind);
          return typeof result === "string" ? result : undefined;
        } catch (error) {
          warn("capture", `content capture failed (${kind}): ${describeError(error)}`);
          return undefined;
        }
      }
    : undefined;

  function now(): number {
    try {
      const value = clock();
      return Number.isFinite(value) ? value : Date.now();
    } catch {
      return Date.now();
    }
  }

  function warn(key: string, message: string): void {
    if (options.onWarning === undefined) return;
    const at = now();
    const slotKey = warnings.has(key) || warnings.size < MAX_WARNING_KEYS ? key : "other";
    const slot = warnings.get(slotKey);
    if (slot !== undefined && at - slot.at < WARNING_INTERVAL_MS) {
      slot.suppressed += 1;
      return;
    }
    const suffix =
      slot !== undefined && slot.suppressed > 0 ? ` (${slot.suppressed} similar suppressed)` : "";
    warnings.set(slotKey, { at, suppressed: 0 });
    try {
      options.onWarning(`turn assembler: ${message}${suffix}`);
    } catch {
      // a broken warning sink must not break assembly
    }
  }

  function rememberClosed(runId: string, traceId: string | undefined): void {
    closedRuns.add(runId);
    if (closedRuns.size > maxRemembered) {
      const oldest = closedRuns.values().next().value;
      if (oldest !== undefined) closedRuns.delete(oldest);
    }
    if (traceId !== undefined) setNewest(closedTraces, traceId, runId, maxRemembered);
  }

  function keepAmendable(runId: string, entry: ClosedTurn): void {
    if (maxAmendable > 0) setNewest(amendable, runId, entry, maxAmendable);
  }

  function rememberSender(event: unknown, context: unknown): void {
    const sessionKey =
      readString(context, "sessionKey", MAX_ID_LENGTH) ?? readString(event, "sessionKey", MAX_ID_LENGTH);
    const senderId =
      readString(event, "senderId", MAX_ID_LENGTH) ?? readString(context, "senderId", MAX_ID_LENGTH);
    if (sessionKey === undefined || senderId === undefined || senderId === "") return;
    setNewest(senders, sessionKey, senderId, maxRemembered);
  }

  function turnFor(runId: string, at: number): OpenTurn {
    const existing = open.get(runId);
    if (existing !== undefined) return existing;
    if (open.size >= maxOpenTurns) {
      const oldest = open.values().next().value;
      if (oldest !== undefined) close(oldest, "evicted");
    }
    const turn = createOpenTurn(runId, at);
    open.set(runId, turn);
    return turn;
  }

  /**
   * The open turn for input about a run already closed: reopened when it is still amendable (the
   * amendment is exported under the same ids), else undefined — counted and warned about.
   */
  function reopen(runId: string, what: string, at: number): OpenTurn | undefined {
    const closed = amendable.get(runId);
    if (closed === undefined || at - closed.closedAt > turnTimeoutMs) {
      amendable.delete(runId);
      counters.late += 1;
      warn(
        "late",
        `${what} arrived for turn ${runId.slice(0, 80)} after it was exported and can no longer be amended; dropped (counted in health turns.late)`,
      );
      return undefined;
    }
    amendable.delete(runId);
    closedRuns.delete(runId);
    const state = closed.state;
    revisions.set(state, {
      revision: closed.record.revision + 1,
      previous: toRevisionFigures(closed.record),
      record: closed.record,
    });
    state.endSeenAt = undefined;
    open.set(runId, state);
    if (state.traceId !== undefined) runByTrace.set(state.traceId, runId);
    return state;
  }

  /**
   * An event that only describes a run (context, fallback, session state) for a closed one: it
   * cannot change what was exported; counted as late once the turn can no longer be amended.
   */
  function noteDescriptiveLate(runId: string, what: string): void {
    if (what === "session.state" || amendable.has(runId)) return;
    counters.late += 1;
    warn(
      "late",
      `${what} arrived for turn ${runId.slice(0, 80)} after it was exported; dropped (counted in health turns.late)`,
    );
  }

  /** After any change: index the trace, join waiting usage, track the end, close when done. */
  function settle(turn: OpenTurn, at: number): void {
    turn.lastActivityAt = at;
    const traceId = turn.traceId;
    if (traceId !== undefined && !runByTrace.has(traceId)) {
      runByTrace.set(traceId, turn.runId);
      const waiting = pendingUsage.get(traceId);
      if (waiting !== undefined) {
        pendingUsage.delete(traceId);
        applyBusEvent(turn, waiting.event, limits);
      }
      const ended = pendingEnds.get(traceId);
      if (ended !== undefined) {
        pendingEnds.delete(traceId);
        markEnded(turn, ended);
      }
    }
    if (hasEnded(turn)) turn.endSeenAt ??= at;
    else turn.endSeenAt = undefined;
    if (!isWhole(turn) || !isReady(turn)) return;
    // model.usage comes last when any call succeeded; when none did, the host's end-of-run is last,
    // though the bus may still be delivering a failed call (it drains call events later)
    if (turn.modelUsage !== undefined) close(turn);
    else if (turn.endMarkerAt !== undefined && !hasSuccessfulCall(turn) && everyAttemptCalled(turn)) {
      close(turn);
    }
  }

  function close(turn: OpenTurn, reason?: TurnIncomplete["reason"]): void {
    open.delete(turn.runId);
    if (turn.traceId !== undefined && runByTrace.get(turn.traceId) === turn.runId) {
      runByTrace.delete(turn.traceId);
    }
    rememberClosed(turn.runId, turn.traceId);
    if (reason === "evicted") counters.evicted += 1;
    const awaitingRetry = turn.endMarkerAt === undefined && lastAttemptFailure(turn) !== undefined;
    const missing = reason === undefined ? [] : listMissing(turn, awaitingRetry && reason !== "timeout");
    const incomplete = missing.length > 0 && reason !== undefined ? { reason, missing } : undefined;
    const amendment = revisions.get(turn);
    revisions.delete(turn);
    let record: Turn;
    try {
      record = toTurn(turn, {
        pricing: options.pricing,
        incomplete,
        keepErrorText: options.keepErrorText === true,
        revision: amendment?.revision,
        previous: amendment?.previous,
      });
      const senderId = record.sessionKey === undefined ? undefined : senders.get(record.sessionKey);
      if (senderId !== undefined) record.senderId = senderId;
    } catch (error) {
      warn("finalize", `could not finalize turn ${turn.runId.slice(0, 80)}: ${describeError(error)}`);
      return;
    }
    // input that changed nothing (a duplicate) is not exported again
    if (amendment !== undefined && toFingerprint(amendment.record) === toFingerprint(record)) {
      keepAmendable(turn.runId, { state: turn, record: amendment.record, closedAt: now() });
      return;
    }
    keepAmendable(turn.runId, { state: turn, record, closedAt: now() });
    if (amendment !== undefined) counters.amended += 1;
    else {
      counters.assembled += 1;
      if (record.attempts > 1) counters.retried += 1;
      if (incomplete !== undefined) {
        counters.incomplete += 1;
        if (reason === "timeout") counters.timedOut += 1;
        if (reason === "shutdown") counters.shutdown += 1;
      }
    }
    try {
      options.onTurn(record);
    } catch (error) {
      counters.onTurnErrors += 1;
      warn("on-turn", `onTurn failed for turn ${record.id.slice(0, 80)}: ${describeError(error)}`);
    }
  }

  /** model.usage, model.failover and session.state name their run by trace only. */
  function handleTraceEvent(event: TurnEventRecord, at: number): void {
    const traceId = event.traceId ?? "";
    const runId = runByTrace.get(traceId);
    const turn = runId === undefined ? undefined : open.get(runId);
    if (turn !== undefined) {
      if (event.type === "session.state") {
        if (isIdle(event)) markEnded(turn, at);
      } else {
        applyBusEvent(turn, event, limits);
      }
      settle(turn, at);
      return;
    }
    const closedRun = closedTraces.get(traceId);
    if (closedRun !== undefined) {
      if (DESCRIPTIVE_EVENTS.has(event.type)) {
        noteDescriptiveLate(closedRun, event.type);
        return;
      }
      const reopened = reopen(closedRun, event.type, at);
      if (reopened === undefined) return;
      applyBusEvent(reopened, event, limits);
      settle(reopened, at);
      return;
    }
    if (event.type === "session.state") {
      if (!isIdle(event)) return;
      pendingEnds.delete(traceId);
      pendingEnds.set(traceId, at);
      if (pendingEnds.size > MAX_PENDING_USAGE) {
        const oldest = pendingEnds.keys().next().value;
        if (oldest !== undefined) pendingEnds.delete(oldest);
      }
      return;
    }
    if (event.type !== "model.usage") return;
    pendingUsage.delete(traceId);
    pendingUsage.set(traceId, { event, at });
    if (pendingUsage.size > MAX_PENDING_USAGE) {
      const oldest = pendingUsage.keys().next().value;
      if (oldest !== undefined) pendingUsage.delete(oldest);
      counters.unattributed += 1;
    }
  }

  return {
    handleEvent(event, metadata) {
      counters.events += 1;
      try {
        const result = readHostEvent(event);
        if (result.status === "malformed") {
          counters.malformed += 1;
          warn("malformed-event", `skipped a malformed event: ${result.error}`);
          return;
        }
        if (result.status === "ignored") {
          counters.ignored += 1;
          return;
        }
        // read once: from here on only the record is used
        const accepted = readTurnEvent(result.event);
        // the turn event types are trusted core events; an untrusted copy was forged by a plugin
        // (session state is public by nature: it only ever ends a wait)
        if (readField(metadata, "trusted") === false && accepted.type !== "session.state") {
          counters.untrusted += 1;
          counters.ignored += 1;
          return;
        }
        const at = now();
        if (
          accepted.type === "model.usage" ||
          accepted.type === "model.failover" ||
          accepted.type === "session.state"
        ) {
          handleTraceEvent(accepted, at);
          return;
        }
        const runId =
          accepted.runId ?? (accepted.traceId === undefined ? undefined : runByTrace.get(accepted.traceId));
        if (runId === undefined) {
          counters.unattributed += 1;
          return;
        }
        let turn: OpenTurn | undefined;
        if (closedRuns.has(runId) || (!open.has(runId) && amendable.has(runId))) {
          if (DESCRIPTIVE_EVENTS.has(accepted.type)) {
            noteDescriptiveLate(runId, accepted.type);
            return;
          }
          turn = reopen(runId, accepted.type, at);
          if (turn === undefined) return;
        } else {
          turn = turnFor(runId, at);
        }
        applyBusEvent(turn, accepted, limits);
        settle(turn, at);
      } catch (error) {
        counters.malformed += 1;
        warn("event-failed", `skipped an event that could not be applied: ${describeError(error)}`);
      }
    },

    handleHook(name, event, context) {
      counters.hooks += 1;
      try {
        if (name === "message_received") {
          rememberSender(event, context);
          return;
        }
        if (typeof name !== "string" || !ASSEMBLER_HOOKS.has(name)) {
          counters.ignored += 1;
          return;
        }
        const result = readHook(name, event, context);
        if (!result.ok) {
          counters.malformed += 1;
          warn(`malformed-hook-${name}`, `skipped a malformed hook call: ${result.error}`);
          return;
        }
        const at = now();
        let turn: OpenTurn | undefined;
        if (closedRuns.has(result.runId)) {
          turn = reopen(result.runId, name, at);
          if (turn === undefined) return;
        } else {
          turn = turnFor(result.runId, at);
        }
        applyHook(turn, name, event, context, at, limits, capture);
        settle(turn, at);
      } catch (error) {
        counters.malformed += 1;
        warn("hook-failed", `skipped a hook call that could not be applied: ${describeError(error)}`);
      }
    },

    tick(tickNow) {
      const at = typeof tickNow === "number" && Number.isFinite(tickNow) ? tickNow : now();
      for (const turn of [...open.values()]) {
        try {
          const endAt =
            turn.endSeenAt === undefined ? undefined : Math.max(turn.endSeenAt, turn.endMarkerAt ?? 0);
          const settled =
            endAt !== undefined &&
            hasEnded(turn) &&
            at - endAt >= waitAfterEnd(turn, { settleMs, retryWaitMs });
          if (settled || at - turn.lastActivityAt >= turnTimeoutMs) close(turn, "timeout");
        } catch (error) {
          open.delete(turn.runId);
          warn("tick", `dropped a turn that could not be closed: ${describeError(error)}`);
        }
      }
      for (const [traceId, waiting] of pendingUsage) {
        if (at - waiting.at < turnTimeoutMs) break;
        pendingUsage.delete(traceId);
        counters.unattributed += 1;
      }
      for (const [traceId, endedAt] of pendingEnds) {
        if (at - endedAt < turnTimeoutMs) break;
        pendingEnds.delete(traceId);
      }
      for (const [runId, closed] of amendable) {
        if (at - closed.closedAt <= turnTimeoutMs) break;
        amendable.delete(runId);
      }
    },

    snapshotOpen(reason) {
      const records: Turn[] = [];
      for (const turn of open.values()) {
        try {
          const awaitingRetry = turn.endMarkerAt === undefined && lastAttemptFailure(turn) !== undefined;
          const missing = listMissing(turn, awaitingRetry);
          const amendment = revisions.get(turn);
          const record = toTurn(turn, {
            pricing: options.pricing,
            incomplete: missing.length > 0 ? { reason, missing } : undefined,
            keepErrorText: options.keepErrorText === true,
            revision: amendment?.revision,
            previous: amendment?.previous,
          });
          const senderId = record.sessionKey === undefined ? undefined : senders.get(record.sessionKey);
          if (senderId !== undefined) record.senderId = senderId;
          records.push(record);
        } catch (error) {
          warn("finalize", `could not finalize turn ${turn.runId.slice(0, 80)}: ${describeError(error)}`);
        }
      }
      return records;
    },

    closeAll(reason) {
      for (const turn of [...open.values()]) {
        try {
          close(turn, reason);
        } catch {
          open.delete(turn.runId);
        }
      }
      counters.unattributed += pendingUsage.size;
      pendingUsage.clear();
      pendingEnds.clear();
      amendable.clear();
    },

    stats() {
      return { ...counters, open: open.size, pendingUsage: pendingUsage.size };
    },
  };
}

/** Sets `key` as the newest entry of a map kept to `max` entries, the oldest going first. */
function setNewest<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > max) {
    const oldest = map.keys().next();
    if (oldest.done) break;
    map.delete(oldest.value);
  }
}

function isIdle(event: TurnEventRecord): boolean {
  return event.state === "idle";
}

/** What an amendment is compared on: the whole record but its revision bookkeeping. */
function toFingerprint(record: Turn): string {
  const { revision: _revision, previous: _previous, ...rest } = record;
  return JSON.stringify(rest);
}

function positive(value: number | undefined, fallback: number, allowZero = false): number {
  return typeof value === "number" && Number.isFinite(value) && (value > 0 || (allowZero && value === 0))
    ? value
    : fallback;
}
