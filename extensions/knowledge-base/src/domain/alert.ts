/**
 * Alertmanager's webhook payload (version 4) read into alert records (`alerts`), and each firing
 * alert as a failure for the knowledge base. An alert's id is Alertmanager's own fingerprint and
 * its start, so the same notification sent twice (Alertmanager repeats them, and retries on
 * errors) is stored once, and its resolution replaces the firing record.
 */
import { createHash } from "node:crypto";
import type { FailureObservation } from "./failure-signals.js";

const MAX_ALERTS = 1_000;
const MAX_LABELS = 64;
const MAX_VALUE_CHARS = 1_000;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,127}$/;

/** One alert as stored. */
export type AlertRecord = {
  id: string;
  /** Alertmanager's fingerprint of the label set. */
  fingerprint: string;
  name: string;
  status: "firing" | "resolved";
  startsAt: number;
  endsAt?: number;
  /** The store's time field: when this state was received (retention: 48 hours by default). */
  ts: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  generatorURL?: string;
  receiver?: string;
  /** Issue entries the alert was linked to (same provider, model, tool or agent, active then). */
  entries: string[];
};

/** The alerts of a payload, or one line saying what is wrong with it. */
export function parseAlertmanagerPayload(
  body: unknown,
  receivedAt: number,
): { alerts: AlertRecord[] } | { error: string } {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    return { error: "the body must be Alertmanager's webhook JSON object" };
  const payload = body as Record<string, unknown>;
  if (payload.version !== "4")
    return {
      error: `unsupported webhook payload version ${JSON.stringify(payload.version ?? null)} (expected "4")`,
    };
  if (!Array.isArray(payload.alerts)) return { error: "`alerts` must be an array" };
  if (payload.alerts.length > MAX_ALERTS) return { error: `more than ${MAX_ALERTS} alerts in one payload` };
  const receiver = typeof payload.receiver === "string" ? payload.receiver.slice(0, 200) : undefined;
  const alerts: AlertRecord[] = [];
  for (const [index, raw] of payload.alerts.entries()) {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw))
      return { error: `alerts[${index}] is not an object` };
    const alert = raw as Record<string, unknown>;
    const labels = toStringMap(alert.labels);
    if (!labels)
      return { error: `alerts[${index}].labels must be an object of strings keyed by label names` };
    const annotations = toStringMap(alert.annotations ?? {});
    if (!annotations)
      return { error: `alerts[${index}].annotations must be an object of strings keyed by label names` };
    const status = alert.status;
    if (status !== "firing" && status !== "resolved")
      return { error: `alerts[${index}].status must be firing or resolved` };
    const startsAt = typeof alert.startsAt === "string" ? Date.parse(alert.startsAt) : Number.NaN;
    if (!Number.isFinite(startsAt)) return { error: `alerts[${index}].startsAt must be an RFC 3339 time` };
    const endsAt = typeof alert.endsAt === "string" ? Date.parse(alert.endsAt) : Number.NaN;
    const fingerprint =
      typeof alert.fingerprint === "string" && /^[0-9a-f]{1,64}$/i.test(alert.fingerprint)
        ? alert.fingerprint.toLowerCase()
        : hashLabels(labels);
    const record: AlertRecord = {
      id: `${fingerprint}:${new Date(startsAt).toISOString()}`,
      fingerprint,
      name: labels.alertname ?? "unnamed",
      status,
      startsAt,
      ts: receivedAt,
      labels,
      annotations,
      entries: [],
    };
    // Alertmanager sends the zero time (0001-01-01) while an alert fires
    if (status === "resolved" && Number.isFinite(endsAt) && endsAt > 0) record.endsAt = endsAt;
    if (typeof alert.generatorURL === "string" && alert.generatorURL !== "")
      record.generatorURL = alert.generatorURL.slice(0, MAX_VALUE_CHARS);
    if (receiver) record.receiver = receiver;
    alerts.push(record);
  }
  return { alerts };
}

/** A firing alert as a failure of kind `alert`: one occurrence per firing (not per repeat). */
export function toAlertFailure(alert: AlertRecord): FailureObservation {
  const text = alert.annotations.summary ?? alert.annotations.description ?? alert.annotations.message ?? "";
  return {
    key: `alert:${alert.fingerprint}:${alert.startsAt}`,
    ts: alert.startsAt,
    signal: {
      kind: "alert",
      category: alert.name,
      ...(alert.labels.provider ? { provider: alert.labels.provider } : {}),
      ...(alert.labels.model ? { model: alert.labels.model } : {}),
      ...(alert.labels.tool ? { tool: alert.labels.tool } : {}),
      message: `${alert.labels.severity ? `[${alert.labels.severity}] ` : ""}${text}`,
    },
    ...(alert.labels.agent ? { agent: alert.labels.agent } : {}),
    ...(alert.labels.channel ? { channel: alert.labels.channel } : {}),
  };
}

function toStringMap(value: unknown): Record<string, string> | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const entries = Object.entries(value);
  if (entries.length > MAX_LABELS) return undefined;
  const map: Record<string, string> = Object.create(null);
  for (const [key, item] of entries) {
    // Prometheus label names; anything else (a dot, a `$`) a MongoDB-wire store would refuse
    if (typeof item !== "string" || !LABEL_NAME.test(key)) return undefined;
    map[key] = item.slice(0, MAX_VALUE_CHARS);
  }
  return { ...map };
}

function hashLabels(labels: Record<string, string>): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((key) => `${key}=${labels[key]}`)
    .join("\u0001");
  return createHash("sha256").update(sorted).digest("hex").slice(0, 16);
}
