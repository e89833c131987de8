/**
 * Turns an operation's request body schema from an OpenAPI 3.0 document into JSON Schema that ajv
 * compiles: `$ref`s to `#/components/schemas/*` resolved (only the reachable ones), `nullable` made
 * explicit, OpenAPI-only keywords dropped, OpenAPI number formats known to ajv.
 */
import { Ajv, type ErrorObject } from "ajv";
import addFormatsModule from "ajv-formats";

/** One reason a body does not satisfy its schema. */
export interface LangfuseValidationIssue {
  /** JSON pointer into the body (`""` for the body itself). */
  path: string;
  message: string;
  /** The failing JSON Schema keyword, or the name of the documented rule. */
  keyword: string;
  /** `openapi`: the spec's schema; `documented-rule`: a rule the spec states in prose. */
  source: "openapi" | "documented-rule";
}

export interface LangfuseValidationResult {
  valid: boolean;
  issues: LangfuseValidationIssue[];
}

/** Validates one request body; never throws. */
export type LangfuseBodyValidator = (body: unknown) => LangfuseValidationResult;

type Schema = Record<string, unknown>;

const COMPONENT_PREFIX = "#/components/schemas/";
// OpenAPI 3.0 schema keywords that JSON Schema does not have (`nullable` is rewritten, not dropped)
const OPENAPI_ONLY = new Set([
  "discriminator",
  "example",
  "xml",
  "externalDocs",
  "deprecated",
  "readOnly",
  "writeOnly",
]);
const SCHEMA_MAPS = new Set(["properties", "patternProperties"]);
const SCHEMA_LISTS = new Set(["allOf", "anyOf", "oneOf"]);
const SCHEMA_VALUES = new Set(["items", "additionalProperties", "not"]);

/**
 * The JSON Schema of `method path`'s `application/json` request body, with every reachable
 * component under `definitions`. Throws one line when the document has no such body.
 */
export function openApiRequestBodySchema(
  document: Record<string, unknown>,
  method: string,
  apiPath: string,
): Schema {
  const operation = record(record(record(document.paths)[apiPath])[method.toLowerCase()]);
  const body = record(operation.requestBody);
  const schema = record(record(record(body.content)["application/json"]).schema);
  if (Object.keys(schema).length === 0) {
    throw new Error(`OpenAPI: no application/json request body for ${method.toUpperCase()} ${apiPath}`);
  }
  const components = record(record(document.components).schemas);
  const referenced = new Set<string>();
  const root = convert(schema, referenced);
  const definitions: Record<string, Schema> = {};
  const pending = [...referenced];
  while (pending.length > 0) {
    const name = pending.pop() as string;
    if (name in definitions) continue;
    const component = components[name];
    if (component === undefined) throw new Error(`OpenAPI: unresolved $ref ${COMPONENT_PREFIX}${name}`);
    const found = new Set<string>();
    definitions[name] = convert(record(component), found);
    for (const next of found) if (!(next in definitions)) pending.push(next);
  }
  return { ...root, definitions };
}

/** Compiles {@link openApiRequestBodySchema} with ajv (all errors, formats checked). */
export function createOpenApiBodyValidator(
  document: Record<string, unknown>,
  method: string,
  apiPath: string,
): LangfuseBodyValidator {
  const schema = openApiRequestBodySchema(document, method, apiPath);
  const bodyRequired = record(
    record(record(record(document.paths)[apiPath])[method.toLowerCase()]).requestBody,
  ).required;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormatsModule.default(ajv);
  ajv.addFormat("double", { type: "number", validate: (value: number) => Number.isFinite(value) });
  ajv.addFormat("float", { type: "number", validate: (value: number) => Number.isFinite(value) });
  ajv.addFormat("int32", { type: "number", validate: (value: number) => Number.isInteger(value) });
  ajv.addFormat("int64", { type: "number", validate: (value: number) => Number.isInteger(value) });
  const validate = ajv.compile(schema);
  return (body) => {
    if (body === undefined) {
      return bodyRequired === true
        ? {
            valid: false,
            issues: [{ path: "", message: "a body is required", keyword: "required", source: "openapi" }],
          }
        : { valid: true, issues: [] };
    }
    try {
      if (validate(body)) return { valid: true, issues: [] };
      return { valid: false, issues: (validate.errors ?? []).map(toIssue) };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { valid: false, issues: [{ path: "", message, keyword: "exception", source: "openapi" }] };
    }
  };
}

function toIssue(error: ErrorObject): LangfuseValidationIssue {
  const extra =
    error.keyword === "enum" && Array.isArray(error.params.allowedValues)
      ? `: ${(error.params.allowedValues as unknown[]).map(String).join(", ")}`
      : "";
  return {
    path: error.instancePath,
    message: `${error.message ?? error.keyword}${extra}`,
    keyword: error.keyword,
    source: "openapi",
  };
}

/** OpenAPI schema object → JSON Schema; collects the component names it references. */
function convert(schema: Schema, referenced: Set<string>): Schema {
  let converted: Schema;
  if (typeof schema.$ref === "string") {
    // OpenAPI 3.0 ignores siblings of $ref, except that Fern writes `nullable` beside it and means it
    const ref = schema.$ref;
    if (!ref.startsWith(COMPONENT_PREFIX)) throw new Error(`OpenAPI: unsupported $ref ${ref}`);
    const name = ref.slice(COMPONENT_PREFIX.length);
    referenced.add(name);
    converted = { $ref: `#/definitions/${name}` };
  } else {
    converted = {};
    for (const [key, value] of Object.entries(schema)) {
      if (key === "nullable" || OPENAPI_ONLY.has(key)) continue;
      if (SCHEMA_MAPS.has(key)) {
        const mapped: Record<string, Schema> = {};
        for (const [name, child] of Object.entries(record(value)))
          mapped[name] = convert(record(child), referenced);
        converted[key] = mapped;
      } else if (SCHEMA_LISTS.has(key) && Array.isArray(value)) {
        converted[key] = value.map((child) => convert(record(child), referenced));
      } else if (SCHEMA_VALUES.has(key) && typeof value === "object" && value !== null) {
        converted[key] = Array.isArray(value)
          ? value.map((child) => convert(record(child), referenced))
          : convert(value as Schema, referenced);
      } else {
        converted[key] = value;
      }
    }
  }
  return schema.nullable === true ? { anyOf: [converted, { type: "null" }] } : converted;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
