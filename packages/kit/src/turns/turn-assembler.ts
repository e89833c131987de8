/**
 * The turn assembler: joins a run's bus events and hooks into one {@link Turn} — by `runId`, and
 * `model.usage` (which has no runId) by `trace.traceId`. Tolerates late, dropped, duplicated and
 * out-of-order input; holds no timers (the runtime calls `tick`); memory stays bounded.
 */

import {
  describeError,
  MAX_ID_LENGTH,
  readField,
  readHostEvent,
  readPath,
  readString,
  type TurnEvent,
} from "../events/read-event.js";
import { applyBusEvent } from "./apply-event.js";
import { ASSEMBLER_HOOKS, applyHook, readHook } from "./apply-hook.js";
import type { PriceTable } from "./cost.js";
import { hasEnded, isPending, listMissing, toTurn } from "./finalize-turn.js";
import {
  type ContentCapture,
  type ContentKind,
  createOpenTurn,
  type OpenTurn,
  type TurnLimits,
} from "./open-turn.js";
import type { Turn, TurnIncomplete } from "./turn.js";

/** Options for {@link createTurnAssembler}. */
export interface TurnAssemblerOptions {
  /** Receives every closed turn, once. May throw: that is caught, counted and warned about. */
  onTurn: (turn: Turn) => void;
  /** How long after the run ended to wait for `model.usage` and late calls (default 1500 ms). */
  settleMs?: number;
  /** A turn with no new event for this long is closed incomplete (default 10 minutes). */
  turnTimeoutMs?: number;
  /** Open turns kept at most; beyond it the oldest is closed incomplete, `evicted` (default 5000). */
  maxOpenTurns?: number;
  /** Model calls and tool executions kept per turn; more are counted and dropped (default 256 each). */
  maxCallsPerTurn?: number;
  /** Closed run and trace ids remembered to recognise very late events (default 20 000). */
  maxRememberedClosed?: number;
  /** Clock; tests drive it explicitly. */
  now?: () => number;
  /** USD per million tokens, keyed `provider/model` or `model`, for costs the host did not price. */
  pricing?: PriceTable;
  /** Content capture: when set, prompts, completions and tool input/output go through it and what it returns is stored. */
  captureContent?: (value: unknown, kind: ContentKind) => string | undefined;
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
  events: number;
  hooks: number;
  malformed: number;
  ignored: number;
  untrusted: number;
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
  stats(): TurnAssemblerStats;
}

const MAX_PENDING_USAGE = 1000;
const WARNING_INTERVAL_MS = 60_000;
const MAX_WARNING_KEYS = 64;

