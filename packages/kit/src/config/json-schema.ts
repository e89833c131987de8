/** Generates the manifest's `configSchema` and `uiHints` from a config definition. */
import type { ConfigDefinition, FieldMap, FieldSpec } from "./define-config.js";

/** A JSON Schema (draft-07 subset) as plain data. */
export type JsonSchema = { [keyword: string]: unknown };

/** One entry of the manifest's `uiHints`, in the format OpenClaw's bundled plugins use. */
export interface UiHint {
  label: string;
  help: string;
  sensitive?: boolean;
  advanced?: boolean;
  placeholder?: string;
}

/** Matches what `resolveConfig` accepts for `url` fields. */
export const URL_PATTERN = "^https?://";

/**
 * The manifest `configSchema` for a definition: `additionalProperties: false` everywhere, a
 * description on every field. Defaults are emitted only for fields without env fallbacks: the
 * host fills schema defaults into the plugin config before the plugin sees it, which would
 * otherwise shadow the env var.
 */
export function toManifestConfigSchema(definition: ConfigDefinition): JsonSchema {
  return toObjectSchema(definition.fields, undefined);
}

function toObjectSchema(fields: FieldMap, description: string | undefined): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [key, spec] of Object.entries(fields)) {
    properties[key] = toFieldSchema(spec);
    // env can satisfy a required field, so only env-less required fields are required in the schema
    if (spec.required && !spec.env?.length) required.push(key);
  }
  return {
    type: "object",
    ...(description === undefined ? {} : { description }),
    additionalProperties: false,
    properties,
    ...(required.length > 0 ? { required } : {}),
  };
}

function toFieldSchema(spec: FieldSpec): JsonSchema {
  const withDefault = (schema: JsonSchema, value: unknown): JsonSchema =>
    value === undefined || spec.env?.length ? schema : { ...schema, default: value };
  const description = spec.description;
  switch (spec.kind) {
    case "string":
      return withDefault(
        {
          type: "string",
          description,
          ...(spec.minLength === undefined ? {} : { minLength: spec.minLength }),
          ...(spec.maxLength === undefined ? {} : { maxLength: spec.maxLength }),
        },
        spec.default,
      );
    case "url":
      return withDefault({ type: "string", description, format: "uri", pattern: URL_PATTERN }, spec.default);
    case "secret":
      return {
        type: "string",
        description,
        ...(spec.minLength === undefined ? {} : { minLength: spec.minLength }),
      };
    case "integer":
    case "number":
      return withDefault(
        {
          type: spec.kind,
          description,
          ...(spec.min === undefined ? {} : { minimum: spec.min }),
          ...(spec.max === undefined ? {} : { maximum: spec.max }),
        },
        spec.default,
      );
    case "boolean":
      return withDefault({ type: "boolean", description }, spec.default);
    case "enum":
      return withDefault({ type: "string", description, enum: [...spec.values] }, spec.default);
    case "stringArray":
      return withDefault(
        {
          type: "array",
          description,
          items: { type: "string" },
          ...(spec.maxItems === undefined ? {} : { maxItems: spec.maxItems }),
        },
        spec.default === undefined ? undefined : [...spec.default],
      );
    case "record":
      return withDefault(
        {
          type: "object",
          description,
          additionalProperties: toFieldSchema(spec.values),
          ...(spec.maxKeys === undefined ? {} : { maxProperties: spec.maxKeys }),
        },
        spec.default === undefined ? undefined : structuredClone(spec.default),
      );
    case "object":
      return toObjectSchema(spec.fields, description);
  }
}

/**
 * The manifest `uiHints`: one entry per field path (`a.b`, `records.*.c`), label and help taken
 * from the definition, `sensitive` on secrets, env fallbacks and defaults named in the help.
 */
export function toUiHints(definition: ConfigDefinition): Record<string, UiHint> {
  const hints: Record<string, UiHint> = {};
  collectHints(definition.fields, "", hints);
  return hints;
}

function collectHints(fields: FieldMap, prefix: string, hints: Record<string, UiHint>): void {
  for (const [key, spec] of Object.entries(fields)) {
    const path = prefix + key;
    hints[path] = toHint(key, spec);
    if (spec.kind === "object") collectHints(spec.fields, `${path}.`, hints);
    if (spec.kind === "record" && spec.values.kind === "object")
      collectHints(spec.values.fields, `${path}.*.`, hints);
  }
}

function toHint(key: string, spec: FieldSpec): UiHint {
  const notes: string[] = [];
  if (spec.env?.length) notes.push(`Fallback: env ${spec.env.join(", ")}.`);
  const defaultValue = "default" in spec ? spec.default : undefined;
  if (defaultValue !== undefined && spec.kind !== "record")
    notes.push(`Default: ${JSON.stringify(defaultValue)}.`);
  const sensitive = spec.kind === "secret" || (spec.kind === "record" && spec.values.kind === "secret");
  return {
    label: spec.label ?? toLabel(key),
    help: [spec.description, ...notes].join(" "),
    ...(sensitive ? { sensitive: true } : {}),
    ...(spec.advanced ? { advanced: true } : {}),
    ...(spec.placeholder === undefined ? {} : { placeholder: spec.placeholder }),
  };
}

const UNIT_WORDS: Record<string, string> = { ms: "(ms)", bytes: "(bytes)", chars: "(chars)", seconds: "(s)" };
const ACRONYMS: Record<string, string> = {
  id: "ID",
  ids: "IDs",
  url: "URL",
  uri: "URI",
  api: "API",
  http: "HTTP",
  otlp: "OTLP",
  usd: "USD",
};

/** `flushIntervalMs` → "Flush Interval (ms)", `trackingUri` → "Tracking URI". */
export function toLabel(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .split(/[\s_-]+/)
    .filter((word) => word !== "");
  return words
    .map((word, index) => {
      const lower = word.toLowerCase();
      if (index > 0 && index === words.length - 1 && UNIT_WORDS[lower]) return UNIT_WORDS[lower];
      return ACRONYMS[lower] ?? lower.charAt(0).toUpperCase() + lower.slice(1);
    })
    .join(" ");
}
