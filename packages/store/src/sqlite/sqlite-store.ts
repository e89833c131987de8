/**
 * The embedded default: one SQLite file through `node:sqlite` (no native build), in WAL mode. Each
 * collection is a table of (id, time, version, JSON document) with expression indexes on the
 * declared fields. `node:sqlite` is synchronous, so writes go in short transactions of a bounded
 * number of records with a turn of the event loop between them: a burst never holds the loop long.
 * A commit in WAL mode survives the process being killed (synchronous=NORMAL; a power loss may lose
 * the last transactions, a SIGKILL does not).
 */
import { existsSync, mkdirSync, renameSync } from "node:fs";
import path from "node:path";
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import { setImmediate as nextTurn } from "node:timers/promises";
import {
  type AggregateQuery,
  type AggregateRow,
  type Collection,
  type CollectionSpec,
  checkField,
  checkLease,
  checkLimit,
  checkRange,
  checkRecord,
  deleteExpired,
  type LeaseState,
  migrateRecord,
  type RangeQuery,
  type ResolvedSpec,
  resolveSpec,
  type Scalar,
  type Store,
  StoreError,
  type StoreHealth,
  type StoreRecord,
  timeOf,
  toScalar,
} from "../store.js";

export interface SqliteStoreOptions {
  /** The database file; its folder is created. */
  path: string;
  collections: readonly CollectionSpec[];
  /** The clock leases and retention read (default `Date.now`). */
  now?: () => number;
  /** Records per write transaction (default 200): bounds how long one write holds the event loop. */
  chunkSize?: number;
  /** One line per notable event (a corrupt file moved aside). */
  log?: (level: "info" | "warn" | "error", message: string) => void;
}

/** SQLite's primary result codes this adapter tells apart. */
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_READONLY = 8;
const SQLITE_IOERR = 10;
const SQLITE_CORRUPT = 11;
const SQLITE_FULL = 13;
const SQLITE_CANTOPEN = 14;
const SQLITE_NOTADB = 26;

/** Maps a `node:sqlite` error to a `StoreError` that says whether a retry can help. */
export function toStoreError(error: unknown, doing: string): StoreError {
  if (error instanceof StoreError) return error;
  const errcode = (error as { errcode?: unknown })?.errcode;
  const primary = typeof errcode === "number" ? errcode & 0xff : undefined;
  const detail = error instanceof Error ? error.message : String(error);
  const message = `${doing}: ${detail}`;
  switch (primary) {
    case SQLITE_FULL:
      return new StoreError("full", message, { cause: error });
    case SQLITE_READONLY:
      return new StoreError("read-only", message, { cause: error });
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return new StoreError("corrupt", message, { cause: error });
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
      return new StoreError("unavailable", message, { cause: error });
    default: {
      const code = (error as { code?: unknown })?.code;
      if (code === "ENOSPC") return new StoreError("full", message, { cause: error });
      if (code === "EROFS" || code === "EACCES" || code === "EPERM") {
        return new StoreError("read-only", message, { cause: error });
      }
      return new StoreError("unavailable", message, { cause: error });
    }
  }
}

const json = (field: string): string => `json_extract(doc, '$.${field}')`;
const table = (name: string): string => `"c_${name}"`;

