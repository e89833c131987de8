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
  consolidation: field.object({
    description:
      "The daily consolidation of the previous day: totals and changes by agent, provider, model, channel and outcome, anomalous hours, budget.",
    fields: {
      at: field.string({
        description: "When it runs each day, `HH:MM` in `timeZone` (default `01:00`).",
        default: "01:00",
        minLength: 4,
        maxLength: 5,
      }),
      timeZone: field.string({
        description:
          "The IANA time zone whose days are consolidated and in which `at` is read (default `UTC`).",
        default: "UTC",
        minLength: 1,
        maxLength: 64,
      }),
      catchUpDays: field.integer({
        description:
          "Days that ended while no gateway consolidated them (it was down at `at`) are consolidated later, oldest first, back to this many days.",
        min: 0,
        max: 90,
        default: 7,
      }),
      dailyBudgetUsd: field.number({
        description: "A day's budget in USD: a consolidation over it is marked over budget.",
        min: 0,
      }),
      monthlyBudgetUsd: field.number({
        description:
          "A month's budget in USD: the consolidation shows the month's burn so far and its projected month-end spend against it.",
        min: 0,
      }),
    },
  }),
});

export type MemoryConfig = ConfigOf<typeof configDefinition>;
