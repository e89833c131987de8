/**
 * The running knowledge base. Every failure in an assembled turn (failed model calls, failed and
 * blocked tools, incomplete turns) and on the bus (tool loops, stuck sessions) is fingerprinted on
 * the event path's later tick and written as an occurrence through a spooled pipeline, never from
 * the event path itself: a store that is down queues occurrences in the spool and loses none.
 *
 * Entries are recomputed from the store a few seconds after each minute, for the entries that
 * received occurrences; on the hour, every entry whose status may have changed with time alone
 * (gone quiet) is recomputed too.
 */
import { describeError, type PackService, type PackStartContext } from "@clawscope/kit";
import { createAuditTrail, openStore, toStoreOptions, toStoreSend } from "@clawscope/store";
import type { KnowledgeBaseConfig } from "./config.js";
import { type FailureObservation, toEventFailure, toTurnFailures } from "./domain/failure-signals.js";
import { toFingerprint } from "./domain/fingerprint.js";
import { compileFingerprintRules } from "./domain/fingerprint-rules.js";
import type { IssueEntry } from "./domain/issue-entry.js";
import { type Occurrence, toOccurrence } from "./domain/occurrence.js";
import { toCollections } from "./store/collections.js";
import { createEntryRepository } from "./store/entry-repository.js";

const HOUR_MS = 3_600_000;
/** Seconds after each minute entries are recomputed: the pipeline has written the minute's occurrences. */
const RECOMPUTE_AT_MS = 10_000;
/** Entries recomputed per minute at most; the rest wait for the next minute. */
const MAX_RECOMPUTE_PER_RUN = 500;

export const KNOWLEDGE_ROUTES: { path: string; match?: "prefix" }[] = [];

export async function startKnowledgeBase(
  context: PackStartContext<KnowledgeBaseConfig>,
): Promise<PackService> {
  const { config, logger, clock, gateway } = context;
  const store = await openStore({
    ...toStoreOptions(config.store, {
      stateDir: context.stateDir,
      collections: toCollections(config.occurrenceRetentionDays ?? 30),
    }),
    now: () => clock.now(),
    log: (level, message) => logger[level](message),
  });
  context.own(store, "store");
  const quietAfterMs = Math.round((config.quietAfterHours ?? 24) * HOUR_MS);
  const repository = createEntryRepository(store, {
    quietAfterMs,
    traceLinks: { ...(config.traceLinks ?? {}) },
    now: () => clock.now(),
  });
  const { rules, warnings } = compileFingerprintRules(
    Object.entries(config.fingerprintRules ?? {}).map(([id, rule]) => ({ id, ...rule })),
  );
  for (const warning of warnings) logger.warn(warning);
  const audit = createAuditTrail(context, store, gateway.id, () => clock.now(), "kb-audit");
  audit.record("gateway", "config.load", "ok", { rules: rules.length });

  /** Entries with occurrences written since their last recompute. */
  const dirty = new Set<string>();
  const writeOccurrences = toStoreSend(store.collection<Occurrence>("kb_occurrences"));
  const pipeline = context.createPipeline<Occurrence>("kb-occurrences", {
    async send(items) {
      const result = await writeOccurrences(items);
      if (result.kind === "ok") for (const item of items) dirty.add(item.payload.entry);
      return result;
    },
  });
  let observed = 0;
  const observe = (observation: FailureObservation) => {
    // host times moved onto the extension's clock (the same in production; a test's or the demo's
    // shifted clock otherwise), so quiet periods and trends compare like with like
    const shifted = { ...observation, ts: observation.ts + (clock.now() - Date.now()) };
    const fingerprint = toFingerprint(observation.signal, rules);
    const occurrence = toOccurrence(shifted, fingerprint, fingerprint.hash, gateway.id, context.hashId);
    observed += 1;
    pipeline.enqueue(occurrence.id, occurrence);
  };

  let recomputed = 0;
  let lastRecomputeError: string | undefined;
  const recompute = async (ids: Iterable<string>) => {
    let done = 0;
    for (const id of ids) {
      if (done >= MAX_RECOMPUTE_PER_RUN) break;
      const target = await repository.resolveTarget(id);
      await repository.recompute(target);
      if (target !== id) await repository.recompute(id);
      dirty.delete(id);
      done += 1;
      recomputed += 1;
    }
  };
  context.schedule("kb-recompute", { every: "minute", at: RECOMPUTE_AT_MS }, async (run) => {
    if (run.signal.aborted || dirty.size === 0) return;
    try {
      await recompute([...dirty]);
      lastRecomputeError = undefined;
    } catch (error) {
      // the entries stay dirty: the next minute tries again
      lastRecomputeError = describeError(error);
      throw error;
    }
  });
  context.schedule("kb-status", { every: "hour", at: ":02" }, async () => {
    // entries that may have gone quiet (or whose archive may have escalated) with time alone
    const candidates: IssueEntry[] = [];
    for (const state of ["open", "regressed", "archived"]) {
      candidates.push(...(await repository.entries.find({ where: { state } })));
    }
    const now = clock.now();
    await recompute(
      candidates
        .filter((entry) => entry.state === "archived" || now - entry.lastSeen >= quietAfterMs)
        .map((entry) => entry.id),
    );
  });

  return {
    onTurn(turn) {
      for (const observation of toTurnFailures(turn)) observe(observation);
    },
    onEvent(event) {
      const observation = toEventFailure(event);
      if (observation) observe(observation);
    },
    status: () => ({
      store: store.kind,
      observed,
      recomputed,
      pendingEntries: dirty.size,
      ...(lastRecomputeError ? { lastRecomputeError } : {}),
    }),
  };
}
