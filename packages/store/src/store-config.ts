/**
 * The store's config fields, spread into a stateful extension's config definition like
 * `packConfigFields`, and their translation into `openStore` options.
 */
import path from "node:path";
import { field } from "@clawscope/kit";
import { retentionMsFor } from "./collections.js";
import type { StoreOptions } from "./open-store.js";
import type { CollectionSpec } from "./store.js";

export const storeConfigFields = {
  store: field.object({
    description:
      "Where the extension keeps its records: an embedded SQLite file (the default, nothing to run) or a MongoDB database shared by a fleet of gateways.",
    fields: {
      kind: field.enum({
        description: "`sqlite` (one file under the plugin's state folder) or `mongodb`.",
        values: ["sqlite", "mongodb"],
        env: ["CLAWSCOPE_STORE_KIND"],
        default: "sqlite",
      }),
      path: field.string({
        description:
          "The SQLite file. When unset: `store.sqlite` in the plugin's folder under the gateway's state directory.",
        minLength: 1,
        advanced: true,
      }),
      uri: field.secret({
        description:
          "The MongoDB connection string (`mongodb://user:password@host:27017/?authSource=admin`); its password is never logged or shown.",
        env: ["CLAWSCOPE_MONGODB_URI"],
      }),
      database: field.string({
        description: "The MongoDB database.",
        env: ["CLAWSCOPE_MONGODB_DATABASE"],
        default: "clawscope",
        minLength: 1,
        maxLength: 63,
      }),
      retentionDays: field.record({
        description:
          'Days each collection keeps its records, by collection (`{ "metrics": 30 }`); 0 keeps them for good. Defaults: metrics 90, alerts 2, snapshots 30, consolidations and audit_logs 365, knowledge_base, concepts and system_state for good.',
        values: field.number({ description: "Days (0: keep for good).", min: 0, max: 36_500 }),
        advanced: true,
      }),
    },
  }),
};

/** The resolved `store` config (what `storeConfigFields` yields). */
export interface StoreConfig {
  kind?: "sqlite" | "mongodb";
  path?: string;
  uri?: string;
  database?: string;
  retentionDays?: Readonly<Record<string, number>>;
}

/**
 * `openStore` options from the config: the collections get their configured retention, the SQLite
 * file defaults to `<stateDir>/store.sqlite`. A MongoDB store without a URI is a config error, in one line.
 */
export function toStoreOptions(
  config: StoreConfig | undefined,
  context: { stateDir: string; collections: readonly CollectionSpec[] },
): StoreOptions {
  const collections = context.collections.map((spec) => ({
    ...spec,
    retentionMs: retentionMsFor(spec.name, config?.retentionDays) || spec.retentionMs || 0,
  }));
  if (config?.kind === "mongodb") {
    if (!config.uri) {
      throw new Error("store.kind is mongodb but store.uri (or CLAWSCOPE_MONGODB_URI) is not set");
    }
    return { kind: "mongodb", uri: config.uri, database: config.database ?? "clawscope", collections };
  }
  return { kind: "sqlite", path: config?.path ?? path.join(context.stateDir, "store.sqlite"), collections };
}
