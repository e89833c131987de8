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
 * The manifest `configSchema` for a definition. It is deliberately annotation-only (descriptions,
 * defaults, constraints in `$comment`, no validating keywords): the host validates plugin config
 * against it at boot and exits with code 78 on any violation, without naming the field, which would
 * let one typo in an observability plugin's config take the whole gateway down. `resolveConfig`
 * enforces the same rules at service start instead, disables only that extension, and says which
 * field is wrong. Defaults are emitted only for fields without env fallbacks: the host fills schema
 * defaults into the plugin config before the plugin sees it, which would otherwise shadow the env var.
 */
export function toManifestConfigSchema(definition: ConfigDefinition): JsonSchema {
  const schema = toObjectSchema(definition.fields, undefined);
  // old names stay in the schema (the gateway refuses a config with a key its schema lacks)
  for (const [alias, target] of Object.entries(definition.aliases ?? {})) {
    (schema.properties as Record<string, JsonSchema>)[alias] = {
      description: `Deprecated: use \`${target}\` (read as that, with a warning).`,
      deprecated: true,
    };
  }
  return schema;
}

function toObjectSchema(fields: FieldMap, description: string | undefined): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const [key, spec] of Object.entries(fields)) properties[key] = toFieldSchema(spec);
  return {
    ...(description === undefined ? {} : { description }),
    $comment: "validated by the plugin at start (unknown keys are reported there)",
    properties,
  };
}

function toFieldSchema(spec: FieldSpec): JsonSchema {
  const defaultValue = "default" in spec && !spec.env?.length ? spec.default : undefined;
  const annotations: JsonSchema = {
    description: spec.description,
    $comment: describeConstraint(spec),
    ...(defaultValue === undefined ? {} : { default: structuredClone(defaultValue) }),
  };
  if (spec.kind === "object") return { ...toObjectSchema(spec.fields, spec.description), $comment: "object" };
  if (spec.kind === "record") return { ...annotations, additionalProperties: toFieldSchema(spec.values) };
  return annotations;
}

/** The rule `resolveConfig` applies, in words, for readers of the manifest. */
export function describeConstraint(spec: FieldSpec): string {
  const required = spec.required ? "required " : "";
  switch (spec.kind) {
    case "string":
      return `${required}string${spec.minLength === undefined ? "" : `, at least ${spec.minLength} chars`}${spec.maxLength === undefined ? "" : `, at most ${spec.maxLength} chars`}`;
    case "url":
      return `${required}http(s) URL`;
    case "secret":
      return `${required}secret string${spec.minLength === undefined ? "" : `, at least ${spec.minLength} chars`}`;
    case "integer":
    case "number":
      return `${required}${spec.kind}${spec.min === undefined ? "" : ` >= ${spec.min}`}${spec.max === undefined ? "" : ` <= ${spec.max}`}`;
    case "boolean":
      return `${required}boolean`;
    case "enum":
      return `${required}one of ${spec.values.join(", ")}`;
    case "stringArray":
      return `${required}array of strings${spec.maxItems === undefined ? "" : `, at most ${spec.maxItems}`}`;
    case "record":
      return `${required}map of names to values${spec.maxKeys === undefined ? "" : `, at most ${spec.maxKeys} keys`}`;
    case "object":
      return `${required}object`;
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
