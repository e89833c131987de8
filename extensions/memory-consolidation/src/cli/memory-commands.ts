/**
 * `openclaw clawscope consolidate [--date D]` and `openclaw clawscope history [--days N]`. They run in
 * the CLI process against the same store the gateway writes (its SQLite file, or the fleet's
 * MongoDB), so they work while the gateway runs and after it stopped. `consolidate` takes the day's
 * lease like any gateway of the fleet, so it never races a scheduled run, and writes its run to
 * `audit_logs` with the actor `cli`.
 */
import { existsSync } from "node:fs";
import { describeError, type PackCommandContext, type PackCommandSpec } from "@clawscope/kit";
import type { AuditRecord } from "@clawscope/store";
import { openStore, type Store, toStoreOptions } from "@clawscope/store";
import type { MemoryConfig } from "../config.js";
import { createConsolidator, toConsolidationSettings } from "../consolidator.js";
import { readHistory } from "../http/persistence-reads.js";
import { COLLECTIONS } from "../store/collections.js";
import { createConsolidationRepository } from "../store/consolidation-repository.js";

type Context = PackCommandContext<MemoryConfig>;

async function withStore<T>(context: Context, work: (store: Store) => Promise<T>): Promise<T> {
  const options = toStoreOptions(context.config.store, {
    stateDir: context.stateDir,
    collections: COLLECTIONS,
  });
  // reading a store that does not exist would create an empty one and answer nothing useful
  if (options.kind === "sqlite" && !existsSync(options.path))
    throw new Error(
      `no memory store at ${options.path}: has the gateway run with clawscope-memory-consolidation? (--state-dir names another gateway's state dir)`,
    );
  const store = await openStore({ ...options, log: () => undefined });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

async function consolidate(context: Context): Promise<void> {
  const now = Date.now();
  await withStore(context, async (store) => {
    const consolidator = createConsolidator({
      ...toConsolidationSettings(context.config),
      store,
      repository: createConsolidationRepository(store),
      holder: `${context.gateway.id}/cli`,
      now: () => now,
      logger: { info: () => undefined, warn: (message) => process.stderr.write(`${message}\n`) },
    });
    const today = consolidator.dayOf(now);
    const date =
      typeof context.options.date === "string"
        ? context.options.date
        : consolidator.dayOf(today.from - 1).date;
    const day = consolidator.dayNamed(date);
    if (!day) throw new Error(`--date "${date.slice(0, 20)}" is not a date (YYYY-MM-DD)`);
    if (day.from >= today.from)
      throw new Error(
        `--date ${date} has not ended yet in ${toConsolidationSettings(context.config).timeZone}`,
      );
    let outcome: AuditRecord["outcome"] = "failed";
    try {
      const record = await consolidator.run(date);
      outcome = record ? "ok" : "skipped";
      if (!record)
        throw new Error(`another gateway is consolidating ${date} right now; try again in a few minutes`);
      if (context.json) context.print(JSON.stringify(record, null, 2));
      else
        context.print(
          `consolidated ${date}: ${record.summary}\nread it: GET /api/consolidation/${date}?format=markdown`,
        );
    } finally {
      await writeAudit(store, context, now, outcome, date);
    }
  });
}

async function writeAudit(
  store: Store,
  context: Context,
  now: number,
  outcome: AuditRecord["outcome"],
  date: string,
) {
  const id = `${context.gateway.id}:${now}:${process.pid}:cli`;
  const record: AuditRecord = {
    id,
    ts: now,
    gateway: context.gateway.id,
    actor: "cli",
    action: "consolidate",
    outcome,
    detail: { date },
  };
  await store
    .collection<AuditRecord>("audit_logs")
    .upsert([record])
    .catch((error: unknown) => process.stderr.write(`audit log not written: ${describeError(error)}\n`));
}

async function history(context: Context): Promise<void> {
  const raw = typeof context.options.days === "string" ? context.options.days : "30";
  const days = Number(raw);
  if (!/^\d{1,3}$/.test(raw) || days < 1 || days > 366)
    throw new Error(`--days must be a whole number from 1 to 366, not ${JSON.stringify(raw.slice(0, 20))}`);
  const rows = await withStore(context, (store) => readHistory(store, Date.now(), days));
  if (context.json) {
    context.print(JSON.stringify({ days, timeZone: "UTC", history: rows }, null, 2));
    return;
  }
  const lines = ["date        turns      tokens        cost  failed calls  tool failures  consolidated"];
  for (const row of rows)
    lines.push(
      [
        row.date,
        String(row.turns).padStart(7),
        String(row.tokens).padStart(11),
        `$${row.costUsd.toFixed(4)}`.padStart(11),
        String(row.errors.failedModelCalls).padStart(13),
        String(row.errors.toolFailures).padStart(14),
        row.consolidated ? "  yes" : "  no",
      ].join(" "),
    );
  context.print(lines.join("\n"));
}

export const MEMORY_COMMANDS: readonly PackCommandSpec<MemoryConfig>[] = [
  {
    name: "consolidate",
    description:
      "consolidate a day now (default: yesterday in consolidation.timeZone), for the fleet and each gateway; replaces an earlier consolidation of it",
    options: [{ flags: "--date <YYYY-MM-DD>", description: "the day to consolidate" }],
    run: consolidate,
  },
  {
    name: "history",
    description:
      "per UTC day: turns, tokens, cost, failed model calls, tool failures, and whether it is consolidated",
    options: [{ flags: "--days <n>", description: "how many days back, today included (1-366, default 30)" }],
    run: history,
  },
];
