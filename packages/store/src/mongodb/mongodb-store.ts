/**
 * MongoDB for a fleet of gateways, through the official driver (imported only when configured).
 * A record is a document whose `_id` is the record's id. Written to work on MongoDB itself and on
 * wire-compatible servers that implement less (FerretDB, which the tests run):
 * - sums are one `$group` with one accumulator per field, merged here (FerretDB computes only the
 *   first accumulator of a `$group` and returns 0 for the others, silently);
 * - retention is a TTL index on a Date copy of the time field where the server accepts one, else
 *   the scheduled `applyRetention` deletes;
 * - leases are taken by inserting the lease document (the only write FerretDB makes atomic for two
 *   racing gateways), renewed by an update of the holder's own, and an expired one is removed first.
 */

import { maskUrlCredentials as maskSecretUrl } from "@clawscope/kit";
import type {
  AnyBulkWriteOperation,
  Db,
  Document,
  Filter,
  MongoClient,
  Collection as MongoCollection,
} from "mongodb";
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
  describeMongoTarget,
  groupKey,
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

export interface MongoStoreOptions {
  /** `mongodb://` or `mongodb+srv://`; its password is never logged. */
  uri: string;
  database: string;
  collections: readonly CollectionSpec[];
  now?: () => number;
  /** How long to wait for a server before an operation fails as unavailable (default 5000 ms). */
  serverSelectionTimeoutMs?: number;
  /** Records per bulk write (default 500). */
  chunkSize?: number;
  log?: (level: "info" | "warn" | "error", message: string) => void;
}

/** The hidden fields a document carries beside the record's own. */
const VERSION_FIELD = "_v";
const EXPIRY_FIELD = "_at";
const LEASES = "_clawscope_leases";
const VERSIONS = "_clawscope_collections";
const DUPLICATE_KEY = 11000;
/** Replacements per bulk write. */
const REPLACE_BULK = 25;

/** Inserts the documents whose ids are new; resolves to the ones refused because their id exists. */
async function insertNew(
  documents: MongoCollection<Document>,
  chunk: readonly Document[],
): Promise<Document[]> {
  try {
    await documents.insertMany([...chunk], { ordered: false });
    return [];
  } catch (error) {
    const raw = (error as { writeErrors?: unknown }).writeErrors;
    const writeErrors = (Array.isArray(raw) ? raw : raw ? [raw] : []) as {
      code?: unknown;
      index?: unknown;
    }[];
    if (writeErrors.length === 0 || writeErrors.some((writeError) => writeError.code !== DUPLICATE_KEY))
      throw error;
    return writeErrors
      .map((writeError) => chunk[Number(writeError.index)])
      .filter((document): document is Document => document !== undefined);
  }
}

/** Maps a driver error to a `StoreError`; network trouble and server selection are retryable. */
export function toMongoStoreError(error: unknown, doing: string): StoreError {
  if (error instanceof StoreError) return error;
  const detail = maskSecretUrl(error instanceof Error ? error.message : String(error));
  const message = `${doing}: ${detail}`;
  const labels = error as { hasErrorLabel?: (label: string) => boolean };
  // a bulk write wraps the network error it met: look down the cause chain
  let transient = false;
  let link: unknown = error;
  for (let depth = 0; depth < 5 && link && !transient; depth += 1) {
    const linkName = String((link as { name?: unknown }).name ?? "");
    const linkMessage = String((link as { message?: unknown }).message ?? "");
    transient =
      /MongoNetwork|MongoServerSelection|MongoTopologyClosed|MongoNotConnected|MongoPoolClosed|MongoWriteConcern|MongoOperationTimeout/.test(
        linkName,
      ) ||
      /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|connection .*closed|socket/i.test(linkMessage);
    link = (link as { cause?: unknown }).cause;
  }
  if (
    transient ||
    labels?.hasErrorLabel?.("RetryableWriteError") ||
    labels?.hasErrorLabel?.("TransientTransactionError")
  ) {
    return new StoreError("unavailable", message, { cause: error });
  }
  const code = (error as { code?: unknown })?.code;
  // out of disk on the server; not primary / shutting down: a retry can succeed
  if (code === 14031) return new StoreError("full", message, { cause: error });
  if (code === 91 || code === 189 || code === 10107 || code === 13435 || code === 11600 || code === 11602) {
    return new StoreError("unavailable", message, { cause: error });
  }
  return new StoreError("rejected", message, { cause: error });
}

