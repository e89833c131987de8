/** Keyed hashing of session and user ids, so backends can group by id without learning it. */
import { createHmac } from "node:crypto";

/** Options of {@link createIdHasher}. */
export interface IdHasherOptions {
  /** The HMAC key (from config/env or `loadOrCreateHashKey`). Ignored when `raw` is true. */
  key: string;
  /** Pass ids through unchanged (the operator opted in with `rawIds: true`). */
  raw?: boolean;
  /** Hex characters kept (default 32, i.e. 128 bits; between 16 and 64). */
  hexChars?: number;
}

/** Hashes ids for export. */
export interface IdHasher {
  /** `HMAC-SHA256(key, id)` as lowercase hex, cut to `hexChars`, no prefix; or `id` when raw. */
  hash: (id: string) => string;
}

/**
 * Creates the id hasher. The same key gives the same hash in every extension and process, so
 * traces in one backend and metrics in another still join. Throws only on an empty key with
 * `raw` false (a programming error: the key always comes from config or the key file).
 */
export function createIdHasher(options: IdHasherOptions): IdHasher {
  if (options.raw === true) return { hash: (id) => String(id) };
  if (typeof options.key !== "string" || options.key === "") {
    throw new TypeError("createIdHasher needs a non-empty key unless raw is true");
  }
  const key = options.key;
  const hexChars = Math.min(64, Math.max(16, Math.floor(options.hexChars ?? 32)));
  return {
    hash: (id) =>
      createHmac("sha256", key)
        .update(typeof id === "string" ? id : String(id))
        .digest("hex")
        .slice(0, hexChars),
  };
}
