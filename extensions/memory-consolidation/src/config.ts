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
      leaseSeconds: field.integer({
        description:
          "How long one gateway of a fleet holds a day's consolidation: a gateway that dies while consolidating leaves the day to another after this long (default 600).",
        min: 5,
        max: 3_600,
        default: 600,
        advanced: true,
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
  digest: field.object({
    description:
      "Where each day's digest (the fleet's consolidation as Markdown and HTML) is delivered, once per day: by email over SMTP and to a Slack incoming webhook. Neither is on until configured.",
    fields: {
      email: field.object({
        description:
          "Email over SMTP (any relay: your mail server, SendGrid's `smtp.sendgrid.net` with user `apikey`, Amazon SES, Mailgun). On when `host`, `from` and `to` are set.",
        fields: {
          host: field.string({
            description: "The SMTP server's host name.",
            env: ["CLAWSCOPE_SMTP_HOST"],
            minLength: 1,
            maxLength: 253,
          }),
          port: field.integer({
            description: "The SMTP port (587 for STARTTLS submission, 465 for TLS, 25 for relay).",
            env: ["CLAWSCOPE_SMTP_PORT"],
            default: 587,
            min: 1,
            max: 65_535,
          }),
          security: field.enum({
            description:
              "`starttls` (default) requires the connection to be upgraded to TLS before anything is sent; `tls` connects over TLS (port 465); `none` sends in clear (a relay on this host or in a private network only).",
            values: ["starttls", "tls", "none"],
            default: "starttls",
          }),
          user: field.string({
            description: "The SMTP user, when the server asks for login.",
            env: ["CLAWSCOPE_SMTP_USER"],
            minLength: 1,
            maxLength: 320,
          }),
          password: field.secret({
            description: "The SMTP password or API key; never logged.",
            env: ["CLAWSCOPE_SMTP_PASSWORD"],
          }),
          from: field.string({
            description: "The sender address, e.g. `clawscope <ops@example.com>`.",
            env: ["CLAWSCOPE_DIGEST_FROM"],
            minLength: 3,
            maxLength: 320,
          }),
          to: field.stringArray({
            description: "The recipients.",
            env: ["CLAWSCOPE_DIGEST_TO"],
            maxItems: 50,
          }),
        },
      }),
      slack: field.object({
        description: "A Slack incoming webhook; the digest is posted as a Block Kit message.",
        fields: {
          webhookUrl: field.secret({
            description:
              "The webhook's URL (`https://hooks.slack.com/services/…`): it is a secret, never logged.",
            env: ["CLAWSCOPE_SLACK_WEBHOOK_URL"],
          }),
        },
      }),
      linkUrl: field.url({
        description:
          "Where the digest's readers open the full page (the gateway's `/api/consolidation/<date>?format=html` behind your proxy); shown as a link when set.",
      }),
    },
  }),
});

export type MemoryConfig = ConfigOf<typeof configDefinition>;
