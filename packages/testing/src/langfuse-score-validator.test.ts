import { describe, expect, it } from "vitest";
import { openApiRequestBodySchema } from "./langfuse-openapi-schema.js";
import { loadLangfuseOpenApi } from "./langfuse-reference.js";
import { checkLangfuseScoreRules, createLangfuseScoreValidator } from "./langfuse-score-validator.js";

const validate = createLangfuseScoreValidator();
const schemaOnly = createLangfuseScoreValidator({ documentedRules: false });

const turnOutcome = {
  id: "turn-outcome-7f3a",
  traceId: "646360e5fede17da60141df5a4965a74",
  name: "turn_outcome",
  value: "success",
  dataType: "CATEGORICAL",
  comment: null,
  metadata: { agent: "main" },
  environment: "production",
};

describe("openApiRequestBodySchema", () => {
  it("resolves CreateScoreRequest and the components it references from the official spec", () => {
    const schema = openApiRequestBodySchema(loadLangfuseOpenApi(), "post", "/api/public/scores");
    expect(schema.$ref).toBe("#/definitions/CreateScoreRequest");
    const definitions = schema.definitions as Record<string, { required?: string[]; enum?: string[] }>;
    expect(definitions.CreateScoreRequest?.required).toEqual(["name", "value"]);
    expect(definitions.ScoreDataType?.enum).toContain("BOOLEAN");
    expect(Object.keys(definitions).sort()).toEqual([
      "CreateScoreRequest",
      "CreateScoreSource",
      "CreateScoreValue",
      "ScoreDataType",
    ]);
  });

  it("throws one line for an operation without a JSON body", () => {
    expect(() => openApiRequestBodySchema(loadLangfuseOpenApi(), "post", "/api/public/nope")).toThrow(
      /no application\/json request body/,
    );
  });
});

describe("createLangfuseScoreValidator", () => {
  it("accepts a valid categorical, numeric and boolean score (nullable fields may be null)", () => {
    expect(validate(turnOutcome)).toEqual({ valid: true, issues: [] });
    expect(validate({ sessionId: "s1", name: "stuck_session", value: 1, dataType: "BOOLEAN" }).valid).toBe(
      true,
    );
    expect(
      validate({ traceId: "t", name: "tool_loop", value: 0.5, dataType: null, configId: null }).valid,
    ).toBe(true);
  });

  it("rejects a wrong dataType with the enum's allowed values", () => {
    const result = validate({ ...turnOutcome, dataType: "STRING" });
    expect(result.valid).toBe(false);
    expect(result.issues).toContainEqual(
      expect.objectContaining({ path: "/dataType", keyword: "enum", source: "openapi" }),
    );
    expect(result.issues.map((issue) => issue.message).join(" ")).toMatch(/CATEGORICAL/);
  });

  it("rejects a missing name, a missing value and a value of the wrong JSON type", () => {
    const { name: _name, ...withoutName } = turnOutcome;
    expect(validate(withoutName).issues).toContainEqual(
      expect.objectContaining({ keyword: "required", message: expect.stringContaining("name") }),
    );
    expect(validate({ traceId: "t", name: "x" }).valid).toBe(false);
    expect(validate({ traceId: "t", name: "x", value: true }).valid).toBe(false);
    expect(validate({ ...turnOutcome, metadata: "not an object" }).valid).toBe(false);
    expect(validate({ ...turnOutcome, source: "EVAL" }).valid).toBe(false);
    expect(validate(undefined).valid).toBe(false);
    expect(validate([turnOutcome]).valid).toBe(false);
  });

  it("applies the rules the spec states in prose, which the schema alone lets through", () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ traceId: "t", name: "n", value: "yes", dataType: "BOOLEAN" }, "value-type"],
      [{ traceId: "t", name: "n", value: 2, dataType: "BOOLEAN" }, "boolean-value"],
      [{ traceId: "t", name: "n", value: 3, dataType: "CATEGORICAL" }, "value-type"],
      [{ traceId: "t", name: "n", value: "x".repeat(501), dataType: "TEXT" }, "text-length"],
      [{ traceId: "t", name: "n", value: 1, environment: "Prod" }, "environment-format"],
      [{ traceId: "t", name: "n", value: 1, environment: "langfuse-x" }, "environment-format"],
      [{ traceId: "t", name: "n", value: 1, source: "ANNOTATION" }, "annotation-config"],
      [{ name: "n", value: 1 }, "score-target"],
    ];
    for (const [body, keyword] of cases) {
      expect(schemaOnly(body).valid, keyword).toBe(true);
      expect(
        validate(body).issues.map((issue) => issue.keyword),
        keyword,
      ).toContain(keyword);
    }
  });

  it("never throws on garbage", () => {
    for (const garbage of [null, 0, "x", Symbol.iterator, { value: { nested: [1] } }]) {
      expect(() => validate(garbage)).not.toThrow();
      expect(validate(garbage).valid).toBe(false);
    }
    expect(checkLangfuseScoreRules(null)[0]?.keyword).toBe("body-object");
  });
});
