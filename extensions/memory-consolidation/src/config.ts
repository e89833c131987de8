/**
 * Config of clawscope-memory-consolidation. Nothing is required: on its defaults it keeps the
 * gateway's memory in an embedded SQLite file under the plugin's state folder. A fleet points
 * every gateway at one MongoDB (`store.kind: "mongodb"`, `store.uri` or `CLAWSCOPE_MONGODB_URI`).
 */
import { type ConfigOf, defineConfig, field, packConfigFields } from "@clawscope/kit";
import { storeConfigFields } from "@clawscope/store";

export const configDefinition = defineConfig({
  ...packConfigFields,
  ...storeConfigFields,
  gatewayName: field.string({
    description:
      "This gateway's name in the fleet's records (every rollup carries it, with an id that tells apart two gateways of one name). When unset: env `CLAWSCOPE_GATEWAY_NAME`, else the host name.",
    minLength: 1,
    maxLength: 250,
  }),
  recomputeHours: field.number({
    description:
      "At start, the minutes of the last this many hours that hold turns are rolled up again, so turns written just before a crash are in the rollups. 0 turns it off.",
    default: 3,
    min: 0,
    max: 72,
    advanced: true,
  }),
});

export type MemoryConfig = ConfigOf<typeof configDefinition>;
