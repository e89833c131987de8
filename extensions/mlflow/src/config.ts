/**
 * Config of clawscope-mlflow. Precedence for every field: plugin config → the field's env vars (in
 * order) → default. The env fallbacks are the ones MLflow's own clients read, so a process already
 * set up for MLflow needs no plugin config at all.
 */
import { type ConfigOf, defineConfig, field, packConfigFields } from "@clawscope/kit";

/** Where MLflow is when nothing is set: a tracking server on this machine (`mlflow server`'s default port). */
export const DEFAULT_TRACKING_URI = "http://127.0.0.1:5000";
/** The experiment runs go to when nothing is set. */
export const DEFAULT_EXPERIMENT_NAME = "openclaw";

/** The extension's config definition (manifest schema and uiHints are generated from it). */
export const configDefinition = defineConfig({
  ...packConfigFields,
  trackingUri: field.url({
    description:
      "Base URL of the MLflow tracking server (the REST API is under `<trackingUri>/api/2.0/mlflow/`). Credentials in the URL (`user:pass@`) are used for HTTP Basic and never logged.",
    env: ["MLFLOW_TRACKING_URI"],
    default: DEFAULT_TRACKING_URI,
    placeholder: DEFAULT_TRACKING_URI,
  }),
  experimentName: field.string({
    description:
      "The MLflow experiment that holds one run per gateway process. Found by name or created; a deleted experiment of that name is reported, not reused (restore it or pick another name).",
    env: ["MLFLOW_EXPERIMENT_NAME"],
    default: DEFAULT_EXPERIMENT_NAME,
    minLength: 1,
    maxLength: 500,
  }),
  runName: field.string({
    description:
      "Name of the run this gateway process creates. When unset: `<gatewayName> <start time, UTC>`, so runs of one gateway sort by start.",
    minLength: 1,
    maxLength: 250,
  }),
  gatewayName: field.string({
    description:
      "This gateway's identity in MLflow (run tag `clawscope.gateway`), used to compare gateways and to close runs a crashed process of this same gateway left RUNNING. When unset: env `CLAWSCOPE_GATEWAY_NAME`, else the host name.",
    minLength: 1,
    maxLength: 250,
  }),
  token: field.secret({
    description: "Bearer token for the tracking server (MLflow's `MLFLOW_TRACKING_TOKEN`).",
    env: ["MLFLOW_TRACKING_TOKEN"],
  }),
  username: field.secret({
    description:
      "User for HTTP Basic auth (MLflow's `MLFLOW_TRACKING_USERNAME`); with `password` it wins over `token`.",
    env: ["MLFLOW_TRACKING_USERNAME"],
  }),
  password: field.secret({
    description: "Password for HTTP Basic auth (MLflow's `MLFLOW_TRACKING_PASSWORD`).",
    env: ["MLFLOW_TRACKING_PASSWORD"],
  }),
  traces: field.boolean({
    description:
      "Send one trace per turn to MLflow's Traces tab (OTLP at `<trackingUri>/v1/traces`): an AGENT span with CHAT_MODEL and TOOL spans, token usage, cost, and the hashed session id. Needs MLflow 3.6 or later on a SQL store.",
    default: true,
  }),
  sampling: field.object({
    description:
      "Which turns get a trace. Run metrics always count every turn, and failed turns (error, aborted, blocked, incomplete) always get a trace.",
    fields: {
      ratio: field.number({
        description:
          "Share of healthy turns traced, from 0 (none) to 1 (all). Decided from the trace id, so a re-sent turn gets the same decision.",
        min: 0,
        max: 1,
        default: 1,
      }),
    },
  }),
  timeoutMs: field.integer({
    description:
      "How long one request to MLflow may take before it is abandoned and retried later (milliseconds).",
    min: 100,
    max: 120_000,
    default: 10_000,
    advanced: true,
  }),
});

/** The resolved config. */
export type MlflowConfig = ConfigOf<typeof configDefinition>;
