/**
 * Opens the configured store behind one guard: a store that cannot be reached or written at start
 * (MongoDB down, a read-only disk) does not fail the extension. Every operation then fails fast
 * with a retryable `StoreError` (so a pipeline keeps the write in its spool) and the store is
 * opened again, at most once per `reopenIntervalMs`, by the next operation. The outage and the
 * recovery are one log line each.
 */

import type { MongoStoreOptions } from "./mongodb/mongodb-store.js";
import type { SqliteStoreOptions } from "./sqlite/sqlite-store.js";
import {
  type Collection,
  type CollectionSpec,
  describeMongoTarget,
  type LeaseState,
  resolveSpec,
  type Store,
  StoreError,
  type StoreHealth,
  type StoreRecord,
} from "./store.js";

export type StoreOptions = (
  | ({ kind: "sqlite" } & Omit<SqliteStoreOptions, "collections" | "now" | "log">)
  | ({ kind: "mongodb" } & Omit<MongoStoreOptions, "collections" | "now" | "log">)
) & {
  collections: readonly CollectionSpec[];
  now?: () => number;
  log?: (level: "info" | "warn" | "error", message: string) => void;
  /** Least time between two attempts to open an unreachable store (default 5000 ms). */
  reopenIntervalMs?: number;
};

/** Opens the store; resolves even when it is unreachable (see the module comment). */
export async function openStore(options: StoreOptions): Promise<Store> {
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => undefined);
  const reopenIntervalMs = options.reopenIntervalMs ?? 5000;
  // a bad spec is a bug in the extension: say so at once, not on every operation
  for (const spec of options.collections) resolveSpec(spec);
  const target =
    options.kind === "mongodb" ? describeMongoTarget(options.uri, options.database) : String(options.path);

  const open = async (): Promise<Store> => {
    if (options.kind === "mongodb") {
      const { openMongoStore } = await import("./mongodb/mongodb-store.js");
      return openMongoStore({ ...options, now, log });
    }
    const { openSqliteStore } = await import("./sqlite/sqlite-store.js");
    return openSqliteStore({ ...options, now, log });
  };

  let inner: Store | undefined;
  let opening: Promise<Store | undefined> | undefined;
  let lastAttempt = Number.NEGATIVE_INFINITY;
  let downSince: number | undefined;
  let lastError: StoreError | undefined;
  let closed = false;

  const attempt = (): Promise<Store | undefined> => {
    opening ??= (async () => {
      lastAttempt = now();
      try {
        const store = await open();
        if (closed) {
          await store.close();
          return undefined;
        }
        inner = store;
        if (downSince !== undefined) log("info", `store ${target} is reachable again`);
        downSince = undefined;
        lastError = undefined;
        return store;
      } catch (error) {
        const failure =
          error instanceof StoreError
            ? error
            : new StoreError("unavailable", String(error), { cause: error });
        if (!failure.retryable) throw failure;
        if (downSince === undefined) {
          downSince = now();
          log("error", `store ${target} cannot be opened (${failure.message}); writes wait and are retried`);
        }
        lastError = failure;
        return undefined;
      } finally {
        opening = undefined;
      }
    })();
    return opening;
  };

  const ready = async (doing: string): Promise<Store> => {
    if (closed) throw new StoreError("closed", `${doing}: the store is closed`);
    if (inner) return inner;
    if (now() - lastAttempt >= reopenIntervalMs || opening) {
      const store = await attempt();
      if (store) return store;
    }
    throw new StoreError(
      lastError?.code === "full" || lastError?.code === "read-only" ? lastError.code : "unavailable",
      `${doing}: store ${target} is not open (${lastError?.message ?? "not reachable"})`,
    );
  };

  // the first attempt at once: a store that opens is ready when this resolves
  await attempt();

  const collection = <T extends StoreRecord>(name: string): Collection<T> => {
    if (!options.collections.some((spec) => spec.name === name)) {
      throw new StoreError("invalid", `collection ${JSON.stringify(name)} was not declared`);
    }
    const on = async <R>(doing: string, run: (target: Collection<T>) => Promise<R>): Promise<R> =>
      run((await ready(doing)).collection<T>(name));
    return {
      name,
      upsert: (records) => on(`upsert into ${name}`, (c) => c.upsert(records)),
      get: (id) => on(`get from ${name}`, (c) => c.get(id)),
      find: (query) => on(`find in ${name}`, (c) => c.find(query)),
      count: (query) => on(`count in ${name}`, (c) => c.count(query)),
      aggregate: (query) => on(`aggregate in ${name}`, (c) => c.aggregate(query)),
      deleteOlderThan: (cutoff) => on(`delete from ${name}`, (c) => c.deleteOlderThan(cutoff)),
    };
  };

  return {
    kind: options.kind,
    collection,
    acquireLease: async (name, holder, ttlMs): Promise<LeaseState> =>
      (await ready(`lease ${name}`)).acquireLease(name, holder, ttlMs),
    releaseLease: async (name, holder) => (await ready(`release lease ${name}`)).releaseLease(name, holder),
    applyRetention: async () => (await ready("retention")).applyRetention(),
    counts: async () => (await ready("counts")).counts(),
    health(): StoreHealth {
      if (inner) return inner.health();
      return {
        kind: options.kind,
        target,
        reachable: false,
        ...(downSince !== undefined ? { downSince } : {}),
        ...(lastError ? { lastError: lastError.message.slice(0, 300) } : {}),
        retention: "scheduled-delete",
      };
    },
    async close() {
      closed = true;
      const store = inner ?? (opening ? await opening.catch(() => undefined) : undefined);
      inner = undefined;
      await store?.close();
    },
  };
}