export async function openMongoStore(options: MongoStoreOptions): Promise<Store> {
  const log = options.log ?? (() => undefined);
  const now = options.now ?? Date.now;
  const chunkSize = Math.max(1, Math.floor(options.chunkSize ?? 500));
  const specs = new Map<string, ResolvedSpec>();
  for (const spec of options.collections) {
    const resolved = resolveSpec(spec);
    specs.set(resolved.name, resolved);
  }
  if (typeof options.uri !== "string" || !/^mongodb(\+srv)?:\/\//.test(options.uri)) {
    throw new StoreError("invalid", "store.uri must start with mongodb:// or mongodb+srv://");
  }
  if (typeof options.database !== "string" || !/^[A-Za-z0-9_-]{1,63}$/.test(options.database)) {
    throw new StoreError(
      "invalid",
      `store.database ${JSON.stringify(options.database)} is not a database name`,
    );
  }
  const target = describeMongoTarget(options.uri, options.database);
  let driver: typeof import("mongodb");
  try {
    driver = await import("mongodb");
  } catch (error) {
    throw new StoreError("invalid", `the mongodb driver could not be loaded: ${String(error).slice(0, 200)}`);
  }
  const client: MongoClient = new driver.MongoClient(options.uri, {
    appName: "clawscope",
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 5000,
    connectTimeoutMS: options.serverSelectionTimeoutMs ?? 5000,
  });
  try {
    await client.connect();
  } catch (error) {
    await client.close().catch(() => undefined);
    throw toMongoStoreError(error, `store ${target}`);
  }
  const db: Db = client.db(options.database);
  let ttl = true;
  try {
    for (const spec of specs.values()) ttl = (await prepareCollection(db, spec, log)) && ttl;
  } catch (error) {
    await client.close().catch(() => undefined);
    throw toMongoStoreError(error, `store ${target}`);
  }

  let closed = false;
  let lastError: string | undefined;
  const run = async <R>(doing: string, operation: () => Promise<R>): Promise<R> => {
    if (closed) throw new StoreError("closed", `${doing}: the store is closed`);
    try {
      const result = await operation();
      lastError = undefined;
      return result;
    } catch (error) {
      const failure = toMongoStoreError(error, doing);
      if (failure.code !== "invalid") lastError = failure.message.slice(0, 300);
      throw failure;
    }
  };

  const collections = new Map<string, Collection>();
  for (const spec of specs.values()) {
    const documents: MongoCollection<Document> = db.collection(spec.name);
    const filterOf = (query: RangeQuery | undefined): Filter<Document> => {
      checkRange(query, spec.name);
      const filter: Record<string, unknown> = {};
      for (const [field, condition] of Object.entries(query?.where ?? {})) {
        checkField(field, spec.name);
        const key = field === "id" ? "_id" : field;
        if (condition !== null && typeof condition === "object") {
          filter[key] = { $in: Array.isArray(condition.in) ? [...condition.in] : [] };
        } else {
          filter[key] = condition;
        }
      }
      if (query?.from !== undefined || query?.to !== undefined) {
        const range: Record<string, number> = {};
        if (query?.from !== undefined) range.$gte = query.from;
        if (query?.to !== undefined) range.$lt = query.to;
        filter[spec.timeField] = range;
      }
      return filter;
    };
    const toRecord = (document: Document): StoreRecord => {
      const { _id, [VERSION_FIELD]: _version, [EXPIRY_FIELD]: _expiry, ...rest } = document;
      return { ...(mapKeys(rest, unescapeKey) as Document), id: String(_id) };
    };
    const toDocument = (record: StoreRecord): Document => {
      const { id, ...rest } = record;
      let plain: Document;
      try {
        plain = mapKeys(JSON.parse(JSON.stringify(rest)), escapeKey) as Document;
      } catch (error) {
        throw new StoreError("invalid", `collection ${spec.name}: record ${id} is not JSON`, {
          cause: error,
        });
      }
      const document: Document = { ...plain, _id: id, [VERSION_FIELD]: spec.version };
      const time = timeOf(record, spec.timeField);
      if (spec.retentionMs > 0 && time !== undefined) document[EXPIRY_FIELD] = new Date(time);
      return document;
    };

    collections.set(spec.name, {
      name: spec.name,
      async upsert(records) {
        if (!Array.isArray(records))
          throw new StoreError("invalid", `collection ${spec.name}: upsert takes an array`);
        const documents_ = records.map((record) => {
          checkRecord(record, spec.name);
          return toDocument(record);
        });
        for (let start = 0; start < documents_.length; start += chunkSize) {
          const chunk = documents_.slice(start, start + chunkSize);
          await run(`upsert into ${spec.name}`, async () => {
            // new ids are inserted in one round trip; only the ids that exist already are replaced,
            // in small bulks (a wire-compatible server may replace in time quadratic to a bulk's size)
            const existing = await insertNew(documents, chunk);
            for (let from = 0; from < existing.length; from += REPLACE_BULK) {
              const operations: AnyBulkWriteOperation<Document>[] = existing
                .slice(from, from + REPLACE_BULK)
                .map((document) => ({
                  replaceOne: { filter: { _id: document._id }, replacement: document, upsert: true },
                }));
              await documents.bulkWrite(operations, { ordered: false });
            }
          });
        }
        return { written: documents_.length };
      },
      async get(id) {
        if (typeof id !== "string") return undefined;
        const document = await run(`get from ${spec.name}`, () => documents.findOne({ _id: id as never }));
        return document ? toRecord(document) : undefined;
      },
      async find(query) {
        const limit = checkLimit(query?.limit, spec.name);
        const filter = filterOf(query);
        const sortField = query?.sort?.field ?? "id";
        checkField(sortField, spec.name);
        const direction = query?.sort?.order === "desc" ? -1 : 1;
        const sort: Record<string, 1 | -1> =
          sortField === "id" ? { _id: direction } : { [sortField]: direction, _id: direction };
        const found = await run(`find in ${spec.name}`, () => {
          const cursor = documents.find(filter).sort(sort);
          return (limit ? cursor.limit(limit) : cursor).toArray();
        });
        return found.map(toRecord);
      },
      async count(query) {
        const filter = filterOf(query);
        return run(`count in ${spec.name}`, () => documents.countDocuments(filter));
      },
      async aggregate(query: AggregateQuery) {
        const groupBy = Array.isArray(query?.groupBy) ? query.groupBy : [];
        const sum = Array.isArray(query?.sum) ? query.sum : [];
        for (const field of [...groupBy, ...sum]) checkField(field, spec.name);
        const match = filterOf(query);
        const groupId: Record<string, string> = {};
        groupBy.forEach((field, index) => {
          groupId[`g${index}`] = field === "id" ? "$_id" : `$${field}`;
        });
        const rows = new Map<string, AggregateRow>();
        // one accumulator per $group: a server that computes only the first one cannot skew a sum
        const accumulators: { field?: string; expression: unknown }[] = [
          { expression: 1 },
          ...sum.map((field) => ({ field, expression: `$${field}` })),
        ];
        for (const accumulator of accumulators) {
          const grouped = await run(`aggregate in ${spec.name}`, () =>
            documents
              .aggregate([
                { $match: match },
                {
                  $group: {
                    _id: groupBy.length > 0 ? groupId : null,
                    value: { $sum: accumulator.expression },
                  },
                },
              ])
              .toArray(),
          );
          for (const entry of grouped) {
            const values = groupBy.map((_, index) =>
              toScalar((entry._id as Record<string, unknown> | null)?.[`g${index}`]),
            );
            const key = groupKey(values);
            let row = rows.get(key);
            if (!row) {
              const group: Record<string, Scalar> = {};
              groupBy.forEach((field, index) => {
                group[field] = values[index] ?? null;
              });
              row = { group, count: 0, sums: Object.fromEntries(sum.map((field) => [field, 0])) };
              rows.set(key, row);
            }
            const value = typeof entry.value === "number" ? entry.value : Number(entry.value ?? 0);
            if (accumulator.field === undefined) row.count = value;
            else row.sums[accumulator.field] = value;
          }
        }
        return [...rows.values()].filter((row) => row.count > 0);
      },
      async deleteOlderThan(cutoffMs) {
        if (typeof cutoffMs !== "number" || !Number.isFinite(cutoffMs)) {
          throw new StoreError("invalid", `collection ${spec.name}: the cutoff must be a finite number`);
        }
        const result = await run(`delete from ${spec.name}`, () =>
          documents.deleteMany({ [spec.timeField]: { $lt: cutoffMs } }),
        );
        return result.deletedCount;
      },
    });
  }

  const leases: MongoCollection<Document> = db.collection(LEASES);
  return {
    kind: "mongodb",
    collection<T extends StoreRecord>(name: string): Collection<T> {
      const collection = collections.get(name);
      if (!collection) throw new StoreError("invalid", `collection ${JSON.stringify(name)} was not declared`);
      return collection as unknown as Collection<T>;
    },
    async acquireLease(name, holder, ttlMs): Promise<LeaseState> {
      checkLease(name, holder, ttlMs);
      const at = now();
      const expiresAt = at + ttlMs;
      return run(`lease ${name}`, async () => {
        const id = name as never;
        const lost = async (): Promise<LeaseState> => {
          const current = await leases.findOne({ _id: id });
          return {
            name,
            acquired: false,
            holder: String(current?.holder ?? ""),
            expiresAt: Number(current?.expiresAt ?? 0),
          };
        };
        // only an insert is atomic on every wire-compatible server (FerretDB lets two conditional
        // updates of one document both succeed): a free or expired lease is taken by inserting it,
        // and of two gateways racing for it the duplicate key refuses all but one
        const insert = async (): Promise<LeaseState> => {
          try {
            await leases.insertOne({ _id: id, holder, expiresAt });
            return { name, acquired: true, holder, expiresAt };
          } catch (error) {
            if ((error as { code?: unknown })?.code !== DUPLICATE_KEY) throw error;
            return lost();
          }
        };
        const current = await leases.findOne({ _id: id });
        if (!current) return insert();
        if (current.holder === holder) {
          const renewed = await leases.updateOne({ _id: id, holder }, { $set: { expiresAt } });
          return renewed.matchedCount > 0 ? { name, acquired: true, holder, expiresAt } : insert();
        }
        if (Number(current.expiresAt) > at) return lost();
        // expired: remove exactly the lease that was read (a newer one is another gateway's), then insert
        await leases.deleteOne({ _id: id, holder: current.holder, expiresAt: current.expiresAt });
        return insert();
      });
    },
    async releaseLease(name, holder) {
      return run(`release lease ${name}`, async () => {
        const result = await leases.deleteOne({ _id: String(name) as never, holder: String(holder) });
        return result.deletedCount > 0;
      });
    },
    applyRetention: () => deleteExpired(specs.values(), (name) => collections.get(name), now()),
    async counts() {
      const counts: Record<string, number> = {};
      for (const name of specs.keys()) {
        counts[name] = await run(`count ${name}`, () => db.collection(name).countDocuments({}));
      }
      return counts;
    },
    health(): StoreHealth {
      return {
        kind: "mongodb",
        target,
        reachable: !closed && lastError === undefined,
        ...(lastError ? { lastError } : {}),
        retention: ttl ? "ttl-index" : "scheduled-delete",
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      await client.close().catch(() => undefined);
    },
  };
}

/**
 * Indexes, the TTL index when retention is set (false when the server refuses TTL indexes), and
 * the pending migrations (per document, resumable: a document carries its version).
 */
async function prepareCollection(
  db: Db,
  spec: ResolvedSpec,
  log: (level: "info" | "warn" | "error", message: string) => void,
): Promise<boolean> {
  const versions = db.collection<{ _id: string; version: number }>(VERSIONS);
  const stored = await versions.findOne({ _id: spec.name });
  if (stored && stored.version > spec.version) {
    throw new StoreError(
      "schema",
      `collection ${spec.name} is at schema version ${stored.version}, newer than this build's ${spec.version}`,
    );
  }
  const documents = db.collection(spec.name);
  await documents.createIndex({ [spec.timeField]: 1 });
  for (const fields of spec.indexes) {
    await documents.createIndex({
      ...Object.fromEntries(fields.map((field) => [field, 1])),
      [spec.timeField]: 1,
    });
  }
  let ttl = true;
  if (spec.retentionMs > 0) {
    try {
      await documents.createIndex(
        { [EXPIRY_FIELD]: 1 },
        { expireAfterSeconds: Math.max(1, Math.round(spec.retentionMs / 1000)), name: `${EXPIRY_FIELD}_ttl` },
      );
    } catch (error) {
      ttl = false;
      log(
        "info",
        `store: the server refused a TTL index on ${spec.name} (${String((error as Error)?.message ?? error).slice(0, 120)}); retention runs as scheduled deletes`,
      );
    }
  }
  if (!stored || stored.version < spec.version) {
    const old = documents.find({
      $or: [{ [VERSION_FIELD]: { $lt: spec.version } }, { [VERSION_FIELD]: { $exists: false } }],
    });
    for await (const document of old) {
      const { _id, [VERSION_FIELD]: from, ...rest } = document;
      const migrated = migrateRecord({ ...rest }, typeof from === "number" ? from : 1, spec);
      // through JSON, as every write: a field a migration set to undefined is gone, not null
      const record = JSON.parse(JSON.stringify(migrated)) as Document;
      delete record.id;
      await documents.replaceOne({ _id }, { ...record, _id, [VERSION_FIELD]: spec.version });
    }
    await upsertVersion(versions, spec.name, spec.version);
  }
  return ttl;
}

/**
 * Records a collection's schema version. Gateways of a fleet opening a new database at once race
 * on the upsert: the server inserts for one and refuses the others with a duplicate key, after
 * which the document exists and a plain update matches.
 */
async function upsertVersion(
  versions: MongoCollection<{ _id: string; version: number }>,
  name: string,
  version: number,
): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await versions.updateOne({ _id: name }, { $max: { version } }, { upsert: true });
      return;
    } catch (error) {
      if ((error as { code?: unknown })?.code !== DUPLICATE_KEY || attempt >= 2) throw error;
    }
  }
}

// Keys that name things (a model `gpt-4.1`, a tool, an error category) may hold a dot or start with
// `$`; MongoDB-wire servers such as FerretDB refuse such keys, so they are stored with look-alike
// full-width characters instead and given back as they were.
const DOT = ".";
const STORED_DOT = "\uFF0E";
const STORED_DOLLAR = "\uFF04";

function escapeKey(key: string): string {
  const dotted = key.includes(DOT) ? key.split(DOT).join(STORED_DOT) : key;
  return dotted.startsWith("$") ? `${STORED_DOLLAR}${dotted.slice(1)}` : dotted;
}

function unescapeKey(key: string): string {
  const undotted = key.includes(STORED_DOT) ? key.split(STORED_DOT).join(DOT) : key;
  return undotted.startsWith(STORED_DOLLAR) ? `$${undotted.slice(1)}` : undotted;
}

/** The value with every object key (at any depth) passed through `map`; only plain JSON data. */
function mapKeys(value: unknown, map: (key: string) => string): unknown {
  if (Array.isArray(value)) return value.map((item) => mapKeys(item, map));
  if (value === null || typeof value !== "object" || value instanceof Date) return value;
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) result[map(key)] = mapKeys(item, map);
  return result;
}
