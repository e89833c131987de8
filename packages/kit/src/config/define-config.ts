/**
 * A tiny schema DSL for extension config. One definition yields the runtime validator
 * (`resolveConfig`), the manifest's JSON Schema (`toManifestConfigSchema`) and its `uiHints`
 * (`toUiHints`), so the three can never drift apart.
 */

/** Parses an environment variable's text into the value the field then validates. */
export type EnvParser = (text: string) => unknown;

/** What every field accepts. */
export interface FieldOptionsBase {
  /** One or two sentences for users: becomes the JSON Schema `description` and the uiHint `help`. */
  description: string;
  /** Short UI label; derived from the key when absent (`flushIntervalMs` → "Flush Interval (ms)"). */
  label?: string;
  /** Environment variables read, in order, when the plugin config leaves the field unset. */
  env?: readonly string[];
  /** Turns an env var's text into a value; each kind has a sensible default parser. */
  parseEnv?: EnvParser;
  /** Missing after config, env and default is an error (never a JSON Schema `required`: env may fill it). */
  required?: boolean;
  /** Shown under "advanced" in the host UI. */
  advanced?: boolean;
  /** Placeholder text for the host UI. */
  placeholder?: string;
}

export interface StringOptions extends FieldOptionsBase {
  default?: string;
  minLength?: number;
  maxLength?: number;
}
export interface StringField extends StringOptions {
  kind: "string";
}

export interface UrlOptions extends FieldOptionsBase {
  default?: string;
  /**
   * `refuse`: a URL carrying `user:password@` is a config error (for backends that take their
   * credentials elsewhere). Either way the password never shows in messages or displays.
   */
  credentials?: "allow" | "refuse";
}
/** An absolute http or https URL. */
export interface UrlField extends UrlOptions {
  kind: "url";
}

export interface SecretOptions extends FieldOptionsBase {
  minLength?: number;
}
/** A string that is never logged and shows as "[redacted]" in effective-config dumps. No default. */
export interface SecretField extends SecretOptions {
  kind: "secret";
}

export interface NumberOptions extends FieldOptionsBase {
  default?: number;
  min?: number;
  max?: number;
}
export interface IntegerField extends NumberOptions {
  kind: "integer";
}
export interface NumberField extends NumberOptions {
  kind: "number";
}

export interface BooleanOptions extends FieldOptionsBase {
  default?: boolean;
}
export interface BooleanField extends BooleanOptions {
  kind: "boolean";
}

export interface EnumOptions<Value extends string = string> extends FieldOptionsBase {
  values: readonly Value[];
  default?: Value;
}
export interface EnumField<Value extends string = string> extends EnumOptions<Value> {
  kind: "enum";
}

export interface StringArrayOptions extends FieldOptionsBase {
  default?: readonly string[];
  maxItems?: number;
}
/** A list of strings; from env, a comma-separated list. */
export interface StringArrayField extends StringArrayOptions {
  kind: "stringArray";
}

export interface RecordOptions<Values extends FieldSpec = FieldSpec> extends FieldOptionsBase {
  /** The spec every value must satisfy (a string, a secret, a nested object...). */
  values: Values;
  default?: Readonly<Record<string, unknown>>;
  /** At most this many keys (default 1000): config must stay small. */
  maxKeys?: number;
}
/** A map from free-form keys (header names, model ids) to values of one spec. */
export interface RecordField<Values extends FieldSpec = FieldSpec> extends RecordOptions<Values> {
  kind: "record";
}

export interface ObjectOptions<Fields extends FieldMap = FieldMap> extends FieldOptionsBase {
  fields: Fields;
}
/** A nested object with known keys; always resolved (its fields carry their own defaults). */
export interface ObjectField<Fields extends FieldMap = FieldMap> extends ObjectOptions<Fields> {
  kind: "object";
}

/** Any field spec. */
export type FieldSpec =
  | StringField
  | UrlField
  | SecretField
  | IntegerField
  | NumberField
  | BooleanField
  | EnumField
  | StringArrayField
  | RecordField
  | ObjectField;

/** The fields of an object, by key. */
export type FieldMap = { readonly [key: string]: FieldSpec };

