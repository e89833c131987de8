/**
 * The running extension. Each assembled turn becomes one fact record (`turn_facts`, by turn id),
 * written through a spooled pipeline, never from the event path. A scheduled job rolls the minutes
 * that received facts up into `metrics`, five seconds after each minute; at start it also rolls up
 * the recent minutes that hold facts, so facts written just before a crash (or re-sent from the
 * spool after it) reach the rollups. Every write is idempotent: a fact by turn id, a rollup by
 * gateway, minute and dimensions.
 */
import type { PackService, PackStartContext } from "@clawscope/kit";
import { openStore, toStoreOptions, toStoreSend } from "@clawscope/store";
import type { MemoryConfig } from "./config.js";
import { MINUTE_MS, type TurnFact, toTurnFact } from "./domain/turn-fact.js";
import { answerPersistenceHealth } from "./http/persistence-health.js";
import { COLLECTIONS } from "./store/collections.js";
import { createRollupRepository } from "./store/rollup-repository.js";

export const MEMORY_ROUTES = [{ path: "/api/persistence/health" }];

/** Seconds after each minute the rollup runs: the pipeline has had time to write the minute's last facts. */
const ROLLUP_AT_MS = 5_000;
const HOUR_MS = 3_600_000;

export async function startMemory(context: PackStartContext<MemoryConfig>): Promise<PackService> {
  const { config, logger, clock, gateway } = context;
  const store = await openStore({
    ...toStoreOptions(config.store, { stateDir: context.stateDir, collections: COLLECTIONS }),
    now: () => clock.now(),
    log: (level, message) => logger[level](message),
  });
  context.own(store, "store");
  const repository = createRollupRepository(store);

  // minutes whose facts changed since they were last rolled up
  const dirty = new Set<number>();
  let scanPending = (config.recomputeHours ?? 3) > 0;
  let lastRollup: { at: number; minutes: number } | undefined;
  let facts = 0;

  const writeFacts = toStoreSend(store.collection<TurnFact>("turn_facts"));
  const pipeline = context.createPipeline<TurnFact>("memory-facts", {
    async send(items) {
      const result = await writeFacts(items);
      if (result.kind === "ok") for (const item of items) dirty.add(item.payload.ts);
      return result;
    },
  });

  context.schedule("rollups", { every: "minute", at: ROLLUP_AT_MS }, async (run) => {
    if (scanPending) {
      const hours = config.recomputeHours ?? 3;
      const now = clock.now();
      for (const minute of await repository.minutesWithFacts(
        gateway.id,
        now - hours * HOUR_MS,
        now + MINUTE_MS,
      ))
        dirty.add(minute);
      scanPending = false;
    }
    const minutes = [...dirty];
    if (minutes.length === 0 || run.signal.aborted) return;
    await repository.rollUp(gateway.id, minutes);
    // only what was rolled up leaves the set: facts written meanwhile mark their minute again
    for (const minute of minutes) dirty.delete(minute);
    lastRollup = { at: clock.now(), minutes: minutes.length };
  });
  context.schedule("retention", { every: "hour", at: ":07" }, async () => {
    const removed = await store.applyRetention();
    const total = Object.values(removed).reduce((sum, count) => sum + count, 0);
    if (total > 0) logger.info(`retention removed ${total} record(s): ${JSON.stringify(removed)}`);
  });

  context.registerHttpRoute("/api/persistence/health", (request) =>
    answerPersistenceHealth(request, store, () => ({
      gateway,
      lastRollup,
      pendingFacts: pipeline.stats().pendingMemory + pipeline.stats().pendingSpool,
    })),
  );

  return {
    onTurn(turn) {
      facts += 1;
      pipeline.enqueue(turn.id, toTurnFact(turn, gateway.id));
    },
    status: () => ({
      store: store.health(),
      facts,
      dirtyMinutes: dirty.size,
      ...(lastRollup ? { lastRollupAt: lastRollup.at } : {}),
    }),
  };
}
