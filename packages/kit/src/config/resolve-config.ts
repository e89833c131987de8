/**
 * Runtime validation of extension config against its definition.
 *
 * Precedence, for every field: plugin config → env var (the field's `env` list, in order) →
 * default. An env var that does not validate is ignored with a warning (env vars are shared
 * with other software, so a foreign format must not disable the extension); a bad plugin config
 * value is a `ConfigError`.
 */

import { hasUrlCredentials, maskUrlCredentials } from "../privacy/url-credentials.js";
import type { ConfigDefinition, FieldMap, FieldSpec, InferConfig } from "./define-config.js";
import { parseKeyValueList } from "./define-config.js";
import { URL_PATTERN } from "./json-schema.js";

/** A config problem, as one line naming the field path, what was expected and what was received. */
export class ConfigError extends Error {
  override name = "ConfigError";
  /** The dotted path of the offending field ("" for the whole config). */
  readonly path: string;
  constructor(message: string, path: string) {
    super(message);
    this.path = path;
  }
}

/** What `resolveConfig` returns. */
export interface ResolvedConfig<Config> {
  config: Config;
  /** One line each: ignored env vars and similar non-fatal findings. Never contains secrets. */
  warnings: string[];
}

/** The environment as `process.env` types it. */
export type ConfigEnv = Readonly<Record<string, string | undefined>>;

const DEFAULT_MAX_RECORD_KEYS = 1000;
const SHOWN_VALUE_CHARS = 40;
const URL_REGEX = new RegExp(URL_PATTERN);

/**
 * Validates `raw` (the plugin's `api.pluginConfig`, any shape) against `definition`, filling
 * unset fields from env and defaults. Throws `ConfigError` on the first problem; never returns
 * a partially valid config. The result shares no objects with `raw`.
 */
export function resolveConfig<Definition extends ConfigDefinition>(
  definition: Definition,
  raw: unknown,
  env: ConfigEnv = process.env,
): ResolvedConfig<InferConfig<Definition>> {
  const warnings: string[] = [];
  if (raw !== undefined && raw !== null && !isPlainObject(raw)) {
    throw new ConfigError(`plugin config must be an object (got ${describeReceived(raw, false)})`, "");
  }
  const input = applyAliases(definition, raw ?? undefined, warnings);
  const config = resolveFields(definition.fields, input, "", env, warnings);
  return { config: config as InferConfig<Definition>, warnings };
}

/** Moves values set under a deprecated name to the field's path today, warning once per name. */
function applyAliases(
  definition: ConfigDefinition,
  raw: Record<string, unknown> | undefined,
  warnings: string[],
): Record<string, unknown> | undefined {
  if (!raw || !definition.aliases) return raw;
  let copy: Record<string, unknown> | undefined;
  for (const [alias, target] of Object.entries(definition.aliases)) {
    if (!Object.hasOwn(raw, alias)) continue;
    copy ??= structuredClone(raw);
    const value = copy[alias];
    delete copy[alias];
    const keys = target.split(".");
    let parent: Record<string, unknown> = copy;
    for (const key of keys.slice(0, -1)) {
      const next = parent[key];
      if (next === undefined) parent[key] = {};
      else if (!isPlainObject(next)) {
        throw new ConfigError(
          `config field ${quotePath(key)} must be an object (${quotePath(alias)} sets ${quotePath(target)})`,
          key,
        );
      }
      parent = parent[key] as Record<string, unknown>;
    }
    const last = keys.at(-1) as string;
    if (parent[last] !== undefined) {
      throw new ConfigError(
        `config fields ${quotePath(alias)} (deprecated) and ${quotePath(target)} are both set: keep ${quotePath(target)} only`,
        alias,
      );
    }
    parent[last] = value;
    warnings.push(
      `config field ${quotePath(alias)} is deprecated: use ${quotePath(target)} (it is read as that for now)`,
    );
  }
  return copy ?? raw;
}

function resolveFields(
  fields: FieldMap,
  raw: Record<string, unknown> | undefined,
  prefix: string,
  env: ConfigEnv,
  warnings: string[],
): Record<string, unknown> {
  if (raw) {
    for (const key of Object.keys(raw)) {
      if (Object.hasOwn(fields, key)) continue;
      const known = Object.keys(fields).join(", ");
      throw new ConfigError(
        `config field ${quotePath(prefix + key)} is not a known option (known: ${truncateText(known, 200)})`,
        prefix + key,
      );
    }
  }
  const result: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(fields)) {
    const value = resolveField(spec, raw?.[key], prefix + key, env, warnings);
    if (value !== undefined) result[key] = value;
  }
  return result;
}

