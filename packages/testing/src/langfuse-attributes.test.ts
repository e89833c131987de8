import { createRequire } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { findRepoRoot } from "./captured.js";
import { LANGFUSE_OBSERVATION_TYPES, LANGFUSE_SPAN_ATTRIBUTES } from "./langfuse-attributes.js";
import { loadLangfuseSdkExport } from "./langfuse-reference.js";
import { decodeOtlpRequest } from "./otlp-decoder.js";

const sdkSpans = loadLangfuseSdkExport().flatMap(
  (request) => decodeOtlpRequest("traces", request.body).spans,
);
const sdkKeys = new Set(sdkSpans.flatMap((span) => Object.keys(span.attributes)));

/** `@langfuse/core` as installed for extensions/langfuse (not a dependency of this package). */
function loadSdkCore(): { LangfuseOtelSpanAttributes: Record<string, string> } | undefined {
  try {
    const requireFromExtension = createRequire(path.join(findRepoRoot(), "extensions/langfuse/package.json"));
    return requireFromExtension("@langfuse/core") as { LangfuseOtelSpanAttributes: Record<string, string> };
  } catch {
    return undefined;
  }
}
const sdkCore = loadSdkCore();

describe("LANGFUSE_SPAN_ATTRIBUTES", () => {
  it("names every attribute the official SDK export carries (besides the SDK's own metadata keys)", () => {
    const mirrored = new Set<string>(Object.values(LANGFUSE_SPAN_ATTRIBUTES));
    const unknown = [...sdkKeys].filter(
      (key) => !mirrored.has(key) && !key.startsWith(`${LANGFUSE_SPAN_ATTRIBUTES.TRACE_METADATA}.`),
    );
    expect(unknown).toEqual([]);
  });

  it("matches the names the SDK export really uses for trace, observation and generation fields", () => {
    const used = [
      "ENVIRONMENT",
      "TRACE_USER_ID",
      "TRACE_SESSION_ID",
      "TRACE_TAGS",
      "IS_APP_ROOT",
      "OBSERVATION_TYPE",
      "OBSERVATION_INPUT",
      "OBSERVATION_OUTPUT",
      "OBSERVATION_MODEL",
      "OBSERVATION_USAGE_DETAILS",
      "OBSERVATION_COST_DETAILS",
      "OBSERVATION_MODEL_PARAMETERS",
    ] as const;
    for (const name of used) expect(sdkKeys, name).toContain(LANGFUSE_SPAN_ATTRIBUTES[name]);
    expect(sdkKeys).toContain(`${LANGFUSE_SPAN_ATTRIBUTES.TRACE_METADATA}.gateway`);
  });

  it("uses only Langfuse observation types in the SDK export", () => {
    const types = sdkSpans.map((span) => span.attributes[LANGFUSE_SPAN_ATTRIBUTES.OBSERVATION_TYPE]);
    expect(types.sort()).toEqual(["agent", "generation", "tool"]);
    for (const type of types) expect(LANGFUSE_OBSERVATION_TYPES).toContain(type);
  });

  it.skipIf(sdkCore === undefined)(
    "equals @langfuse/core's LangfuseOtelSpanAttributes member for member",
    () => {
      const fromSdk = Object.fromEntries(
        Object.entries(sdkCore?.LangfuseOtelSpanAttributes ?? {}).filter(
          ([, value]) => typeof value === "string",
        ),
      );
      expect(fromSdk).toEqual({ ...LANGFUSE_SPAN_ATTRIBUTES });
    },
  );
});
