/**
 * The running knowledge base. Every failure in an assembled turn (failed model calls, failed and
 * blocked tools, incomplete turns) and on the bus (tool loops, stuck sessions) is fingerprinted on
 * the event path's later tick and written as an occurrence through a spooled pipeline, never from
 * the event path itself: a store that is down queues occurrences in the spool and loses none.
 *
 * Entries are recomputed from the store a few seconds after each minute: the entries that received
 * occurrences, and those whose status changed with time alone (gone quiet).
 */
import { randomUUID } from "node:crypto";
import {
  describeError,
  listRuntimes,
  type PackRouteSpec,
  type PackService,
  type PackStartContext,
  type PackToolSpec,
  publishPackGauges,
  redactText,
  toPrometheusText,
} from "@clawscope/kit";
import { createAuditTrail, openStore, toStoreOptions, toStoreSend } from "@clawscope/store";
import { createConceptRecorder } from "./concept-recorder.js";
import type { KnowledgeBaseConfig } from "./config.js";
import { type AlertRecord, toAlertFailure } from "./domain/alert.js";
import {
  type Concept,
  type ConceptLink,
  conceptId,
  type StoredConceptCounts,
  toConceptGraph,
} from "./domain/concept-graph.js";
import {
  type ConfigChange,
  type ConfigState,
  describeStoppingChange,
  findStoppingChange,
  toConfigChange,
  toConfigKeys,
} from "./domain/config-change.js";
import {
  type FailureObservation,
  type PackCounters,
  toEventFailure,
  toPackFailures,
  toTurnFailures,
} from "./domain/failure-signals.js";
import { toGroupingFingerprint } from "./domain/fingerprint.js";
import { compileFingerprintRules } from "./domain/fingerprint-rules.js";
import { type IssueEntry, isAffected } from "./domain/issue-entry.js";
import type { KnowledgeSource } from "./domain/knowledge-answer.js";
import { type Occurrence, toOccurrence } from "./domain/occurrence.js";
import { ALERT_WEBHOOK_PATH, answerAlertWebhook } from "./http/alert-webhook.js";
import { answerKnowledgeRoute, KNOWLEDGE_BASE_PATH } from "./http/knowledge-routes.js";
import { createKnowledgeView, type RecordedSolution } from "./knowledge-view.js";
import { toKnowledgeGauges } from "./mapping/to-gauges.js";
import { toCollections } from "./store/collections.js";
import { baselineOf, createEntryRepository, type EntryAction } from "./store/entry-repository.js";
import { answerKnowledgeTool, KB_QUERY_TOOL } from "./tools/kb-query-tool.js";

const HOUR_MS = 3_600_000;
/** Seconds after each minute entries are recomputed: the pipeline has written the minute's occurrences. */
const RECOMPUTE_AT_MS = 10_000;
/** Entries recomputed per minute at most; the rest wait for the next minute. */
const MAX_RECOMPUTE_PER_RUN = 500;
/** The concept graph covers the last 30 days and is rebuilt every 5 minutes. */
const GRAPH_WINDOW_MS = 30 * 86_400_000;
const GRAPH_EVERY_MS = 5 * 60_000;
const MAX_STORED_CONCEPTS = 5_000;
const MAX_STORED_LINKS = 20_000;

