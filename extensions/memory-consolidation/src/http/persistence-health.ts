/** `GET /api/persistence/health`: where the memory is kept, whether it is reachable, what it holds. */
import type { PackHttpRequest, PackHttpResponse } from "@clawscope/kit";
import type { Store } from "@clawscope/store";

export interface PersistenceFacts {
  gateway: { name: string; id: string };
  lastRollup: { at: number; minutes: number } | undefined;
  /** The newest snapshot this gateway stored (read from the store). */
  lastSnapshot: () => Promise<{ ts: number; takenAt: number } | undefined>;
  pendingFacts: number;
}

export async function answerPersistenceHealth(
  request: PackHttpRequest,
  store: Store,
  facts: () => PersistenceFacts,
): Promise<PackHttpResponse> {
  if (request.method !== "GET") return { status: 405, json: { error: "method not allowed: use GET" } };
  const health = store.health();
  let collections: Record<string, number> | undefined;
  let countError: string | undefined;
  try {
    collections = await store.counts();
  } catch (error) {
    countError = error instanceof Error ? error.message : String(error);
  }
  const known = facts();
  let lastSnapshot: { ts: number; takenAt: number } | undefined;
  if (countError === undefined) {
    try {
      lastSnapshot = await known.lastSnapshot();
    } catch {
      // the counts answered a moment ago: a failure here is the same outage, already reported
    }
  }
  return {
    status: 200,
    json: {
      store: {
        kind: health.kind,
        target: health.target,
        reachable: health.reachable && countError === undefined,
        retention: health.retention,
        ...(health.downSince !== undefined ? { downSince: new Date(health.downSince).toISOString() } : {}),
        ...(health.lastError || countError ? { lastError: health.lastError ?? countError } : {}),
        ...(health.movedAside ? { movedAside: health.movedAside } : {}),
      },
      gateway: known.gateway,
      collections: collections ?? null,
      lastRollup: known.lastRollup
        ? { at: new Date(known.lastRollup.at).toISOString(), minutes: known.lastRollup.minutes }
        : null,
      lastSnapshot: lastSnapshot
        ? {
            hour: new Date(lastSnapshot.ts).toISOString(),
            takenAt: new Date(lastSnapshot.takenAt).toISOString(),
          }
        : null,
      pendingFacts: known.pendingFacts,
    },
  };
}