/** Opens (or creates) the database file; a file that is not a database is moved aside, never deleted. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<Store> {
  const { DatabaseSync } = await import("node:sqlite");
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => undefined);
  const chunkSize = Math.max(1, Math.floor(options.chunkSize ?? 200));
  const specs = new Map<string, ResolvedSpec>();
  for (const spec of options.collections) {
    const resolved = resolveSpec(spec);
    specs.set(resolved.name, resolved);
  }
  const file = path.resolve(options.path);
  try {
    mkdirSync(path.dirname(file), { recursive: true });
  } catch (error) {
    throw toStoreError(error, `store folder ${path.dirname(file)}`);
  }

  let movedAside: string | undefined;
  let db: DatabaseSync;
  try {
    db = openAndPrepare(new DatabaseSync(file), specs);
  } catch (error) {
    const failure = toStoreError(error, `store ${file}`);
    if (failure.code !== "corrupt") throw failure;
    movedAside = `${file}.corrupt-${new Date(now()).toISOString().replace(/[:.]/g, "-")}`;
    for (const suffix of ["", "-wal", "-shm"]) {
      if (existsSync(file + suffix)) renameSync(file + suffix, movedAside + suffix);
    }
    log(
      "error",
      `store ${file} is not a readable SQLite database: moved aside to ${movedAside}; starting a new one`,
    );
    db = openAndPrepare(new DatabaseSync(file), specs);
  }
  let closed = false;

  const statements = new Map<string, ReturnType<DatabaseSync["prepare"]>>();
  const prepared = (sql: string) => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  const guard = <R>(doing: string, run: () => R): R => {
    if (closed) throw new StoreError("closed", `${doing}: the store is closed`);
    try {
      return run();
    } catch (error) {
      throw toStoreError(error, doing);
    }
  };
  const inTransaction = <R>(run: () => R, mode = "BEGIN"): R => {
    db.exec(mode);
    try {
      const result = run();
      db.exec("COMMIT");
      return result;
    } catch (error) {
      try {
        db.exec("ROLLBACK");
      } catch {
        // the failed statement may have rolled back already
      }
      throw error;
    }
  };

  const collections = new Map<string, Collection>();
  const collectionOf = (spec: ResolvedSpec): Collection => {
    const name = spec.name;
    const where = (query: RangeQuery | undefined): { sql: string; params: SQLInputValue[] } => {
      checkRange(query, name);
      const parts: string[] = [];
      const params: SQLInputValue[] = [];
      for (const [field, condition] of Object.entries(query?.where ?? {})) {
        checkField(field, name);
        const column = field === "id" ? "id" : json(field);
        if (condition !== null && typeof condition === "object") {
          const values = Array.isArray(condition.in) ? condition.in : [];
          if (values.length === 0) {
            parts.push("0");
            continue;
          }
          const scalars = values.filter((value) => value !== null);
          const ors: string[] = [];
          if (scalars.length > 0) {
            ors.push(`${column} IN (${scalars.map(() => "?").join(", ")})`);
            params.push(...scalars.map(toSqlValue));
          }
          if (scalars.length < values.length) ors.push(`${column} IS NULL`);
          parts.push(`(${ors.join(" OR ")})`);
        } else if (condition === null) {
          parts.push(`${column} IS NULL`);
        } else {
          parts.push(`${column} = ?`);
          params.push(toSqlValue(condition));
        }
      }
      if (query?.from !== undefined) {
        parts.push("t >= ?");
        params.push(query.from);
      }
      if (query?.to !== undefined) {
        parts.push("t < ?");
        params.push(query.to);
      }
      return { sql: parts.length > 0 ? ` WHERE ${parts.join(" AND ")}` : "", params };
    };
    const parse = (doc: unknown): StoreRecord => JSON.parse(String(doc)) as StoreRecord;

    return {
      name,
      async upsert(records) {
        if (!Array.isArray(records))
          throw new StoreError("invalid", `collection ${name}: upsert takes an array`);
        const rows = records.map((record) => {
          checkRecord(record, name);
          let doc: string;
          try {
            doc = JSON.stringify(record);
          } catch (error) {
            throw new StoreError("invalid", `collection ${name}: record ${record.id} is not JSON`, {
              cause: error,
            });
          }
          return { id: record.id, t: timeOf(record, spec.timeField) ?? null, doc };
        });
        for (let start = 0; start < rows.length; start += chunkSize) {
          if (start > 0) await nextTurn();
          guard(`upsert into ${name}`, () =>
            inTransaction(() => {
              const statement = prepared(
                `INSERT INTO ${table(name)} (id, t, v, doc) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET t = excluded.t, v = excluded.v, doc = excluded.doc`,
              );
              for (const row of rows.slice(start, start + chunkSize)) {
                statement.run(row.id, row.t, spec.version, row.doc);
              }
            }),
          );
        }
        return { written: rows.length };
      },
      async get(id) {
        if (typeof id !== "string") return undefined;
        const row = guard(`get from ${name}`, () =>
          prepared(`SELECT doc FROM ${table(name)} WHERE id = ?`).get(id),
        );
        return row ? (parse(row.doc) as never) : undefined;
      },
      async find(query) {
        const limit = checkLimit(query?.limit, name);
        const filter = where(query);
        const sortField = query?.sort?.field ?? "id";
        checkField(sortField, name);
        const order = query?.sort?.order === "desc" ? "DESC" : "ASC";
        const sortColumn = sortField === "id" ? "id" : sortField === spec.timeField ? "t" : json(sortField);
        const sql = `SELECT doc FROM ${table(name)}${filter.sql} ORDER BY ${sortColumn} ${order}${sortColumn === "id" ? "" : `, id ${order}`}${limit ? ` LIMIT ${limit}` : ""}`;
        const rows = guard(`find in ${name}`, () => prepared(sql).all(...filter.params));
        return rows.map((row) => parse(row.doc) as never);
      },
      async count(query) {
        const filter = where(query);
        const row = guard(`count in ${name}`, () =>
          prepared(`SELECT COUNT(*) AS n FROM ${table(name)}${filter.sql}`).get(...filter.params),
        );
        return Number(row?.n ?? 0);
      },
      async aggregate(query: AggregateQuery) {
        const groupBy = Array.isArray(query?.groupBy) ? query.groupBy : [];
        const sum = Array.isArray(query?.sum) ? query.sum : [];
        for (const field of [...groupBy, ...sum]) checkField(field, name);
        const filter = where(query);
        // `->` keeps each group value's JSON type (a boolean stays a boolean)
        const groups = groupBy.map((field, index) => `(doc -> '$.${field}') AS g${index}`);
        const sums = sum.map(
          (field, index) =>
            `SUM(CASE WHEN json_type(doc, '$.${field}') IN ('integer', 'real') THEN ${json(field)} END) AS s${index}`,
        );
        const sql = `SELECT ${[...groups, "COUNT(*) AS n", ...sums].join(", ")} FROM ${table(name)}${filter.sql}${
          groups.length > 0 ? ` GROUP BY ${groupBy.map((_, index) => `g${index}`).join(", ")}` : ""
        }`;
        const rows = guard(`aggregate in ${name}`, () => prepared(sql).all(...filter.params));
        const result: AggregateRow[] = [];
        for (const row of rows) {
          const count = Number(row.n ?? 0);
          if (count === 0) continue;
          const group: Record<string, Scalar> = {};
          groupBy.forEach((field, index) => {
            const text = row[`g${index}`];
            group[field] = toScalar(text === null || text === undefined ? null : JSON.parse(String(text)));
          });
          const sums: Record<string, number> = {};
          sum.forEach((field, index) => {
            const value = row[`s${index}`];
            sums[field] = value === null || value === undefined ? 0 : Number(value);
          });
          result.push({ group, count, sums });
        }
        return result;
      },
      async deleteOlderThan(cutoffMs) {
        if (typeof cutoffMs !== "number" || !Number.isFinite(cutoffMs)) {
          throw new StoreError("invalid", `collection ${name}: the cutoff must be a finite number`);
        }
        let deleted = 0;
        for (;;) {
          const changes = guard(`delete from ${name}`, () =>
            Number(
              prepared(
                `DELETE FROM ${table(name)} WHERE id IN (SELECT id FROM ${table(name)} WHERE t < ? LIMIT ${chunkSize * 5})`,
              ).run(cutoffMs).changes,
            ),
          );
          deleted += changes;
          if (changes < chunkSize * 5) return deleted;
          await nextTurn();
        }
      },
    };
  };
  for (const spec of specs.values()) collections.set(spec.name, collectionOf(spec));

  let lastError: string | undefined;
  const tracked = <R>(promise: Promise<R>): Promise<R> =>
    promise.then(
      (value) => {
        lastError = undefined;
        return value;
      },
      (error: unknown) => {
        if (error instanceof StoreError && error.code !== "invalid") lastError = error.message.slice(0, 300);
        throw error;
      },
    );

  return {
    kind: "sqlite",
    collection<T extends StoreRecord>(name: string): Collection<T> {
      const collection = collections.get(name);
      if (!collection) throw new StoreError("invalid", `collection ${JSON.stringify(name)} was not declared`);
      const wrapped: Collection<T> = {
        name,
        upsert: (records) => tracked(collection.upsert(records)),
        get: (id) => tracked(collection.get(id)) as Promise<T | undefined>,
        find: (query) => tracked(collection.find(query)) as Promise<T[]>,
        count: (query) => tracked(collection.count(query)),
        aggregate: (query) => tracked(collection.aggregate(query)),
        deleteOlderThan: (cutoff) => tracked(collection.deleteOlderThan(cutoff)),
      };
      return wrapped;
    },
    async acquireLease(name, holder, ttlMs): Promise<LeaseState> {
      checkLease(name, holder, ttlMs);
      return tracked(
        Promise.resolve().then(() =>
          guard(`lease ${name}`, () =>
            // IMMEDIATE takes the write lock first: two processes on one file cannot both win
            inTransaction(() => {
              const at = now();
              const current = prepared("SELECT holder, expires_at FROM _leases WHERE name = ?").get(name);
              if (current && current.holder !== holder && Number(current.expires_at) > at) {
                return {
                  name,
                  acquired: false,
                  holder: String(current.holder),
                  expiresAt: Number(current.expires_at),
                };
              }
              const expiresAt = at + ttlMs;
              prepared(
                "INSERT INTO _leases (name, holder, expires_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at",
              ).run(name, holder, expiresAt);
              return { name, acquired: true, holder, expiresAt };
            }, "BEGIN IMMEDIATE"),
          ),
        ),
      );
    },
    async releaseLease(name, holder) {
      return tracked(
        Promise.resolve().then(() =>
          guard(
            `release lease ${name}`,
            () =>
              Number(
                prepared("DELETE FROM _leases WHERE name = ? AND holder = ?").run(
                  String(name),
                  String(holder),
                ).changes,
              ) > 0,
          ),
        ),
      );
    },
    applyRetention: () => tracked(deleteExpired(specs.values(), (name) => collections.get(name), now())),
    async counts() {
      const counts: Record<string, number> = {};
      for (const name of specs.keys()) {
        const collection = collections.get(name);
        if (collection) counts[name] = await tracked(collection.count());
      }
      return counts;
    },
    health(): StoreHealth {
      return {
        kind: "sqlite",
        target: file,
        reachable: !closed && lastError === undefined,
        ...(lastError ? { lastError } : {}),
        retention: "scheduled-delete",
        ...(movedAside ? { movedAside } : {}),
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        db.close();
      } catch {
        // closing twice or after a failed open is not an error worth raising
      }
    },
  };
}

/** Pragmas, the bookkeeping tables, each collection's table and indexes, and pending migrations. */
function openAndPrepare(db: DatabaseSync, specs: ReadonlyMap<string, ResolvedSpec>): DatabaseSync {
  try {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA busy_timeout = 5000");
    db.exec("CREATE TABLE IF NOT EXISTS _collections (name TEXT PRIMARY KEY, version INTEGER NOT NULL)");
    db.exec(
      "CREATE TABLE IF NOT EXISTS _leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at INTEGER NOT NULL)",
    );
    for (const spec of specs.values()) {
      db.exec(
        `CREATE TABLE IF NOT EXISTS ${table(spec.name)} (id TEXT PRIMARY KEY, t REAL, v INTEGER NOT NULL, doc TEXT NOT NULL)`,
      );
      db.exec(`CREATE INDEX IF NOT EXISTS "i_${spec.name}_t" ON ${table(spec.name)} (t)`);
      spec.indexes.forEach((fields, index) => {
        const suffix = `${spec.name}_${index}_${fields.join("_").replace(/\./g, "_")}`;
        if (!fields.includes(spec.timeField)) {
          db.exec(
            `CREATE INDEX IF NOT EXISTS "i_${suffix}" ON ${table(spec.name)} (${fields.map(json).join(", ")}, t)`,
          );
          return;
        }
        // the time field is the `t` column: an index on (entry, t) serves `where entry = ? order by t`
        // and time ranges without reading a document (indexes before 0.2 held the JSON value instead)
        db.exec(`DROP INDEX IF EXISTS "i_${suffix}"`);
        const columns = fields.map((field) => (field === spec.timeField ? "t" : json(field)));
        db.exec(`CREATE INDEX IF NOT EXISTS "it_${suffix}" ON ${table(spec.name)} (${columns.join(", ")})`);
      });
      migrate(db, spec);
    }
    return db;
  } catch (error) {
    try {
      db.close();
    } catch {
      // already unusable
    }
    throw error;
  }
}

