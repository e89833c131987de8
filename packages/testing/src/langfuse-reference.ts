/**
 * Loaders for the Langfuse contract files (`../shared/reference/langfuse/` beside the repository;
 * `CLAWSCOPE_LANGFUSE_REFERENCE_DIR` overrides): the official OpenAPI spec and the OTLP/JSON export
 * recorded from the official SDK. Synchronous and cached: the spec takes about a second to parse.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { findRepoRoot } from "./captured.js";

const RELATIVE_REFERENCE = "../shared/reference/langfuse";

/** File names inside the Langfuse reference folder. */
export const LANGFUSE_REFERENCE_FILES = {
  openApi: "langfuse-openapi.yml",
  fernOpenTelemetry: "langfuse-fern-opentelemetry.yml",
  fernIngestion: "langfuse-fern-ingestion.yml",
  sdkExport: "langfuse-js-sdk-5.11.1-otlp-export.json",
} as const;

/** One request the official SDK sent (`langfuse-js-sdk-5.11.1-otlp-export.json`; auth header removed). */
export interface LangfuseSdkExportRequest {
  url: string;
  headers: Record<string, string>;
  /** The OTLP/JSON `ExportTraceServiceRequest` as sent. */
  body: { resourceSpans: unknown[] };
}

/** The Langfuse reference folder: `CLAWSCOPE_LANGFUSE_REFERENCE_DIR` when set, else beside the repository. */
export function resolveLangfuseReferenceDir(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.CLAWSCOPE_LANGFUSE_REFERENCE_DIR;
  if (override !== undefined && override.length > 0) return path.resolve(override);
  return path.resolve(findRepoRoot(), RELATIVE_REFERENCE);
}

const openApiCache = new Map<string, Record<string, unknown>>();

/**
 * The official OpenAPI document (`langfuse-openapi.yml`), parsed once per folder. Throws with the
 * file it looked for when it is missing.
 */
export function loadLangfuseOpenApi(dir: string = resolveLangfuseReferenceDir()): Record<string, unknown> {
  const file = path.join(dir, LANGFUSE_REFERENCE_FILES.openApi);
  const cached = openApiCache.get(file);
  if (cached) return cached;
  if (!existsSync(file)) throw new Error(`Langfuse OpenAPI spec not found: ${file}`);
  // the spec reuses its security block through hundreds of YAML aliases; it is a trusted local file
  const document: unknown = parse(readFileSync(file, "utf8"), { maxAliasCount: 100_000 });
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw new Error(`Langfuse OpenAPI spec is not a YAML mapping: ${file}`);
  }
  openApiCache.set(file, document as Record<string, unknown>);
  return document as Record<string, unknown>;
}

/** The requests of `langfuse-js-sdk-5.11.1-otlp-export.json`, in the order the SDK sent them. */
export function loadLangfuseSdkExport(
  dir: string = resolveLangfuseReferenceDir(),
): LangfuseSdkExportRequest[] {
  const file = path.join(dir, LANGFUSE_REFERENCE_FILES.sdkExport);
  if (!existsSync(file)) throw new Error(`Langfuse SDK export not found: ${file}`);
  const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
  if (!Array.isArray(parsed)) throw new Error(`${file}: expected a JSON array of requests`);
  return parsed as LangfuseSdkExportRequest[];
}
