/**
 * `POST /webhook/alerts`: Alertmanager's webhook receiver. It has its own bearer token
 * (`alertWebhook.token`), never the gateway's: Alertmanager sends it through its receiver's
 * `http_config.authorization`. A request without the right token gets 401 and nothing is stored; a
 * malformed payload gets 400 with one line. Alerts are queued through a spooled pipeline and
 * acknowledged once queued, so a store outage loses none.
 */
import { timingSafeEqual } from "node:crypto";
import type { PackHttpRequest, PackHttpResponse } from "@clawscope/kit";
import { type AlertRecord, parseAlertmanagerPayload } from "../domain/alert.js";

export const ALERT_WEBHOOK_PATH = "/webhook/alerts";

export interface AlertWebhookDeps {
  /** The configured token; undefined leaves the webhook closed. */
  token: string | undefined;
  now: () => number;
  accept: (alerts: AlertRecord[]) => void;
}

export function answerAlertWebhook(request: PackHttpRequest, deps: AlertWebhookDeps): PackHttpResponse {
  if (request.method !== "POST")
    return { status: 405, headers: { allow: "POST" }, json: { error: "use POST" } };
  if (!deps.token)
    return {
      status: 503,
      json: {
        error: "the alert webhook is closed: set alertWebhook.token (or CLAWSCOPE_ALERTMANAGER_TOKEN)",
      },
    };
  if (!hasToken(request.headers.authorization, deps.token))
    return {
      status: 401,
      headers: { "www-authenticate": "Bearer" },
      json: { error: "a valid bearer token is required" },
    };
  const parsed = parseAlertmanagerPayload(request.body, deps.now());
  if ("error" in parsed) return { status: 400, json: { error: parsed.error } };
  deps.accept(parsed.alerts);
  return { json: { status: "success", alerts: parsed.alerts.length } };
}

function hasToken(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? "");
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1].trim());
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}