/** Brings every record below the spec's version up to it, in one transaction, then records the version. */
function migrate(db: DatabaseSync, spec: ResolvedSpec): void {
  const stored = db.prepare("SELECT version FROM _collections WHERE name = ?").get(spec.name);
  const storedVersion = stored ? Number(stored.version) : undefined;
  if (storedVersion !== undefined && storedVersion > spec.version) {
    throw new StoreError(
      "schema",
      `collection ${spec.name} is at schema version ${storedVersion}, newer than this build's ${spec.version}`,
    );
  }
  if (storedVersion === spec.version) return;
  db.exec("BEGIN IMMEDIATE");
  try {
    const old = db.prepare(`SELECT id, v, doc FROM ${table(spec.name)} WHERE v < ?`).all(spec.version);
    const update = db.prepare(`UPDATE ${table(spec.name)} SET v = ?, t = ?, doc = ? WHERE id = ?`);
    for (const row of old) {
      const record = migrateRecord(JSON.parse(String(row.doc)), Number(row.v), spec) as StoreRecord;
      update.run(
        spec.version,
        timeOf(record, spec.timeField) ?? null,
        JSON.stringify({ ...record, id: row.id }),
        String(row.id),
      );
    }
    db.prepare(
      "INSERT INTO _collections (name, version) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET version = excluded.version",
    ).run(spec.name, spec.version);
    db.exec("COMMIT");
  } catch (error) {
    try {
      db.exec("ROLLBACK");
    } catch {
      // nothing to roll back
    }
    throw error;
  }
}

function toSqlValue(value: Scalar): SQLInputValue {
  if (typeof value === "boolean") return value ? 1 : 0;
  return value as SQLInputValue;
}