export const KNOWLEDGE_ROUTES: PackRouteSpec[] = [
  // a bad request, oversized included, gets 400 with one line
  { path: KNOWLEDGE_BASE_PATH, match: "prefix", maxBodyBytes: 1024 * 1024, tooLargeStatus: 400 },
  { path: "/api/knowledge-metrics" },
  // Alertmanager authenticates with its own token, checked by the handler
  { path: ALERT_WEBHOOK_PATH, auth: "plugin", maxBodyBytes: 4 * 1024 * 1024, tooLargeStatus: 400 },
];
export const KNOWLEDGE_TOOLS: PackToolSpec[] = [KB_QUERY_TOOL];

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
  const audit = createAuditTrail(context, store, gateway.id, () => clock.now(), "kb-audit");
  const quietAfterMs = Math.round((config.quietAfterHours ?? 24) * HOUR_MS);
  const learnWithinMs = Math.round((config.learnWithinHours ?? 1) * HOUR_MS);
  /** Entries that went quiet in the last recompute: a config change may explain why. */
  const quietened: IssueEntry[] = [];
  const repository = createEntryRepository(store, {
    quietAfterMs,
    traceLinks: { ...(config.traceLinks ?? {}) },
    now: () => clock.now(),
    onChange(entry, previous) {
      if (!previous)
        audit.record("analyzer", "kb.entry.created", "ok", { entry: entry.id, kind: entry.kind });
      else if (previous.state !== entry.state)
        audit.record("analyzer", "kb.entry.status", "ok", {
          entry: entry.id,
          from: previous.state,
          to: entry.state,
        });
      if (
        previous &&
        (previous.state === "open" || previous.state === "regressed") &&
        entry.state === "quiet"
      )
        quietened.push(entry);
    },
  });
  const { rules, warnings } = compileFingerprintRules(
    Object.entries(config.fingerprintRules ?? {}).map(([id, rule]) => ({ id, ...rule })),
  );
  for (const warning of warnings) logger.warn(warning);
  audit.record("gateway", "config.load", "ok", { rules: rules.length });

  // the gateway's config keys at this start, compared with the previous start's (hashes only)
  const configChanges = store.collection<ConfigChange>("kb_config_changes");
  let configToRecord: ConfigState | undefined = {
    id: gateway.id,
    gateway: gateway.id,
    ts: clock.now(),
    keys: toConfigKeys(context.hostConfig),
  };
  const recordConfig = async () => {
    const state = configToRecord;
    if (!state) return;
    const states = store.collection<ConfigState>("kb_config");
    const change = toConfigChange(await states.get(state.id), state);
    if (change) {
      await configChanges.upsert([change]);
      audit.record("gateway", "config.change", "ok", {
        keys: change.keys.join(","),
        changed: change.changed,
      });
    }
    await states.upsert([state]);
    configToRecord = undefined;
  };
  try {
    await recordConfig();
  } catch (error) {
    logger.warn(
      `could not record the gateway's config keys (tried again each minute): ${describeError(error)}`,
    );
  }
  const solutions = store.collection<RecordedSolution>("kb_solutions");
  /** Records a learned candidate for each entry that went quiet close to a config change. */
  const learnFromQuiet = async () => {
    if (quietened.length === 0) return;
    const entries = quietened.splice(0);
    try {
      const from = Math.min(...entries.map((entry) => entry.firstSeen));
      const changes = await configChanges.find({ from, sort: { field: "ts", order: "asc" }, limit: 10_000 });
      for (const entry of entries) {
        const change = findStoppingChange(entry, changes, learnWithinMs);
        if (!change) continue;
        const id = `learned:${entry.id}:${change.id}`;
        // another gateway of the fleet may have recorded it
        if (await solutions.get(id)) continue;
        await solutions.upsert([
          {
            id,
            entry: entry.id,
            ts: clock.now(),
            author: "knowledge-base",
            text: describeStoppingChange(change),
            source: "learned",
            evidence: { configChangedAt: change.ts, gateway: change.gateway, keys: change.keys },
          },
        ]);
        audit.record("analyzer", "kb.solution.learned", "ok", {
          entry: entry.id,
          configChangedAt: change.ts,
        });
      }
    } catch (error) {
      quietened.push(...entries);
      throw error;
    }
  };

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
    // an entry an older grouping version made keeps receiving what that version groups into it
    const fingerprint = toGroupingFingerprint(observation.signal, rules, (hash) =>
      view.current().byId.has(hash),
    );
    const occurrence = toOccurrence(shifted, fingerprint, fingerprint.hash, gateway.id, context.hashId);
    observed += 1;
    pipeline.enqueue(occurrence.id, occurrence);
    return occurrence;
  };

  const concepts = createConceptRecorder(gateway.id);
  const conceptPipeline = context.createPipeline<StoredConceptCounts>("kb-concepts", {
    send: toStoreSend(store.collection<StoredConceptCounts>("concept_counts")),
  });
  let graph: ReturnType<typeof toConceptGraph> = toConceptGraph([]);
  let graphAt = Number.NEGATIVE_INFINITY;
  /** Rebuilds the graph from every gateway's counts of the last 30 days, and stores it. */
  const rebuildGraph = async () => {
    const now = clock.now();
    const documents = await store
      .collection<StoredConceptCounts>("concept_counts")
      .find({ from: now - GRAPH_WINDOW_MS });
    graph = toConceptGraph(documents);
    graphAt = now;
    await store
      .collection<Concept & { computedAt: number; ts: number }>("concepts")
      .upsert(
        graph.concepts
          .slice(0, MAX_STORED_CONCEPTS)
          .map((concept) => ({ ...concept, computedAt: now, ts: now })),
      );
    await store
      .collection<ConceptLink & { computedAt: number; ts: number }>("concept_links")
      .upsert(graph.links.slice(0, MAX_STORED_LINKS).map((link) => ({ ...link, computedAt: now, ts: now })));
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
  const view = createKnowledgeView(store, () => clock.now());
  const source = (): KnowledgeSource => {
    const snapshot = view.current();
    return {
      ...snapshot,
      search: (text, limit) => snapshot.index.search(text, limit),
      graph,
      runbookFor: view.runbookFor,
    };
  };
  const refreshView = async () => {
    try {
      await view.refresh();
    } catch (error) {
      lastRecomputeError = describeError(error);
    }
  };
  /** The pack's own failures (exports, dropped input), read from every extension's health each minute. */
  const packCounters: PackCounters = new Map();
  const observePack = () => {
    const views = [];
    for (const runtime of listRuntimes()) {
      try {
        views.push(runtime.health());
      } catch {}
    }
    for (const observation of toPackFailures(views, packCounters, Date.now())) {
      const occurrence = observe(observation);
      concepts.addNodes([conceptId("issue", occurrence.entry)], occurrence.ts);
    }
  };
  context.schedule("kb-concepts", { every: "minute", at: RECOMPUTE_AT_MS / 2 }, async (run) => {
    if (run.signal.aborted) return;
    observePack();
    await recordConfig();
    for (const document of concepts.takeChanged()) conceptPipeline.enqueue(document.id, document);
    if (clock.now() - graphAt >= GRAPH_EVERY_MS) await rebuildGraph();
  });
  context.schedule("kb-recompute", { every: "minute", at: RECOMPUTE_AT_MS }, async (run) => {
    if (run.signal.aborted) return;
    // entries whose status may have changed with time alone (gone quiet)
    const now = clock.now();
    const quietening = view
      .current()
      .entries.filter(
        (entry) =>
          (entry.state === "open" || entry.state === "regressed") && now - entry.lastSeen >= quietAfterMs,
      )
      .map((entry) => entry.id);
    // every gateway of a fleet reads what the others wrote, even in a minute without its own failures
    if (dirty.size === 0 && quietening.length === 0) return refreshView();
    try {
      await recompute([...dirty, ...quietening]);
      await learnFromQuiet();
      await view.refresh();
      lastRecomputeError = undefined;
    } catch (error) {
      // the entries stay dirty: the next minute tries again
      lastRecomputeError = describeError(error);
      throw error;
    }
  });

  const addSolution = async (entry: string, text: string, author: string) => {
    const ts = clock.now();
    const solution: RecordedSolution = {
      id: randomUUID(),
      entry,
      ts,
      author: redactText(author).slice(0, 200),
      text: redactText(text).slice(0, 4_000),
      source: "operator",
    };
    await solutions.upsert([solution]);
    audit.record(solution.author, "kb.solution.add", "ok", { entry });
    await view.refresh();
  };
  const act = async (entry: string, action: EntryAction["action"], actor: string, into?: string) => {
    const ts = clock.now();
    const record: EntryAction = {
      id: randomUUID(),
      ts,
      entry,
      action,
      actor: redactText(actor).slice(0, 200),
      ...(into ? { into } : {}),
      ...(action === "archive" ? { baselinePerHour: baselineOf(view.current().byId.get(entry), ts) } : {}),
    };
    await repository.actions.upsert([record]);
    audit.record(record.actor, `kb.entry.${action}`, "ok", { entry, ...(into ? { into } : {}) });
    await repository.recompute(entry);
    if (into) await repository.recompute(into);
    await view.refresh();
  };
  context.registerHttpRoute(KNOWLEDGE_BASE_PATH, (request) =>
    answerKnowledgeRoute(request, {
      source,
      now: () => clock.now(),
      networkStats: () => graph.stats,
      addSolution,
      act,
    }),
  );
  const alertPipeline = context.createPipeline<AlertRecord>("kb-alerts", {
    send: toStoreSend(store.collection<AlertRecord>("alerts")),
  });
  let alertsReceived = 0;
  context.registerHttpRoute(ALERT_WEBHOOK_PATH, (request) =>
    answerAlertWebhook(request, {
      token: config.alertWebhook?.token,
      now: () => clock.now(),
      accept(alerts) {
        const active = view
          .current()
          .entries.filter((entry) => entry.state === "open" || entry.state === "regressed");
        for (const alert of alerts) {
          alertsReceived += 1;
          alert.entries = linkedEntries(alert, active);
          alertPipeline.enqueue(alert.id, alert);
          if (alert.status !== "firing") continue;
          const occurrence = observe(toAlertFailure(alert));
          concepts.addNodes(
            [
              conceptId("alert", alert.name),
              conceptId("issue", occurrence.entry),
              ...alert.entries.map((entry) => conceptId("issue", entry)),
              ...(alert.labels.provider ? [conceptId("provider", alert.labels.provider)] : []),
              ...(alert.labels.model ? [conceptId("model", alert.labels.model)] : []),
              ...(alert.labels.tool ? [conceptId("tool", alert.labels.tool)] : []),
            ],
            occurrence.ts,
          );
        }
      },
    }),
  );
  const readGauges = () => toKnowledgeGauges(view.current().entries, clock.now());
  context.own({ close: publishPackGauges(context.pluginId, readGauges) }, "published gauges");
  context.registerHttpRoute("/api/knowledge-metrics", (request) =>
    request.method === "GET"
      ? { text: toPrometheusText(readGauges()), contentType: "text/plain; version=0.0.4; charset=utf-8" }
      : { status: 405, json: { error: "method not allowed: use GET" } },
  );
  context.registerTool(KB_QUERY_TOOL.name, (params) => answerKnowledgeTool(source(), params));
  await refreshView();

  return {
    onTurn(turn) {
      const occurrences = toTurnFailures(turn).map(observe);
      concepts.addTurn(turn, occurrences, turn.endedAt + (clock.now() - Date.now()));
    },
    onEvent(event) {
      const observation = toEventFailure(event);
      if (!observation) return;
      const occurrence = observe(observation);
      concepts.addNodes(
        [
          conceptId("issue", occurrence.entry),
          ...(occurrence.tool ? [conceptId("tool", occurrence.tool)] : []),
          ...(occurrence.category ? [conceptId("category", occurrence.category)] : []),
        ],
        occurrence.ts,
      );
    },
    status: () => ({
      store: store.kind,
      observed,
      recomputed,
      alertsReceived,
      pendingEntries: dirty.size,
      ...(lastRecomputeError ? { lastRecomputeError } : {}),
    }),
  };
}

/** The active entries an alert is about: the same provider, model, tool or agent as its labels. */
function linkedEntries(alert: AlertRecord, active: readonly IssueEntry[]): string[] {
  const { provider, model, tool, agent } = alert.labels;
  if (!provider && !model && !tool && !agent) return [];
  return active
    .filter(
      (entry) =>
        entry.kind !== "alert" &&
        (provider === undefined || entry.provider === provider) &&
        (model === undefined || entry.model === model || isAffected(entry.affected.models, model)) &&
        (tool === undefined || entry.tool === tool) &&
        (agent === undefined || isAffected(entry.affected.agents, agent)),
    )
    .sort((left, right) => right.lastSeen - left.lastSeen)
    .slice(0, 20)
    .map((entry) => entry.id);
}
