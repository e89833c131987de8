/**
 * Config of clawscope-langfuse. Precedence for every field: plugin config → the field's env vars (in
 * order) → default. The env fallbacks are the ones the official Langfuse SDKs read, so a process
 * already set up for Langfuse needs no plugin config beyond enabling the plugin.
 */
import { ConfigError, type ConfigOf, defineConfig, field, packConfigFields } from "@clawscope/kit";

/** Where Langfuse is when nothing is set: Langfuse Cloud (EU), the SDK's own default. */
export const DEFAULT_BASE_URL = "https://cloud.langfuse.com";

/** The extension's config definition (manifest schema and uiHints are generated from it). */
export const configDefinition = defineConfig(
  {
    ...packConfigFields,
    publicKey: field.string({
      description:
        "The project's public API key (`pk-lf-…`), sent as the HTTP Basic user and in `x-langfuse-public-key`.",
      env: ["LANGFUSE_PUBLIC_KEY"],
      required: true,
      minLength: 1,
      maxLength: 256,
      placeholder: "pk-lf-...",
    }),
    secretKey: field.secret({
      description: "The project's secret API key (`sk-lf-…`), sent as the HTTP Basic password; never logged.",
      env: ["LANGFUSE_SECRET_KEY"],
      required: true,
      minLength: 1,
    }),
    baseUrl: field.url({
      description:
        "Base URL of the Langfuse server: `https://cloud.langfuse.com` (EU), `https://us.cloud.langfuse.com` (US), or a self-hosted instance. Traces go to `<baseUrl>/api/public/otel/v1/traces`, scores to `<baseUrl>/api/public/ingestion` (as `score-create` events, in batches).",
      // LANGFUSE_BASEURL is the SDK's legacy name; LANGFUSE_HOST is the Python SDK's
      env: ["LANGFUSE_BASE_URL", "LANGFUSE_BASEURL", "LANGFUSE_HOST"],
      default: DEFAULT_BASE_URL,
      placeholder: DEFAULT_BASE_URL,
      // Langfuse authenticates with publicKey/secretKey: a password in the URL would only leak
      credentials: "refuse",
    }),
    environment: field.string({
      description:
        "Langfuse environment of every trace and score (e.g. `production`): lowercase letters, digits, `-` and `_`, at most 40 characters, not starting with `langfuse`. Unset: Langfuse's `default`.",
      env: ["LANGFUSE_TRACING_ENVIRONMENT"],
      minLength: 1,
      maxLength: 40,
    }),
    release: field.string({
      description: "Release (version) of the deployment, shown on every trace and added as a `release:` tag.",
      env: ["LANGFUSE_RELEASE"],
      minLength: 1,
      maxLength: 200,
    }),
    sampling: field.object({
      description:
        "Which turns are sent. Failed, aborted, blocked or incomplete turns and turns with a tool loop are always sent.",
      fields: {
        ratio: field.number({
          description:
            "Share of healthy turns sent, from 0 (none) to 1 (all). Decided from the trace id, so a re-sent turn gets the same answer. Was `sampleRate` (still read, with a deprecation warning).",
          env: ["LANGFUSE_SAMPLE_RATE"],
          min: 0,
          max: 1,
          default: 1,
        }),
      },
    }),
    scores: field.boolean({
      description:
        "Send scores (batched `score-create` events to `POST /api/public/ingestion`): `turn.outcome` on every trace, `tool.loop` when a turn repeats a tool, `session.stuck` when the host reports a stuck or stalled session.",
      default: true,
    }),
    toolLoopThreshold: field.integer({
      description:
        "A turn that calls the same tool this many times in a row gets a `tool.loop` score (the host's own `tool.loop` events count too).",
      min: 2,
      max: 1000,
      default: 5,
      advanced: true,
    }),
    timeoutMs: field.integer({
      description:
        "How long one request to Langfuse may take before it is abandoned and retried later (milliseconds).",
      min: 100,
      max: 120_000,
      default: 10_000,
      advanced: true,
    }),
  },
  { aliases: { sampleRate: "sampling.ratio" } },
);

/** The resolved config. */
export type LangfuseConfig = ConfigOf<typeof configDefinition>;

/** What Langfuse accepts as an environment name (the SDK's and the server's rule). */
const ENVIRONMENT_PATTERN = /^(?!langfuse)[a-z0-9_-]{1,40}$/;

/**
 * Checks what the field rules cannot express: keys pasted into the wrong field, and an environment
 * name Langfuse would refuse. Throws a `ConfigError` naming the field; never shows a secret.
 */
export function validateLangfuseConfig(config: {
  publicKey: string;
  secretKey: string;
  environment?: string | undefined;
}): void {
  const publicKey = String(config.publicKey ?? "").trim();
  const secretKey = String(config.secretKey ?? "").trim();
  if (secretKey.startsWith("pk-lf-") || publicKey.startsWith("sk-lf-")) {
    const name = secretKey.startsWith("pk-lf-") ? "secretKey" : "publicKey";
    const holds = name === "secretKey" ? "a public key (pk-lf-…)" : "a secret key (sk-lf-…)";
    throw new ConfigError(
      `config field "${name}" holds ${holds}: publicKey and secretKey look swapped; publicKey starts with pk-lf-, secretKey with sk-lf-`,
      name,
    );
  }
  if (config.environment !== undefined && !ENVIRONMENT_PATTERN.test(config.environment)) {
    throw new ConfigError(
      `config field "environment" is ${JSON.stringify(config.environment.slice(0, 40))}: Langfuse accepts lowercase letters, digits, "-" and "_" (at most 40), not starting with "langfuse"`,
      "environment",
    );
  }
}

/** The base URL without trailing slashes, so paths join cleanly. */
export function toBaseUrl(baseUrl: string): string {
  return baseUrl.trim().replace(/\/+$/, "");
}

/** A public key as logs may show it: the `pk-lf-` prefix and its last four characters. */
export function maskPublicKey(publicKey: string): string {
  const key = String(publicKey ?? "");
  const tail = key.length > 10 ? key.slice(-4) : "";
  const prefix = key.startsWith("pk-lf-") ? "pk-lf-" : "";
  return `${prefix}…${tail}`;
}
