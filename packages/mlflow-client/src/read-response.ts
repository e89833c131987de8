/**
 * Turns MLflow's snake_case JSON into the client's types. Tolerant: a field of the wrong type is
 * left out rather than failing the whole answer; int64 fields may come as numbers or strings.
 */
import type { JsonObject } from "./http-transport.js";
import { MlflowError } from "./mlflow-error.js";
import type { MlflowExperiment, MlflowMetric, MlflowRun, MlflowRunInfo, MlflowRunStatus } from "./types.js";

const RUN_STATUSES = new Set<string>(["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"]);

/** `{ experiment: {...} }` → MlflowExperiment. */
export function toExperiment(raw: unknown, endpoint: string): MlflowExperiment {
  const body = asObject(raw);
  const id = readId(body.experiment_id);
  if (id === undefined) throw missing("experiment_id", endpoint);
  const experiment: MlflowExperiment = {
    experimentId: id,
    name: readString(body.name) ?? "",
    lifecycleStage: readString(body.lifecycle_stage) ?? "active",
    tags: toKeyValueRecord(body.tags),
  };
  assignDefined(experiment, "artifactLocation", readString(body.artifact_location));
  assignDefined(experiment, "creationTime", readInt(body.creation_time));
  assignDefined(experiment, "lastUpdateTime", readInt(body.last_update_time));
  return experiment;
}

/** A run's `info` object → MlflowRunInfo. */
export function toRunInfo(raw: unknown, endpoint: string): MlflowRunInfo {
  const body = asObject(raw);
  const runId = readId(body.run_id) ?? readId(body.run_uuid);
  if (runId === undefined) throw missing("run_id", endpoint);
  const status = readString(body.status);
  const info: MlflowRunInfo = {
    runId,
    experimentId: readId(body.experiment_id) ?? "",
    status: status !== undefined && RUN_STATUSES.has(status) ? (status as MlflowRunStatus) : "RUNNING",
    lifecycleStage: readString(body.lifecycle_stage) ?? "active",
  };
  assignDefined(info, "runName", readString(body.run_name));
  assignDefined(info, "startTime", readInt(body.start_time));
  assignDefined(info, "endTime", readInt(body.end_time));
  assignDefined(info, "userId", readString(body.user_id));
  assignDefined(info, "artifactUri", readString(body.artifact_uri));
  return info;
}

/** `{ info, data }` → MlflowRun. */
export function toRun(raw: unknown, endpoint: string): MlflowRun {
  const body = asObject(raw);
  const data = asObject(body.data);
  return {
    info: toRunInfo(body.info, endpoint),
    data: {
      metrics: toMetrics(data.metrics),
      params: toKeyValueRecord(data.params),
      tags: toKeyValueRecord(data.tags),
    },
  };
}

/** A list of metric objects → MlflowMetric[]; entries without a key are skipped. */
export function toMetrics(raw: unknown): MlflowMetric[] {
  if (!Array.isArray(raw)) return [];
  const metrics: MlflowMetric[] = [];
  for (const entry of raw) {
    const body = asObject(entry);
    const key = readString(body.key);
    if (key === undefined) continue;
    metrics.push({
      key,
      // protobuf JSON writes NaN and ±Infinity as strings
      value: readNumber(body.value) ?? Number.NaN,
      timestamp: readInt(body.timestamp) ?? 0,
      step: readInt(body.step) ?? 0,
    });
  }
  return metrics;
}

/** `[{ key, value }]` → record; later duplicates win. */
export function toKeyValueRecord(raw: unknown): Record<string, string> {
  const record: Record<string, string> = {};
  if (!Array.isArray(raw)) return record;
  for (const entry of raw) {
    const body = asObject(entry);
    const key = readString(body.key);
    if (key !== undefined) record[key] = readString(body.value) ?? "";
  }
  return record;
}

/** The object itself, or `{}` for anything else. */
export function asObject(value: unknown): JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as JsonObject) : {};
}

/** A non-empty string, or undefined. */
export function readString(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function readId(value: unknown): string | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return readString(value);
}

function readNumber(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "string" && value.trim() !== "") {
    const parsed = Number(value);
    return Number.isNaN(parsed) && value !== "NaN" ? undefined : parsed;
  }
  return undefined;
}

function readInt(value: unknown): number | undefined {
  const parsed = readNumber(value);
  return parsed !== undefined && Number.isFinite(parsed) ? Math.trunc(parsed) : undefined;
}

function assignDefined<T extends object, K extends keyof T>(
  target: T,
  key: K,
  value: T[K] | undefined,
): void {
  if (value !== undefined) target[key] = value;
}

function missing(field: string, endpoint: string): MlflowError {
  return new MlflowError({
    kind: "invalid-response",
    status: 200,
    errorCode: "INVALID_RESPONSE",
    message: `answer has no ${field}`,
    endpoint,
  });
}
