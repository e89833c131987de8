/**
 * Config of clawscope-knowledge-base. Nothing is required: on its defaults it keeps the gateway's
 * knowledge base in an embedded SQLite file under the plugin's state folder. A fleet points every
 * gateway at one MongoDB (`store.kind: "mongodb"`, `store.uri` or `CLAWSCOPE_MONGODB_URI`).
 */
import { type ConfigOf, defineConfig, field, packConfigFields } from "@clawscope/kit";
import { storeConfigFields } from "@clawscope/store";

export const configDefinition = defineConfig({
  ...packConfigFields,
  ...storeConfigFields,
  gatewayName: field.string({
    description:
      "This gateway's name in the fleet's records (every occurrence carries it). When unset: env `CLAWSCOPE_GATEWAY_NAME`, else the host name.",
    minLength: 1,
    maxLength: 250,
  }),
  quietAfterHours: field.number({
    description:
      "An issue with no occurrence for this many hours is `quiet`; when it occurs again it is `regressed`.",
    default: 24,
    min: 0.01,
    max: 8_760,
  }),
  learnWithinHours: field.number({
    description:
      "When an issue goes quiet and its last occurrence lies within this many hours of a change of the gateway's config (seen at a start), the knowledge base records the change as a learned solution candidate.",
    default: 1,
    min: 0.01,
    max: 720,
    advanced: true,
  }),
  occurrenceRetentionDays: field.number({
    description:
      "Days each occurrence is kept (the issue entries keep their counts, first and last seen for good).",
    default: 30,
    min: 1,
    max: 3_650,
    advanced: true,
  }),
  fingerprintRules: field.record({
    description:
      'Your own grouping, by rule name, tried in order (the first that matches wins): `match` on `kind`, `category`, `provider`, `model`, `tool` and/or `message` (a case-insensitive regular expression on the normalized message), then `assign` (every failure it matches is one issue) or `refine` (the default grouping split further by this value). Example: `{ "ollama-oom": { "match": { "provider": "ollama", "message": "system memory" }, "assign": "ollama-out-of-memory" } }`.',
    maxKeys: 200,
    values: field.object({
      description: "One rule.",
      fields: {
        match: field.object({
          description: "What the rule matches; every condition given must hold.",
          fields: {
            kind: field.string({
              description:
                "`provider_error`, `tool_error`, `tool_blocked`, `tool_loop`, `session_stuck`, `turn_incomplete`, `export_failure` or `alert`.",
              maxLength: 40,
            }),
            category: field.string({ description: "The error category.", maxLength: 200 }),
            provider: field.string({ description: "The provider id.", maxLength: 200 }),
            model: field.string({ description: "The model id.", maxLength: 200 }),
            tool: field.string({ description: "The tool name.", maxLength: 200 }),
            message: field.string({
              description: "A regular expression tested against the normalized message.",
              maxLength: 500,
            }),
          },
        }),
        assign: field.string({ description: "The fingerprint every match gets.", maxLength: 200 }),
        refine: field.string({ description: "A value added to the default fingerprint.", maxLength: 200 }),
      },
    }),
  }),
  alertWebhook: field.object({
    description:
      "Alertmanager's webhook receiver on the gateway's port, `POST /webhook/alerts`: firing and resolved alerts are stored (48 hours) and linked to issue entries. Closed until `token` is set.",
    fields: {
      token: field.secret({
        description:
          "The bearer token Alertmanager sends (its receiver's `http_config.authorization.credentials`); never the gateway's token. At least 16 characters.",
        env: ["CLAWSCOPE_ALERTMANAGER_TOKEN"],
        minLength: 16,
      }),
    },
  }),
  traceLinks: field.object({
    description:
      "Where an issue's example traces open: URL templates with `{langfuseTraceId}`, `{mlflowTraceId}`, `{otelTraceId}` (the ids clawscope-langfuse, -mlflow and -otel gave the turn), `{traceId}` (the host's), `{turnId}` and `{gateway}`, e.g. `https://cloud.langfuse.com/project/<project>/traces/{langfuseTraceId}`.",
    fields: {
      langfuse: field.string({ description: "A Langfuse trace page.", maxLength: 1_000 }),
      mlflow: field.string({ description: "An MLflow trace (or run) page.", maxLength: 1_000 }),
      tempo: field.string({ description: "A Tempo or Grafana Explore page.", maxLength: 1_000 }),
    },
  }),
});

export type KnowledgeBaseConfig = ConfigOf<typeof configDefinition>;
