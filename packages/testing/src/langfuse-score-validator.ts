/**
 * Validation of `POST /api/public/scores` bodies: the `CreateScoreRequest` schema of the official
 * OpenAPI spec, plus the rules the spec states only in prose (value type per data type, boolean
 * 0/1, text length, environment format, annotation source, a score target).
 */
import {
  createOpenApiBodyValidator,
  type LangfuseBodyValidator,
  type LangfuseValidationIssue,
} from "./langfuse-openapi-schema.js";
import { loadLangfuseOpenApi, resolveLangfuseReferenceDir } from "./langfuse-reference.js";

export const LANGFUSE_SCORES_PATH = "/api/public/scores";

/** Options for {@link createLangfuseScoreValidator}. */
export interface LangfuseScoreValidatorOptions {
  /** Folder holding `langfuse-openapi.yml` (default: {@link resolveLangfuseReferenceDir}). */
  referenceDir?: string;
  /** Also apply {@link checkLangfuseScoreRules} (default true). */
  documentedRules?: boolean;
}

const validatorCache = new Map<string, LangfuseBodyValidator>();

/** A validator for score bodies, compiled once per reference folder. */
export function createLangfuseScoreValidator(
  options: LangfuseScoreValidatorOptions = {},
): LangfuseBodyValidator {
  const dir = options.referenceDir ?? resolveLangfuseReferenceDir();
  let schemaValidator = validatorCache.get(dir);
  if (!schemaValidator) {
    schemaValidator = createOpenApiBodyValidator(loadLangfuseOpenApi(dir), "post", LANGFUSE_SCORES_PATH);
    validatorCache.set(dir, schemaValidator);
  }
  const checkSchema = schemaValidator;
  const withRules = options.documentedRules ?? true;
  return (body) => {
    const result = checkSchema(body);
    // prose rules only make sense on a body that already has the schema's shape
    if (!result.valid || !withRules) return result;
    const issues = checkLangfuseScoreRules(body);
    return { valid: issues.length === 0, issues };
  };
}

const DATA_TYPES_WITH_NUMBER_VALUES = new Set(["NUMERIC", "BOOLEAN"]);
const DATA_TYPES_WITH_STRING_VALUES = new Set(["CATEGORICAL", "TEXT"]);
const TARGET_FIELDS = ["traceId", "observationId", "sessionId", "datasetRunId"] as const;

/**
 * The rules the spec's descriptions of `CreateScoreRequest` state in prose; assumes the body already
 * passed the schema. Returns no issues for a valid body.
 */
export function checkLangfuseScoreRules(body: unknown): LangfuseValidationIssue[] {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return [rule("", "body must be an object", "body-object")];
  }
  const score = body as Record<string, unknown>;
  const issues: LangfuseValidationIssue[] = [];
  const dataType = typeof score.dataType === "string" ? score.dataType : undefined;
  const value = score.value;
  if (dataType !== undefined && DATA_TYPES_WITH_NUMBER_VALUES.has(dataType) && typeof value !== "number") {
    issues.push(rule("/value", `must be a number for ${dataType} scores`, "value-type"));
  }
  if (dataType !== undefined && DATA_TYPES_WITH_STRING_VALUES.has(dataType) && typeof value !== "string") {
    issues.push(rule("/value", `must be a string for ${dataType} scores`, "value-type"));
  }
  if (dataType === "BOOLEAN" && typeof value === "number" && value !== 0 && value !== 1) {
    issues.push(rule("/value", "must equal 1 or 0 for BOOLEAN scores", "boolean-value"));
  }
  if (dataType === "TEXT" && typeof value === "string" && (value.length < 1 || value.length > 500)) {
    issues.push(rule("/value", "must be between 1 and 500 characters for TEXT scores", "text-length"));
  }
  if (typeof score.name === "string" && score.name.trim() === "") {
    issues.push(rule("/name", "must not be empty", "name-empty"));
  }
  if (typeof score.environment === "string" && !isValidEnvironment(score.environment)) {
    issues.push(
      rule(
        "/environment",
        "must be lowercase alphanumeric with hyphens and underscores, not starting with 'langfuse'",
        "environment-format",
      ),
    );
  }
  if (score.source === "ANNOTATION" && dataType !== "CORRECTION" && typeof score.configId !== "string") {
    issues.push(rule("/configId", "is required when source is ANNOTATION", "annotation-config"));
  }
  if (!TARGET_FIELDS.some((field) => typeof score[field] === "string" && score[field] !== "")) {
    issues.push(rule("", `must reference one of ${TARGET_FIELDS.join(", ")}`, "score-target"));
  }
  return issues;
}

function isValidEnvironment(environment: string): boolean {
  return /^[a-z0-9_-]+$/.test(environment) && !environment.startsWith("langfuse");
}

function rule(path: string, message: string, keyword: string): LangfuseValidationIssue {
  return { path, message, keyword, source: "documented-rule" };
}
