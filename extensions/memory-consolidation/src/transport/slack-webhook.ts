/**
 * Posts a message to a Slack incoming webhook and reads Slack's answer by its documented contract:
 * 200 with the plain body `ok`; 429 with `Retry-After` (seconds), honoured by the pipeline; 400
 * `invalid_payload` and other 4xx to the dead-letter spool; 403 `invalid_token` pauses until the
 * config changes; 5xx retried. The webhook URL is a secret: it is in no reason and no log line.
 */
import { readBoundedBody, type SendResult, toHttpSendResult, toNetworkSendResult } from "@clawscope/kit";
import type { SlackMessage } from "../mapping/to-slack-message.js";

export type PostSlack = (message: SlackMessage, signal: AbortSignal) => Promise<SendResult>;

const LABEL = "Slack webhook";

export function createSlackWebhookSender(
  webhookUrl: string,
  options: { fetch?: typeof fetch; now?: () => number } = {},
): PostSlack {
  const fetchImpl = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  return async (message, signal) => {
    let response: Response;
    try {
      response = await fetchImpl(webhookUrl, {
        method: "POST",
        headers: { "content-type": "application/json; charset=utf-8" },
        body: JSON.stringify(message),
        signal,
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: unknown } })?.cause?.code;
      return toNetworkSendResult(
        LABEL,
        typeof cause === "string" ? cause : signal.aborted ? "timeout" : "network error",
      );
    }
    const answer = new TextDecoder().decode(
      await readBoundedBody(response, 4_096).catch(() => new Uint8Array(0)),
    );
    if (response.status === 200 && answer.trim() !== "ok") {
      return {
        kind: "reject",
        reason: `${LABEL}: HTTP 200 without Slack's "ok" (is the URL a Slack webhook?)`,
        failure: { status: 200, bodyExcerpt: answer.slice(0, 200) },
      };
    }
    return toHttpSendResult(LABEL, response.status, response.headers, answer, now());
  };
}
