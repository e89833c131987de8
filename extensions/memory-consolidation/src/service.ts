/**
 * The running extension. Each assembled turn becomes one fact record (`turn_facts`, by turn id),
 * written through a spooled pipeline, never from the event path. A scheduled job rolls the minutes
 * that received facts up into `metrics`, five seconds after each minute; at start it also rolls up
 * the recent minutes that hold facts, so facts written just before a crash (or re-sent from the
 * spool after it) reach the rollups. Every write is idempotent: a fact by turn id, a rollup by
 * gateway, minute and dimensions.
 *
 * On the hour, a snapshot of the hour that ended: its figures from the rollups (the minutes still
 * dirty are rolled up first), what the operational events said, the pack's health, the process,
 * the versions and the config hash. Its id is the gateway and the hour: one per hour, also after a
 * restart inside it.
 *
 * Each day at `consolidation.at` in its time zone (01:00 UTC by default), the previous day is
 * consolidated for the fleet and for each gateway; days no gateway consolidated (all were down, or
 * the one holding the day's lease died) are caught up at start and every hour, oldest first.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import {
  describeError,
  listRuntimes,
  type PackService,
  type PackStartContext,
  publishPackGauges,
  toPrometheusText,
} from "@clawscope/kit";
import { createAuditTrail, openStore, toStoreOptions, toStoreSend } from "@clawscope/store";
import packageJson from "../package.json" with { type: "json" };
import type { MemoryConfig } from "./config.js";
import { createConsolidator, toConsolidationSettings } from "./consolidator.js";
import { createDigestDelivery } from "./digest-delivery.js";
import { toConfigHash } from "./domain/config-hash.js";
import type { Consolidation } from "./domain/consolidation.js";
import { createActivityTracker } from "./domain/hour-activity.js";
import { type HourSnapshot, type PackHealthEntry, toHourSnapshot } from "./domain/hour-snapshot.js";
import { type TurnFact, toTurnFact } from "./domain/turn-fact.js";
import { answerConsolidation, CONSOLIDATION_ROUTE } from "./http/consolidation-routes.js";
import { answerPersistenceHealth } from "./http/persistence-health.js";
import { answerExport, answerHistorical } from "./http/persistence-reads.js";
import { toGaugeReadings } from "./mapping/to-gauges.js";
import { createRollupJob } from "./rollup-job.js";
import { COLLECTIONS } from "./store/collections.js";
import { createConsolidationRepository, FLEET } from "./store/consolidation-repository.js";
import { createRollupRepository } from "./store/rollup-repository.js";
import { resolveDigestChannels } from "./transport/digest-channels.js";

export const MEMORY_ROUTES = [
  { path: "/api/persistence/health" },
  { path: "/api/persistence/historical" },
  { path: "/api/persistence/export" },
  { path: "/api/persistence/metrics" },
  { path: CONSOLIDATION_ROUTE, match: "prefix" as const },
];

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

  const rollups = createRollupJob({
    repository,
    gateway: gateway.id,
    recomputeHours: config.recomputeHours ?? 3,
    now: () => clock.now(),
  });
  let facts = 0;
  const writeFacts = toStoreSend(store.collection<TurnFact>("turn_facts"));
  const pipeline = context.createPipeline<TurnFact>("memory-facts", {
    async send(items) {
      const result = await writeFacts(items);
      if (result.kind === "ok") rollups.markWritten(items.map((item) => item.payload.ts));
      return result;
    },
  });
  const settings = toConsolidationSettings(config);
  const consolidations = createConsolidationRepository(store);
  const consolidator = createConsolidator({
    ...settings,
    store,
    repository: consolidations,
    holder: gateway.id,
    now: () => clock.now(),
    logger,
  });
  // what Prometheus reads (through clawscope-otel, or /api/persistence/metrics): refreshed from the
  // store after each consolidation job, since another gateway of the fleet may have made the latest
  let latestFleet: Consolidation | undefined;
  let lastSnapshotAt: number | undefined;
  const readGauges = () => toGaugeReadings({ budget: settings.budget, latest: latestFleet, lastSnapshotAt });
  context.own({ close: publishPackGauges(context.pluginId, readGauges) }, "published gauges");
  const refreshGauges = async () => {
    latestFleet = (await consolidations.latest(FLEET)) ?? latestFleet;
    if (lastSnapshotAt === undefined) {
      const [newest] = await store
        .collection<HourSnapshot>("snapshots")
        .find({ where: { gateway: gateway.id }, sort: { field: "ts", order: "desc" }, limit: 1 });
      if (newest) lastSnapshotAt = newest.takenAt;
    }
  };
  const configHash = toConfigHash(config);
  const audit = createAuditTrail(context, store, gateway.id, () => clock.now(), "memory-audit");
  audit.record("gateway", "config.load", "ok", { configHash });
  const channels = resolveDigestChannels(config.digest);
  for (const warning of channels.warnings) logger.warn(warning);
  const digests = createDigestDelivery({
    store,
    gateway: gateway.id,
    email: channels.email,
    slack: channels.slack,
    linkUrl: config.digest?.linkUrl,
    createPipeline: context.createPipeline,
    now: () => clock.now(),
    logger,
  });
  // when another gateway holds a day's lease: look again once it expires (it may have died holding it)
  let retryConsolidationAt: number | undefined;
  const auditedCatchUp = async (actor: string) => {
    try {
      const { done, busyUntil } = await consolidator.catchUp();
      for (const date of done) audit.record(actor, "consolidate", "ok", { date });
      retryConsolidationAt = busyUntil;
    } catch (error) {
      audit.record(actor, "consolidate", "failed", { error: describeError(error) });
      throw error;
    }
  };
  const auditedConsolidator = {
    ...consolidator,
    async run(date: string) {
      try {
        const record = await consolidator.run(date);
        audit.record("api", "consolidate", record ? "ok" : "skipped", { date });
        if (record) {
          latestFleet = record.date >= (latestFleet?.date ?? "") ? record : latestFleet;
          await digests.sweep().catch((error: unknown) => logger.warn(`digest: ${describeError(error)}`));
        }
        return record;
      } catch (error) {
        audit.record("api", "consolidate", "failed", { date, error: describeError(error) });
        throw error;
      }
    },
  };

  // days missed while no gateway ran are consolidated within a minute of the next start
  let catchUpPending = true;
  context.schedule("rollups", { every: "minute", at: ROLLUP_AT_MS }, async (run) => {
    if (run.signal.aborted) return;
    await rollups.run();
    if (retryConsolidationAt !== undefined && clock.now() >= retryConsolidationAt) {
      retryConsolidationAt = undefined;
      await auditedCatchUp("takeover");
      await refreshGauges();
      await digests.sweep();
    }
    if (catchUpPending) {
      await auditedCatchUp("start");
      catchUpPending = false;
      await refreshGauges();
      // digests a crash or a restart left unsent
      await digests.sweep();
    }
  });
  const activity = createActivityTracker();
  const eventLoop = monitorEventLoopDelay({ resolution: 20 });
  eventLoop.enable();
  context.own({ close: () => eventLoop.disable() }, "event-loop monitor");
  const snapshots = context.createPipeline<HourSnapshot>("memory-snapshots", {
    send: toStoreSend(store.collection<HourSnapshot>("snapshots")),
  });
  let lastSnapshot: { hour: number; at: number } | undefined;

  context.schedule("snapshot", { every: "hour" }, async (run) => {
    const hour = run.slot - HOUR_MS;
    await rollups.run();
    const hourRollups = await repository.rollups({ gateway: gateway.id, from: hour, to: run.slot });
    const ns = eventLoop.count > 0 ? eventLoop.percentile(99) : Number.NaN;
    eventLoop.reset();
    const memory = process.memoryUsage();
    const snapshot = toHourSnapshot({
      gateway: gateway.id,
      hour,
      takenAt: clock.now(),
      rollups: hourRollups,
      activity: activity.read(hour),
      pack: readPackHealth(),
      process: {
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
        eventLoopDelayP99Ms: Number.isFinite(ns) ? Math.round(ns / 1e4) / 100 : null,
      },
      versions: {
        [context.pluginId]: packageJson.version,
        node: process.versions.node,
      },
      configHash,
    });
    snapshots.enqueue(snapshot.id, snapshot);
    lastSnapshot = { hour, at: clock.now() };
    lastSnapshotAt = lastSnapshot.at;
  });

  const consolidationJob = async () => {
    // the last minutes of the day must be in the rollups before the day is read
    await rollups.run();
    await auditedCatchUp("schedule");
    await refreshGauges();
    // yesterday's digest, and any a restart or a dead fleet member left unsent
    await digests.sweep();
  };
  context.schedule(
    "consolidation",
    { every: "day", at: settings.at, timeZone: settings.timeZone },
    consolidationJob,
  );
  // days missed while this gateway (or the one that took them) was down: at the next hour, oldest first
  context.schedule("consolidation-catch-up", { every: "hour", at: ":20" }, consolidationJob);
  context.registerHttpRoute("/api/persistence/historical", (request) =>
    answerHistorical(request, store, clock.now()),
  );
  context.registerHttpRoute("/api/persistence/export", (request) => answerExport(request, store));
  context.registerHttpRoute("/api/persistence/metrics", (request) =>
    request.method === "GET"
      ? { text: toPrometheusText(readGauges()), contentType: "text/plain; version=0.0.4; charset=utf-8" }
      : { status: 405, json: { error: "method not allowed: use GET" } },
  );
  context.registerHttpRoute(CONSOLIDATION_ROUTE, (request) =>
    answerConsolidation(request, consolidations, auditedConsolidator, () => clock.now()),
  );

  context.schedule("retention", { every: "hour", at: ":07" }, async () => {
    const removed = await store.applyRetention();
    const total = Object.values(removed).reduce((sum, count) => sum + count, 0);
    if (total > 0) logger.info(`retention removed ${total} record(s): ${JSON.stringify(removed)}`);
  });

  context.registerHttpRoute("/api/persistence/health", (request) =>
    answerPersistenceHealth(request, store, () => {
      const stats = pipeline.stats();
      return {
        gateway,
        lastRollup: rollups.lastRollup,
        lastSnapshot: async () => {
          const [newest] = await store
            .collection<HourSnapshot>("snapshots")
            .find({ where: { gateway: gateway.id }, sort: { field: "ts", order: "desc" }, limit: 1 });
          return newest ? { ts: newest.ts, takenAt: newest.takenAt } : undefined;
        },
        pendingFacts: stats.pendingMemory + stats.pendingSpool,
      };
    }),
  );

  return {
    onEvent(event) {
      activity.add(event);
    },
    onTurn(turn) {
      facts += 1;
      pipeline.enqueue(turn.id, toTurnFact(turn, gateway.id));
    },
    status: () => ({
      store: store.health(),
      facts,
      dirtyMinutes: rollups.dirtyMinutes,
      ...(rollups.lastRollup ? { lastRollupAt: rollups.lastRollup.at } : {}),
      ...(lastSnapshot ? { lastSnapshotHour: lastSnapshot.hour } : {}),
    }),
  };
}

/** Every clawscope extension's health in this process, as the snapshot keeps it. */
function readPackHealth(): Record<string, PackHealthEntry> {
  const pack: Record<string, PackHealthEntry> = {};
  for (const runtime of listRuntimes()) {
    try {
      const health = runtime.health();
      pack[runtime.pluginId] = {
        state: health.state,
        exported: health.export.exported,
        retried: health.export.retried,
        spooled: health.export.spooled,
        pending: health.export.pending,
        dropped: health.export.dropped,
        ...(health.lastError ? { lastError: health.lastError.message } : {}),
      };
    } catch {
      // one extension's broken health does not cost the snapshot
    }
  }
  return pack;
}
