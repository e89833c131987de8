/**
 * Per-extension health: what it saw, assembled, exported, retried, spooled and dropped, and its last
 * error. Reported through the host's `serviceHealth`, a gateway RPC method, a status file the
 * `openclaw clawscope status` command reads, and the extension's own status().
 */
import type { PipelineStats } from "../export/types.js";
import { toLogText } from "../privacy/log-text.js";
import type { ScheduleStats } from "../runtime/scheduler.js";

/** A point-in-time view of one extension's health. */
export interface HealthSnapshot {
  pluginId: string;
  state: "starting" | "running" | "disabled" | "stopped";
  /** Why the extension is disabled (a config error, for instance). */
  disabledReason?: string;
  startedAt?: number;
  at: number;
  /**
   * Bus events delivered; malformed and ignored also count input the turn assembler refused (hooks
   * included); overflowed counts input dropped because the extension's input queue was full.
   */
  events: { seen: number; malformed: number; ignored: number; overflowed: number };
  /**
   * Turns exported; `retried` of them the host ran more than once (retries, fallbacks); `amended`:
   * exported again under the same ids after late input changed them; `late`: input that came after
   * its turn could no longer be amended, dropped.
   */
  turns: {
    assembled: number;
    incomplete: number;
    open: number;
    retried: number;
    amended: number;
    late: number;
  };
  export: {
    exported: number;
    retried: number;
    spooled: number;
    /** Items not yet delivered: in memory or on disk. */
    pending: number;
    /** Of `pending`, the items on disk: they survive a crash. */
    pendingOnDisk: number;
    dropped: number;
    deadLettered: number;
    authPaused: boolean;
  };
  lastError?: { message: string; at: number };
  /** The extension's scheduled jobs (present when it has any): runs, failures, durations, next run. */
  schedules?: Record<string, ScheduleStats>;
  warnings: string[];
  /** Extension-specific figures (backend URL without secrets, experiment id, and so on). */
  details: Record<string, unknown>;
}

/** The mutable recorder behind a snapshot. */
export interface HealthRecorder {
  setState: (state: HealthSnapshot["state"], reason?: string) => void;
  countEvent: (kind: "seen" | "malformed" | "ignored") => void;
  countTurn: (incomplete: boolean) => void;
  recordError: (message: string) => void;
  addWarning: (message: string) => void;
  /** Pulls pipeline counters at snapshot time (several pipelines add up). */
  attachPipeline: (stats: () => PipelineStats) => void;
  /** Pulls the assembler's own turn counts at snapshot time. */
  attachTurnCounts: (read: () => { open: number; retried: number; amended: number; late: number }) => void;
  /** Adds counts kept elsewhere (the turn assembler's refused input, the input queue's overflow) to `events`. */
  attachInputCounts: (read: () => { malformed?: number; ignored?: number; overflowed?: number }) => void;
  /** Pulls the scheduler's per-job figures at snapshot time. */
  attachSchedules: (read: () => Record<string, ScheduleStats>) => void;
  setDetail: (key: string, value: unknown) => void;
  snapshot: () => HealthSnapshot;
}

const MAX_WARNINGS = 20;

