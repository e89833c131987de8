export { type AuditRecord, type AuditTrail, createAuditTrail } from "./audit-trail.js";
export { DEFAULT_RETENTION_MS, retentionMsFor, type SeedCollection } from "./collections.js";
export { openStore, type StoreOptions } from "./open-store.js";
export {
  type AggregateQuery,
  type AggregateRow,
  type Collection,
  type CollectionSpec,
  type FindQuery,
  type LeaseState,
  type Migration,
  type RangeQuery,
  type Scalar,
  type Store,
  StoreError,
  type StoreErrorCode,
  type StoreHealth,
  type StoreRecord,
  type Where,
} from "./store.js";
export { type StoreConfig, storeConfigFields, toStoreOptions } from "./store-config.js";
export { toStoreSend } from "./store-send.js";