/** Creates a turn assembler. See {@link TurnAssemblerOptions} for the defaults. */
export function createTurnAssembler(options: TurnAssemblerOptions): TurnAssembler {
  const settleMs = positive(options.settleMs, 1500);
  const turnTimeoutMs = positive(options.turnTimeoutMs, 10 * 60_000);
  const maxOpenTurns = Math.max(1, Math.floor(positive(options.maxOpenTurns, 5000)));
  const maxCalls = Math.max(1, Math.floor(positive(options.maxCallsPerTurn, 256)));
  const maxRemembered = Math.max(1, Math.floor(positive(options.maxRememberedClosed, 20_000)));
  const clock = options.now ?? Date.now;
  const counters: Omit<TurnAssemblerStats, "open" | "pendingUsage"> = {
    assembled: 0,
    incomplete: 0,
    timedOut: 0,
    evicted: 0,
    shutdown: 0,
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
  const closedTraces = new Set<string>();
  // model.usage that came before anything told us its trace's run (out-of-order delivery)
  const pendingUsage = new Map<string, { event: TurnEvent; at: number }>();
  // the sender of each session's latest inbound message (message_received has no runId)
  const senders = new Map<string, string>();
  const warnings = new Map<string, { at: number; suppressed: number }>();
  const limits: TurnLimits = {
    maxModelCalls: maxCalls,
    maxToolCalls: maxCalls,
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

  function remember(set: Set<string>, value: string): void {
    set.add(value);
    if (set.size > maxRemembered) {
      const oldest = set.values().next().value;
      if (oldest !== undefined) set.delete(oldest);
    }
  }

  function rememberSender(event: unknown, context: unknown): void {
    const sessionKey =
      readString(context, "sessionKey", MAX_ID_LENGTH) ?? readString(event, "sessionKey", MAX_ID_LENGTH);
    const senderId =
      readString(event, "senderId", MAX_ID_LENGTH) ?? readString(context, "senderId", MAX_ID_LENGTH);
    if (sessionKey === undefined || senderId === undefined || senderId === "") return;
    senders.delete(sessionKey);
    senders.set(sessionKey, senderId);
    if (senders.size > maxRemembered) {
      const oldest = senders.keys().next().value;
      if (oldest !== undefined) senders.delete(oldest);
    }
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
    }
    if (hasEnded(turn)) turn.endSeenAt ??= at;
    else turn.endSeenAt = undefined;
    if (turn.modelUsage !== undefined && isWhole(turn) && isReady(turn)) close(turn);
  }

  /**
   * Whether the bus delivered both ends of the run and of every call: only then a turn closes the
   * moment model.usage arrives; otherwise it waits the settle time for stragglers.
   */
  function isWhole(turn: OpenTurn): boolean {
    if (!turn.busObserved) return turn.hookEnded;
    if (!turn.runStarted || !turn.runCompleted || !turn.harnessEnded) return false;
    // calls are numbered <runId>:model:N from 1: a gap means a call not heard of yet
    let highest = 0;
    for (const call of turn.modelCalls.values()) {
      if (!call.busStarted) return false;
      if (Number.isFinite(call.sequence)) highest = Math.max(highest, call.sequence);
    }
    if (highest > turn.modelCalls.size) return false;
    for (const tool of turn.toolCalls.values()) if (!tool.busStarted) return false;
    return turn.harnessItemsStarted === undefined || turn.toolCalls.size >= turn.harnessItemsStarted;
  }

  function isReady(turn: OpenTurn): boolean {
    if (!hasEnded(turn)) return false;
    for (const call of turn.modelCalls.values()) if (isPending(turn, call)) return false;
    for (const tool of turn.toolCalls.values()) if (isPending(turn, tool)) return false;
    return true;
  }

  function close(turn: OpenTurn, reason?: TurnIncomplete["reason"]): void {
    open.delete(turn.runId);
    remember(closedRuns, turn.runId);
    if (turn.traceId !== undefined) {
      if (runByTrace.get(turn.traceId) === turn.runId) runByTrace.delete(turn.traceId);
      remember(closedTraces, turn.traceId);
    }
    if (reason === "evicted") counters.evicted += 1;
    const missing = reason === undefined ? [] : listMissing(turn);
    const incomplete = missing.length > 0 && reason !== undefined ? { reason, missing } : undefined;
    counters.assembled += 1;
    if (incomplete !== undefined) {
      counters.incomplete += 1;
      if (reason === "timeout") counters.timedOut += 1;
      if (reason === "shutdown") counters.shutdown += 1;
    }
    let record: Turn;
    try {
      record = toTurn(turn, options.pricing, incomplete);
      const senderId = record.sessionKey === undefined ? undefined : senders.get(record.sessionKey);
      if (senderId !== undefined) record.senderId = senderId;
    } catch (error) {
      warn("finalize", `could not finalize turn ${turn.runId.slice(0, 80)}: ${describeError(error)}`);
      return;
    }
    try {
      options.onTurn(record);
    } catch (error) {
      counters.onTurnErrors += 1;
      warn("on-turn", `onTurn failed for turn ${record.id.slice(0, 80)}: ${describeError(error)}`);
    }
  }

  function handleUsage(event: TurnEvent, at: number): void {
    const traceId = readString(readField(event, "trace"), "traceId", MAX_ID_LENGTH) ?? "";
    const runId = runByTrace.get(traceId);
    const turn = runId === undefined ? undefined : open.get(runId);
    if (turn !== undefined) {
      applyBusEvent(turn, event, limits);
      settle(turn, at);
      return;
    }
    if (closedTraces.has(traceId)) {
      counters.late += 1;
      return;
    }
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
        // the turn event types are trusted core events; an untrusted copy was forged by a plugin
        if (readField(metadata, "trusted") === false) {
          counters.untrusted += 1;
          counters.ignored += 1;
          return;
        }
        const at = now();
        const accepted = result.event;
        if (accepted.type === "model.usage") {
          handleUsage(accepted, at);
          return;
        }
        const traceId = readPath(accepted, "trace.traceId");
        const runId =
          readString(accepted, "runId", MAX_ID_LENGTH) ??
          (typeof traceId === "string" ? runByTrace.get(traceId) : undefined);
        if (runId === undefined) {
          counters.unattributed += 1;
          return;
        }
        if (closedRuns.has(runId)) {
          counters.late += 1;
          return;
        }
        const turn = turnFor(runId, at);
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
        if (closedRuns.has(result.runId)) {
          counters.late += 1;
          return;
        }
        const at = now();
        const turn = turnFor(result.runId, at);
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
          const settled = turn.endSeenAt !== undefined && hasEnded(turn) && at - turn.endSeenAt >= settleMs;
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
    },

    stats() {
      return { ...counters, open: open.size, pendingUsage: pendingUsage.size };
    },
  };
}

function positive(value: number | undefined, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : fallback;
}