/** A whole extension config: the top-level object. */
export interface ConfigDefinition<Fields extends FieldMap = FieldMap> {
  kind: "config";
  fields: Fields;
  /**
   * Old top-level names still accepted, each mapped to the dotted path of its field today
   * (`{ sampleRate: "sampling.ratio" }`): the value moves there and a deprecation warning says so.
   */
  aliases?: Readonly<Record<string, string>>;
}

type BaseValue<Spec> = Spec extends { kind: "string" | "url" | "secret" }
  ? string
  : Spec extends { kind: "integer" | "number" }
    ? number
    : Spec extends { kind: "boolean" }
      ? boolean
      : Spec extends { kind: "enum"; values: readonly (infer Value)[] }
        ? Value
        : Spec extends { kind: "stringArray" }
          ? string[]
          : Spec extends { kind: "record"; values: infer Values }
            ? Record<string, BaseValue<Values>>
            : Spec extends { kind: "object"; fields: infer Fields extends FieldMap }
              ? InferFields<Fields>
              : never;

/** The resolved type of one field: present when it has a default, is required, or is an object. */
export type InferField<Spec> = Spec extends { kind: "object" }
  ? BaseValue<Spec>
  : Spec extends { default: unknown } | { required: true }
    ? BaseValue<Spec>
    : BaseValue<Spec> | undefined;

/** The resolved type of an object's fields. */
export type InferFields<Fields extends FieldMap> = {
  -readonly [Key in keyof Fields]: InferField<Fields[Key]>;
};

/** The resolved config type of a definition: `InferConfig<typeof configDefinition>`. */
export type InferConfig<Definition extends ConfigDefinition> = InferFields<Definition["fields"]>;
/** Alias of {@link InferConfig}. */
export type ConfigOf<Definition extends ConfigDefinition> = InferConfig<Definition>;

/**
 * Builders for each field kind. `const` type parameters keep literal defaults and enum values,
 * so the resolved config type is inferred from the definition.
 */
export const field = {
  string: <const Options extends StringOptions>(options: Options) => ({
    ...options,
    kind: "string" as const,
  }),
  url: <const Options extends UrlOptions>(options: Options) => ({ ...options, kind: "url" as const }),
  secret: <const Options extends SecretOptions>(options: Options) => ({
    ...options,
    kind: "secret" as const,
  }),
  integer: <const Options extends NumberOptions>(options: Options) => ({
    ...options,
    kind: "integer" as const,
  }),
  number: <const Options extends NumberOptions>(options: Options) => ({
    ...options,
    kind: "number" as const,
  }),
  boolean: <const Options extends BooleanOptions>(options: Options) => ({
    ...options,
    kind: "boolean" as const,
  }),
  enum: <const Options extends EnumOptions>(options: Options & { default?: Options["values"][number] }) => ({
    ...options,
    kind: "enum" as const,
  }),
  stringArray: <const Options extends StringArrayOptions>(options: Options) => ({
    ...options,
    kind: "stringArray" as const,
  }),
  record: <const Options extends RecordOptions>(options: Options) => ({
    ...options,
    kind: "record" as const,
  }),
  object: <const Options extends ObjectOptions>(options: Options) => ({
    ...options,
    kind: "object" as const,
  }),
};

/**
 * Declares an extension's config. Export the result as `configDefinition` from `src/config.ts`:
 * the shape check regenerates the manifest's `configSchema` from it.
 */
export function defineConfig<const Fields extends FieldMap>(
  fields: Fields,
  options: { aliases?: Readonly<Record<string, string>> } = {},
): ConfigDefinition<Fields> {
  return options.aliases ? { kind: "config", fields, aliases: options.aliases } : { kind: "config", fields };
}

/**
 * Parses the `key=value,key2=value2` list used by `OTEL_EXPORTER_OTLP_HEADERS` (values may be
 * percent-encoded, as the OpenTelemetry spec allows). Returns `undefined` for malformed text.
 */
export function parseKeyValueList(text: string): Record<string, string> | undefined {
  const result: Record<string, string> = {};
  for (const part of text.split(",")) {
    if (part.trim() === "") continue;
    const separator = part.indexOf("=");
    if (separator <= 0) return undefined;
    const key = part.slice(0, separator).trim();
    const rawValue = part.slice(separator + 1).trim();
    if (key === "") return undefined;
    try {
      result[decodeURIComponent(key)] = decodeURIComponent(rawValue);
    } catch {
      result[key] = rawValue;
    }
  }
  return result;
}