function resolveField(
  spec: FieldSpec,
  rawValue: unknown,
  path: string,
  env: ConfigEnv,
  warnings: string[],
): unknown {
  if (spec.kind === "object") {
    if (rawValue !== undefined && !isPlainObject(rawValue)) {
      throw new ConfigError(fieldMessage(path, "", "must be an object", rawValue, false), path);
    }
    return resolveFields(spec.fields, rawValue, `${path}.`, env, warnings);
  }
  if (rawValue !== undefined) return validateValue(spec, rawValue, path, "");
  for (const name of spec.env ?? []) {
    const text = env[name];
    if (typeof text !== "string" || text.trim() === "") continue;
    try {
      const parsed = (spec.parseEnv ?? defaultEnvParser(spec))(text);
      return validateValue(spec, parsed, path, ` from env ${name}`);
    } catch (error) {
      // a bad endpoint must not quietly become the default one: data would go to another server
      if (spec.kind === "url" && error instanceof ConfigError) throw error;
      const reason =
        error instanceof ConfigError
          ? error.message
          : `config field ${quotePath(path)} from env ${name} could not be parsed`;
      warnings.push(`${reason}; env ${name} ignored`);
    }
  }
  const fallback = "default" in spec ? spec.default : undefined;
  if (fallback !== undefined) return structuredClone(fallback);
  if (spec.required) {
    const where = spec.env?.length ? `the plugin config or env ${spec.env.join(" / ")}` : "the plugin config";
    throw new ConfigError(`config field ${quotePath(path)} is required: set it in ${where}`, path);
  }
  return undefined;
}

