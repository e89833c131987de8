/**
 * `GET /api/persistence/historical?days=N` (per day: turns, tokens, cost, errors, consolidations)
 * and `GET /api/persistence/export` (the collections and their sizes), behind gateway auth.
 */
import { stat } from "node:fs/promises";
import type { PackHttpRequest, PackHttpResponse } from "@clawscope/kit";
import type { Store } from "@clawscope/store";
import type { Consolidation } from "../domain/consolidation.js";
import { ROLLUP_FIGURES, type RollupFigure } from "../domain/turn-fact.js";
import { FLEET } from "../store/consolidation-repository.js";

const DAY_MS = 86_400_000;

export async function answerHistorical(
  request: PackHttpRequest,
  store: Store,
  now: number,
): Promise<PackHttpResponse> {
  if (request.method !== "GET") return { status: 405, json: { error: "method not allowed: use GET" } };
  const raw = request.query.get("days") ?? "30";
  const days = Number(raw);
  if (!/^\d{1,3}$/.test(raw) || days < 1 || days > 366)
    return {
      status: 400,
      json: {
        error: `parameter "days" must be a whole number from 1 to 366, not ${JSON.stringify(raw).slice(0, 20)}`,
      },
    };
  return { status: 200, json: { days, timeZone: "UTC", history: await readHistory(store, now, days) } };
}

export interface HistoryDay {
  date: string;
  turns: number;
  tokens: number;
  costUsd: number;
  costUnknownTurns: number;
  errors: { failedModelCalls: number; toolFailures: number };
  consolidated: boolean;
}

/** The last `days` UTC days up to today's, oldest first, from the minute rollups of every gateway. */
export async function readHistory(store: Store, now: number, days: number): Promise<HistoryDay[]> {
  const to = Math.floor(now / DAY_MS) * DAY_MS + DAY_MS;
  const from = to - days * DAY_MS;
  const rows = await store
    .collection("metrics")
    .aggregate({ from, to, groupBy: ["day"], sum: [...ROLLUP_FIGURES] });
  const consolidated = new Set(
    (await store.collection<Consolidation>("consolidations").find({ where: { scope: FLEET }, from, to })).map(
      (record) => record.date,
    ),
  );
  const byDay = new Map(rows.map((row) => [String(row.group.day), row.sums]));
  const out: HistoryDay[] = [];
  for (let start = from; start < to; start += DAY_MS) {
    const date = new Date(start).toISOString().slice(0, 10);
    const sums = byDay.get(date) ?? {};
    const value = (key: RollupFigure) => sums[key] ?? 0;
    out.push({
      date,
      turns: value("turns"),
      tokens:
        value("inputTokens") + value("outputTokens") + value("cacheReadTokens") + value("cacheWriteTokens"),
      costUsd: Math.round((value("costProviderUsd") + value("costEstimatedUsd")) * 1e9) / 1e9,
      costUnknownTurns: value("costUnknownTurns"),
      errors: { failedModelCalls: value("failedModelCalls"), toolFailures: value("toolFailures") },
      consolidated: consolidated.has(date),
    });
  }
  return out;
}

export async function answerExport(request: PackHttpRequest, store: Store): Promise<PackHttpResponse> {
  if (request.method !== "GET") return { status: 405, json: { error: "method not allowed: use GET" } };
  const health = store.health();
  const counts = await store.counts();
  let fileBytes: number | undefined;
  if (health.kind === "sqlite")
    fileBytes = await stat(health.target).then(
      (info) => info.size,
      () => undefined,
    );
  return {
    status: 200,
    json: {
      store: { kind: health.kind, target: health.target, ...(fileBytes !== undefined ? { fileBytes } : {}) },
      collections: Object.fromEntries(Object.entries(counts).map(([name, records]) => [name, { records }])),
    },
  };
}