/** Creates an empty health recorder for one extension. */
export function createHealthRecorder(pluginId: string, now: () => number = Date.now): HealthRecorder {
  let state: HealthSnapshot["state"] = "starting";
  let disabledReason: string | undefined;
  let startedAt: number | undefined;
  const events = { seen: 0, malformed: 0, ignored: 0, overflowed: 0 };
  const turns = { assembled: 0, incomplete: 0 };
  let lastError: HealthSnapshot["lastError"];
  const warnings: string[] = [];
  const pipelines: Array<() => PipelineStats> = [];
  let readTurnCounts: () => { open: number; retried: number; amended: number; late: number } = () => ({
    open: 0,
    retried: 0,
    amended: 0,
    late: 0,
  });
  const inputCounts: Array<() => { malformed?: number; ignored?: number; overflowed?: number }> = [];
  const details: Record<string, unknown> = {};
  let readSchedules: (() => Record<string, ScheduleStats>) | undefined;
  return {
    setState(next, reason) {
      state = next;
      disabledReason = next === "disabled" ? reason : undefined;
      if (next === "running") startedAt = now();
    },
    countEvent(kind) {
      events[kind] += 1;
    },
    countTurn(incomplete) {
      turns.assembled += 1;
      if (incomplete) turns.incomplete += 1;
    },
    recordError(message) {
      lastError = { message: toLogText(message, 500), at: now() };
    },
    addWarning(message) {
      if (!warnings.includes(message) && warnings.length < MAX_WARNINGS) warnings.push(message);
    },
    attachPipeline(stats) {
      pipelines.push(stats);
    },
    attachTurnCounts(read) {
      readTurnCounts = read;
    },
    attachInputCounts(read) {
      inputCounts.push(read);
    },
    attachSchedules(read) {
      readSchedules = read;
    },
    setDetail(key, value) {
      details[key] = value;
    },
    snapshot() {
      const exported = {
        exported: 0,
        retried: 0,
        spooled: 0,
        pending: 0,
        pendingOnDisk: 0,
        dropped: 0,
        deadLettered: 0,
        authPaused: false,
      };
      let pipelineError: HealthSnapshot["lastError"];
      for (const read of pipelines) {
        try {
          const stats = read();
          exported.exported += stats.exported;
          exported.retried += stats.retried;
          exported.spooled += stats.spooled;
          exported.pending += stats.pendingMemory + stats.pendingSpool;
          exported.pendingOnDisk += stats.pendingSpool;
          exported.dropped += Object.values(stats.dropped).reduce((sum, count) => sum + count, 0);
          exported.deadLettered += stats.deadLettered;
          exported.authPaused ||= stats.authPaused;
          if (stats.lastError && (!pipelineError || stats.lastError.at > pipelineError.at))
            pipelineError = stats.lastError;
        } catch {}
      }
      const newestError = !lastError
        ? pipelineError
        : !pipelineError
          ? lastError
          : lastError.at >= pipelineError.at
            ? lastError
            : pipelineError;
      let turnCounts = { open: 0, retried: 0, amended: 0, late: 0 };
      try {
        const counts = readTurnCounts();
        turnCounts = {
          open: counts.open,
          retried: counts.retried,
          amended: counts.amended,
          late: counts.late,
        };
      } catch {}
      const seenEvents = { ...events };
      for (const read of inputCounts) {
        try {
          const counts = read();
          seenEvents.malformed += counts.malformed ?? 0;
          seenEvents.ignored += counts.ignored ?? 0;
          seenEvents.overflowed += counts.overflowed ?? 0;
        } catch {}
      }
      let schedules: Record<string, ScheduleStats> | undefined;
      try {
        const read = readSchedules?.();
        if (read && Object.keys(read).length > 0) schedules = read;
      } catch {}
      return {
        pluginId,
        state,
        ...(disabledReason ? { disabledReason } : {}),
        ...(startedAt ? { startedAt } : {}),
        at: now(),
        events: seenEvents,
        turns: { ...turns, ...turnCounts },
        export: exported,
        ...(newestError ? { lastError: newestError } : {}),
        ...(schedules ? { schedules } : {}),
        warnings: [...warnings],
        details: { ...details },
      };
    },
  };
}

/** One line per extension for humans (CLI and logs). */
export function formatHealthLine(snapshot: HealthSnapshot): string {
  const parts = [
    `${snapshot.pluginId}: ${snapshot.state}${snapshot.disabledReason ? ` (${snapshot.disabledReason})` : ""}`,
    `events ${snapshot.events.seen} (malformed ${snapshot.events.malformed})`,
    `turns ${snapshot.turns.assembled} (incomplete ${snapshot.turns.incomplete}, open ${snapshot.turns.open}, retried ${snapshot.turns.retried ?? 0}, amended ${snapshot.turns.amended ?? 0}, late ${snapshot.turns.late ?? 0})`,
    `exported ${snapshot.export.exported}, retried ${snapshot.export.retried}, spooled ${snapshot.export.spooled}, pending ${snapshot.export.pending}, dropped ${snapshot.export.dropped}`,
  ];
  if (snapshot.export.authPaused) parts.push("PAUSED: backend rejected credentials");
  if (snapshot.lastError)
    parts.push(`last error ${new Date(snapshot.lastError.at).toISOString()}: ${snapshot.lastError.message}`);
  return parts.join("; ");
}
