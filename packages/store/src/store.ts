/**
 * The store interface: named collections of JSON records with a string `id`, the same on the
 * embedded SQLite default and on MongoDB. Every write is idempotent by id, so a batch re-sent
 * after a crash or a retry changes nothing; time ranges and retention read one numeric field
 * (epoch milliseconds) per collection.
 */

import { maskUrlCredentials } from "@clawscope/kit";

/** A value a filter or a group key can hold. */
export type Scalar = string | number | boolean | null;

/** A record: any JSON object with a non-empty string `id`. */
export interface StoreRecord {
  readonly id: string;
  readonly [field: string]: unknown;
}

/** Turns a record written under an older schema version into the next one. */
export type Migration = (record: Record<string, unknown>) => Record<string, unknown>;

/** What a collection is: declared once, when the store is opened. */
export interface CollectionSpec {
  /** `[a-z][a-z0-9_]*`, at most 60 characters. */
  name: string;
  /** The numeric field (epoch ms) that time ranges and retention read (default `ts`). */
  timeField?: string;
  /** Field lists that `find`, `count` and `aggregate` filter on; each becomes an index. */
  indexes?: readonly (readonly string[])[];
  /** Records whose time is older than this are deleted by `applyRetention`; absent or 0: kept. */
  retentionMs?: number;
  /** The records' schema version (default 1). */
  version?: number;
  /** `migrations[v]` turns a version `v - 1` record into version `v`. */
  migrations?: Readonly<Record<number, Migration>>;
}

/** Equality on a field, or membership in a list; `null` matches a missing field too. */
export type Where = Readonly<Record<string, Scalar | { readonly in: readonly Scalar[] }>>;

export interface RangeQuery {
  where?: Where;
  /** Inclusive lower bound on the time field (epoch ms). */
  from?: number;
  /** Exclusive upper bound on the time field (epoch ms). */
  to?: number;
}

export interface FindQuery extends RangeQuery {
  /** Sort by a field (`id`, the time field or any other); ties are broken by id. Default: id. */
  sort?: { field: string; order?: "asc" | "desc" };
  limit?: number;
}

export interface AggregateQuery extends RangeQuery {
  /** Fields to group by (none: one row for the whole range). */
  groupBy: readonly string[];
  /** Numeric fields to sum per group; values that are not numbers are ignored. */
  sum: readonly string[];
}

export interface AggregateRow {
  /** The group's values, by field; a missing field is `null`. */
  group: Record<string, Scalar>;
  /** Records in the group. */
  count: number;
  /** Sums by field (0 when no record of the group had a number there). */
  sums: Record<string, number>;
}

export interface Collection<T extends StoreRecord = StoreRecord> {
  readonly name: string;
  /** Inserts or replaces by id; resolves once every record is durably written. */
  upsert(records: readonly T[]): Promise<{ written: number }>;
  get(id: string): Promise<T | undefined>;
  find(query?: FindQuery): Promise<T[]>;
  count(query?: RangeQuery): Promise<number>;
  aggregate(query: AggregateQuery): Promise<AggregateRow[]>;
  /** Deletes the records whose time field is before `cutoffMs`; records without a time are kept. */
  deleteOlderThan(cutoffMs: number): Promise<number>;
}

/** The state of a lease after an attempt to take or renew it. */
export interface LeaseState {
  name: string;
  /** Whether the caller holds the lease now. */
  acquired: boolean;
  /** Who holds it (the caller when acquired). */
  holder: string;
  /** When it expires unless renewed (epoch ms). */
  expiresAt: number;
}

export interface StoreHealth {
  kind: "sqlite" | "mongodb";
  /** Where the data is: a file path, or the MongoDB URI with its password masked, and the database. */
  target: string;
  reachable: boolean;
  /** Since when the store has been unreachable (epoch ms). */
  downSince?: number;
  lastError?: string;
  /** Whether retention runs as TTL indexes on the server (MongoDB) or as scheduled deletes. */
  retention: "ttl-index" | "scheduled-delete";
  /** A corrupt database file that was moved aside at open. */
  movedAside?: string;
}