function validateValue(spec: FieldSpec, value: unknown, path: string, source: string): unknown {
  // a record of secrets (headers) is as secret as its values: a malformed one is never echoed
  const secret = spec.kind === "secret" || (spec.kind === "record" && spec.values.kind === "secret");
  const fail = (expected: string): never => {
    throw new ConfigError(fieldMessage(path, source, expected, value, secret), path);
  };
  switch (spec.kind) {
    case "string":
    case "secret": {
      const minLength = spec.minLength ?? 0;
      const maxLength = spec.kind === "string" ? spec.maxLength : undefined;
      const expected =
        maxLength !== undefined
          ? `must be a string of ${minLength} to ${maxLength} characters`
          : minLength > 0
            ? `must be a string of at least ${minLength} characters`
            : "must be a string";
      if (typeof value !== "string" || value.length < minLength) return fail(expected);
      if (maxLength !== undefined && value.length > maxLength) return fail(expected);
      return value;
    }
    case "url":
      if (typeof value !== "string" || !URL_REGEX.test(value) || !URL.canParse(value)) {
        return fail("must be an http or https URL");
      }
      if (spec.credentials === "refuse" && hasUrlCredentials(value)) {
        return fail("must not carry credentials (user:password@); give them in their own fields");
      }
      return value;
    case "integer":
    case "number": {
      const noun = spec.kind === "integer" ? "an integer" : "a number";
      const bounds =
        spec.min !== undefined && spec.max !== undefined
          ? ` between ${spec.min} and ${spec.max}`
          : spec.min !== undefined
            ? ` >= ${spec.min}`
            : spec.max !== undefined
              ? ` <= ${spec.max}`
              : "";
      const ok =
        typeof value === "number" &&
        Number.isFinite(value) &&
        (spec.kind === "number" || Number.isInteger(value)) &&
        (spec.min === undefined || value >= spec.min) &&
        (spec.max === undefined || value <= spec.max);
      return ok ? value : fail(`must be ${noun}${bounds}`);
    }
    case "boolean":
      return typeof value === "boolean" ? value : fail("must be true or false");
    case "enum":
      if (typeof value !== "string" || !spec.values.includes(value)) {
        return fail(`must be one of ${spec.values.map((item) => JSON.stringify(item)).join(", ")}`);
      }
      return value;
    case "stringArray": {
      const limit = spec.maxItems;
      const expected =
        limit === undefined ? "must be a list of strings" : `must be a list of at most ${limit} strings`;
      if (!Array.isArray(value) || (limit !== undefined && value.length > limit)) return fail(expected);
      value.forEach((item, index) => {
        if (typeof item !== "string") {
          throw new ConfigError(
            fieldMessage(`${path}[${index}]`, source, "must be a string", item, false),
            path,
          );
        }
      });
      return [...value];
    }
    case "record": {
      const maxKeys = spec.maxKeys ?? DEFAULT_MAX_RECORD_KEYS;
      // `name=value,name2=value2` in the config file too, as the env var takes it
      if (typeof value === "string" && spec.values.kind !== "object") {
        const parsed = parseKeyValueList(value);
        if (parsed === undefined) return fail("must be an object or a name=value,name2=value2 list");
        value = parsed;
      }
      if (!isPlainObject(value)) {
        return fail(
          spec.values.kind === "object"
            ? "must be an object"
            : "must be an object or a name=value,name2=value2 list",
        );
      }
      const keys = Object.keys(value);
      if (keys.length > maxKeys) return fail(`must have at most ${maxKeys} keys`);
      const result: Record<string, unknown> = {};
      for (const key of keys) {
        const entryPath = `${path}.${key}`;
        const entry =
          spec.values.kind === "object"
            ? resolveRecordObject(spec.values.fields, value[key], entryPath, source)
            : validateValue(spec.values, value[key], entryPath, source);
        // defineProperty: a "__proto__" key must stay data, never become the prototype
        Object.defineProperty(result, key, {
          value: entry,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return result;
    }
    case "object":
      return resolveRecordObject(spec.fields, value, path, source);
  }
}

/** Objects inside records have no env of their own: validate and apply defaults only. */
function resolveRecordObject(fields: FieldMap, value: unknown, path: string, source: string): unknown {
  if (!isPlainObject(value)) {
    throw new ConfigError(fieldMessage(path, source, "must be an object", value, false), path);
  }
  return resolveFields(fields, value, `${path}.`, {}, []);
}

function defaultEnvParser(spec: FieldSpec): (text: string) => unknown {
  switch (spec.kind) {
    case "integer":
    case "number":
      return (text) => (/^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i.test(text) ? Number(text) : text);
    case "boolean":
      return (text) => {
        const lower = text.trim().toLowerCase();
        if (["true", "1", "yes", "on"].includes(lower)) return true;
        if (["false", "0", "no", "off"].includes(lower)) return false;
        return text;
      };
    case "stringArray":
      return (text) =>
        text
          .split(",")
          .map((item) => item.trim())
          .filter((item) => item !== "");
    case "record":
      return spec.values.kind === "object"
        ? (text) => JSON.parse(text)
        : (text) => parseKeyValueList(text) ?? text;
    default:
      return (text) => text.trim();
  }
}

/**
 * The effective config for display (logs, MLflow params): secrets, and records of secrets, become
 * "[redacted]"; unset fields are left out.
 */
export function redactConfigForDisplay<Definition extends ConfigDefinition>(
  definition: Definition,
  config: InferConfig<Definition> | Record<string, unknown>,
): Record<string, unknown> {
  return redactFields(definition.fields, config as Record<string, unknown>);
}

function redactFields(
  fields: FieldMap,
  values: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(fields)) {
    const value = values?.[key];
    if (value !== undefined) result[key] = redactFieldValue(spec, value);
  }
  return result;
}

function redactFieldValue(spec: FieldSpec, value: unknown): unknown {
  if (spec.kind === "secret") return "[redacted]";
  if (spec.kind === "url" && typeof value === "string") return maskUrlCredentials(value);
  if (spec.kind === "object") return redactFields(spec.fields, isPlainObject(value) ? value : undefined);
  if (spec.kind === "record" && isPlainObject(value)) {
    const result: Record<string, unknown> = {};
    for (const [key, entry] of Object.entries(value)) {
      Object.defineProperty(result, key, {
        value: redactFieldValue(spec.values, entry),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return result;
  }
  return Array.isArray(value) ? [...value] : value;
}

function fieldMessage(
  path: string,
  source: string,
  expected: string,
  value: unknown,
  secret: boolean,
): string {
  return `config field ${quotePath(path)}${source} ${expected} (got ${describeReceived(value, secret)})`;
}

/** A short one-line description of a received value; secrets show only their type. */
function describeReceived(value: unknown, secret: boolean): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  if (secret)
    return typeof value === "string" ? `a string of ${value.length} characters` : `a ${typeof value}`;
  if (typeof value === "string")
    return JSON.stringify(truncateText(maskUrlCredentials(value), SHOWN_VALUE_CHARS));
  return String(value);
}

function quotePath(path: string): string {
  return JSON.stringify(truncateText(path, 120));
}

function truncateText(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
