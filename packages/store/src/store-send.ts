/**
 * The glue between the kit's export pipeline and a collection: `createPipeline(name, { send:
 * toStoreSend(collection) })` makes store writes spooled, retried and bounded like any backend's.
 * Upserts are idempotent by id, so a batch sent again after a crash or a timeout changes nothing.
 * A store that is down, full, read-only, corrupt (moved aside and reopened) or closed is a retry:
 * the batch waits in the spool. A record that is not a record (no id) is refused on its own and
 * the rest of its batch written; a batch the store refuses (rejected, from a newer schema) is a
 * reject. Refused items go to the dead-letter folder, where an operator can see and resend them.
 */
import { describeError, type ExportItem, type SendResult } from "@clawscope/kit";
import { type Collection, checkRecord, StoreError, type StoreRecord } from "./store.js";

/** Codes after which the same write can succeed later (the data is fine; the store is not). */
const WAIT_CODES = new Set(["unavailable", "full", "read-only", "corrupt", "closed"]);

/** A pipeline `send` that upserts each item's payload into `collection`. */
export function toStoreSend<T extends StoreRecord>(
  collection: Pick<Collection<T>, "name" | "upsert">,
): (items: ExportItem<T>[]) => Promise<SendResult> {
  const label = `store ${collection.name}`;
  return async (items) => {
    // a record the store would refuse is set aside on its own: the rest of its batch still lands
    const valid: T[] = [];
    const rejected: { id: string; reason: string }[] = [];
    for (const item of items) {
      try {
        checkRecord(item.payload, collection.name);
        valid.push(item.payload);
      } catch (error) {
        rejected.push({ id: item.id, reason: `${label}: ${describeError(error)}` });
      }
    }
    try {
      if (valid.length > 0) await collection.upsert(valid);
      return rejected.length > 0 ? { kind: "ok", rejected } : { kind: "ok" };
    } catch (error) {
      const cause = describeError(error);
      const code = error instanceof StoreError ? error.code : undefined;
      if (code !== undefined && !WAIT_CODES.has(code)) {
        return { kind: "reject", reason: `${label}: ${cause}`, failure: { cause: `${code}: ${cause}` } };
      }
      // an unknown throw is treated as the store's trouble, not the data's: wait and retry
      return {
        kind: "retry",
        reason: `${label}: ${cause}`,
        failure: { cause: code ? `${code}: ${cause}` : cause },
      };
    }
  };
}