export interface Store {
  readonly kind: "sqlite" | "mongodb";
  /** A collection declared at open; an undeclared name throws a `StoreError` ("invalid"). */
  collection<T extends StoreRecord = StoreRecord>(name: string): Collection<T>;
  /**
   * Takes the lease `name` for `holder` for `ttlMs`, atomically: it succeeds when nobody holds it,
   * when its holder's time ran out, or when `holder` already holds it (a renewal).
   */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<LeaseState>;
  /** Gives the lease up if `holder` holds it; another holder may take it at once. */
  releaseLease(name: string, holder: string): Promise<boolean>;
  /** Deletes what each collection's `retentionMs` no longer keeps; counts by collection. */
  applyRetention(): Promise<Record<string, number>>;
  /** Record counts by collection. */
  counts(): Promise<Record<string, number>>;
  health(): StoreHealth;
  close(): Promise<void>;
}

/** Why a store operation failed; `retryable` says whether the same call may succeed later. */
export type StoreErrorCode =
  | "unavailable"
  | "full"
  | "read-only"
  | "corrupt"
  | "invalid"
  | "schema"
  | "rejected"
  | "closed";

const RETRYABLE: ReadonlySet<StoreErrorCode> = new Set(["unavailable", "full", "read-only"]);

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  readonly retryable: boolean;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreError";
    this.code = code;
    this.retryable = RETRYABLE.has(code);
  }
}

const COLLECTION_NAME = /^[a-z][a-z0-9_]{0,59}$/;
const FIELD_PATH = /^[A-Za-z_][A-Za-z0-9_]{0,63}(\.[A-Za-z_][A-Za-z0-9_]{0,63}){0,3}$/;
const MAX_ID_CHARS = 512;

/** A collection's spec with defaults filled in, after its names were checked. */
export interface ResolvedSpec {
  name: string;
  timeField: string;
  indexes: readonly (readonly string[])[];
  retentionMs: number;
  version: number;
  migrations: Readonly<Record<number, Migration>>;
}

/** Checks a spec (names end up in SQL and in MongoDB paths) and fills in the defaults. */
export function resolveSpec(spec: CollectionSpec): ResolvedSpec {
  if (typeof spec?.name !== "string" || !COLLECTION_NAME.test(spec.name)) {
    throw new StoreError("invalid", `collection name ${JSON.stringify(spec?.name)} is not [a-z][a-z0-9_]*`);
  }
  const timeField = spec.timeField ?? "ts";
  checkField(timeField, spec.name);
  const indexes = (spec.indexes ?? []).map((fields) => {
    if (!Array.isArray(fields) || fields.length === 0) {
      throw new StoreError("invalid", `collection ${spec.name}: an index needs at least one field`);
    }
    for (const field of fields) checkField(field, spec.name);
    return [...fields];
  });
  const version = spec.version ?? 1;
  if (!Number.isInteger(version) || version < 1) {
    throw new StoreError("invalid", `collection ${spec.name}: version must be an integer ≥ 1`);
  }
  const migrations = spec.migrations ?? {};
  for (let next = 2; next <= version; next += 1) {
    if (typeof migrations[next] !== "function") {
      throw new StoreError("invalid", `collection ${spec.name}: no migration to version ${next}`);
    }
  }
  const retentionMs = spec.retentionMs ?? 0;
  if (!Number.isFinite(retentionMs) || retentionMs < 0) {
    throw new StoreError("invalid", `collection ${spec.name}: retentionMs must be ≥ 0`);
  }
  return { name: spec.name, timeField, indexes, retentionMs, version, migrations };
}

/** Field names are interpolated into SQL JSON paths and MongoDB paths: only plain identifiers. */
export function checkField(field: unknown, collection: string): asserts field is string {
  if (typeof field !== "string" || !FIELD_PATH.test(field)) {
    throw new StoreError(
      "invalid",
      `collection ${collection}: field ${JSON.stringify(field)} is not a plain name`,
    );
  }
}

/** Checks a record before it is written: a plain object with an id and JSON-safe values. */
export function checkRecord(record: unknown, collection: string): asserts record is StoreRecord {
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    throw new StoreError("invalid", `collection ${collection}: a record must be an object`);
  }
  const id = (record as { id?: unknown }).id;
  if (typeof id !== "string" || id === "" || id.length > MAX_ID_CHARS) {
    throw new StoreError(
      "invalid",
      `collection ${collection}: a record needs a string id of 1-${MAX_ID_CHARS} characters`,
    );
  }
}

/** The record's time, when its time field holds a finite number. */
export function timeOf(record: StoreRecord, timeField: string): number | undefined {
  const value = readPath(record, timeField);
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** Reads a dotted path from a record. */
export function readPath(record: unknown, path: string): unknown {
  let value: unknown = record;
  for (const part of path.split(".")) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** Brings a record written at `from` up to the spec's version. */
export function migrateRecord(
  record: Record<string, unknown>,
  from: number,
  spec: ResolvedSpec,
): Record<string, unknown> {
  let current = record;
  for (let next = from + 1; next <= spec.version; next += 1) {
    const migration = spec.migrations[next];
    if (migration) current = migration(current);
  }
  return current;
}

/** A time range's bounds, checked. */
export function checkRange(query: RangeQuery | undefined, collection: string): void {
  for (const bound of [query?.from, query?.to]) {
    if (bound !== undefined && (typeof bound !== "number" || !Number.isFinite(bound))) {
      throw new StoreError("invalid", `collection ${collection}: a time bound must be a finite number`);
    }
  }
}

/** A lease request's arguments, checked. */
export function checkLease(name: unknown, holder: unknown, ttlMs: unknown): void {
  if (typeof name !== "string" || name === "" || name.length > 200) {
    throw new StoreError("invalid", "a lease needs a name of 1-200 characters");
  }
  if (typeof holder !== "string" || holder === "" || holder.length > 200) {
    throw new StoreError("invalid", "a lease needs a holder of 1-200 characters");
  }
  if (typeof ttlMs !== "number" || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new StoreError("invalid", "a lease needs a positive ttlMs");
  }
}

/** Stable text for a group's values (the key rows are merged on). */
export function groupKey(values: readonly Scalar[]): string {
  return JSON.stringify(values);
}

/** A group value as the interface returns it: a scalar, `null` for anything missing or nested. */
export function toScalar(value: unknown): Scalar {
  if (value === undefined || value === null) return null;
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  return null;
}

/** A limit, checked: a positive integer or nothing. */
export function checkLimit(limit: unknown, collection: string): number | undefined {
  if (limit === undefined) return undefined;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1) {
    throw new StoreError("invalid", `collection ${collection}: limit must be a positive integer`);
  }
  return limit;
}

/** Deletes, in each collection with a retention, what is older than it; counts by collection. */
export async function deleteExpired(
  specs: Iterable<ResolvedSpec>,
  collectionOf: (name: string) => Collection | undefined,
  now: number,
): Promise<Record<string, number>> {
  const deleted: Record<string, number> = {};
  for (const spec of specs) {
    if (spec.retentionMs <= 0) continue;
    const collection = collectionOf(spec.name);
    if (collection) deleted[spec.name] = await collection.deleteOlderThan(now - spec.retentionMs);
  }
  return deleted;
}

/** How a MongoDB store is named in messages and health: the URI's password masked, and the database. */
export function describeMongoTarget(uri: string, database: string): string {
  return `${maskUrlCredentials(String(uri))} (database ${database})`;
}
