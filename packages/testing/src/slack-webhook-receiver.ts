/**
 * A receiver that holds Slack's documented incoming-webhook contract, for tests of what posts to
 * Slack (Slack cannot run here). A POST of JSON with `text` or `blocks` to the hook's path is
 * answered 200 with the plain body `ok`; a body that is not JSON, or blocks outside Block Kit's
 * rules, 400 `invalid_payload`; neither text nor blocks, 400 `no_text`; an unknown hook path, 404
 * `no_service`. About one message per second with short bursts is allowed; beyond that, 429 with
 * `Retry-After` in seconds. Tests may also script any answer (`respondWith`).
 */
import {
  createHttpReceiver,
  type HttpReceiver,
  type ReceivedRequest,
  type ReceiverAnswer,
} from "./http-receiver.js";

export interface SlackWebhookReceiver {
  /** The webhook URL (`http://127.0.0.1:<port>/services/T…/B…/…`). */
  readonly url: string;
  /** The underlying receiver: every request with the status it got, scripting, down/up. */
  readonly http: HttpReceiver;
  /** The messages Slack would have posted (answered `ok`), oldest first. */
  accepted(): { text?: string; blocks?: unknown[] }[];
  close(): Promise<void>;
}

const HOOK_PATH = "/services/T0CLAWSCOPE/B0DIGEST/x7Yk2mQpLs9vTnR4wHcE";
const MAX_BLOCKS = 50;
const TEXT_TYPES = new Set(["plain_text", "mrkdwn"]);

const plain = (status: number, body: string, headers: Record<string, string> = {}): ReceiverAnswer => ({
  status,
  headers: { "content-type": "text/html", ...headers },
  body,
});

/** Slack's error code for a webhook body, or undefined when Slack would post it. */
export function checkSlackWebhookBody(json: unknown): string | undefined {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return "invalid_payload";
  const message = json as { text?: unknown; blocks?: unknown };
  if (message.text !== undefined && typeof message.text !== "string") return "invalid_payload";
  if (message.blocks !== undefined) {
    if (!Array.isArray(message.blocks) || message.blocks.length > MAX_BLOCKS) return "invalid_payload";
    if (!message.blocks.every(isValidBlock)) return "invalid_payload";
  }
  const hasText = typeof message.text === "string" && message.text.trim() !== "";
  const hasBlocks = Array.isArray(message.blocks) && message.blocks.length > 0;
  return hasText || hasBlocks ? undefined : "no_text";
}

function isTextObject(value: unknown, maxChars: number, types = TEXT_TYPES): boolean {
  if (typeof value !== "object" || value === null) return false;
  const text = value as { type?: unknown; text?: unknown };
  return (
    typeof text.type === "string" &&
    types.has(text.type) &&
    typeof text.text === "string" &&
    text.text.length >= 1 &&
    text.text.length <= maxChars
  );
}

function isValidBlock(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const block = value as {
    type?: unknown;
    text?: unknown;
    fields?: unknown;
    elements?: unknown;
    block_id?: unknown;
  };
  if (block.block_id !== undefined && (typeof block.block_id !== "string" || block.block_id.length > 255))
    return false;
  switch (block.type) {
    case "divider":
      return true;
    case "header":
      return isTextObject(block.text, 150, new Set(["plain_text"]));
    case "section": {
      const hasText = block.text !== undefined;
      const hasFields = block.fields !== undefined;
      if (!hasText && !hasFields) return false;
      if (hasText && !isTextObject(block.text, 3000)) return false;
      if (hasFields) {
        if (!Array.isArray(block.fields) || block.fields.length === 0 || block.fields.length > 10)
          return false;
        if (!block.fields.every((field) => isTextObject(field, 2000))) return false;
      }
      return true;
    }
    case "context":
      return (
        Array.isArray(block.elements) &&
        block.elements.length >= 1 &&
        block.elements.length <= 10 &&
        block.elements.every((element) => isTextObject(element, 3000))
      );
    default:
      return false;
  }
}

/** Starts the receiver; `burst` messages may come at once, then one per second (`Retry-After: 1`). */
export async function createSlackWebhookReceiver(
  options: { burst?: number } = {},
): Promise<SlackWebhookReceiver> {
  const http = await createHttpReceiver();
  const burst = options.burst ?? 3;
  let tokens = burst;
  let refilledAt = Date.now();
  const accepted: { text?: string; blocks?: unknown[] }[] = [];
  http.setDefaultAnswer((request: ReceivedRequest) => {
    if (request.method !== "POST" || request.path !== HOOK_PATH) return plain(404, "no_service");
    const now = Date.now();
    tokens = Math.min(burst, tokens + (now - refilledAt) / 1000);
    refilledAt = now;
    if (tokens < 1) return plain(429, "rate_limited", { "retry-after": "1" });
    let json: unknown;
    try {
      json = JSON.parse(request.body.toString("utf8"));
    } catch {
      return plain(400, "invalid_payload");
    }
    const error = checkSlackWebhookBody(json);
    if (error) return plain(400, error);
    tokens -= 1;
    accepted.push(json as { text?: string; blocks?: unknown[] });
    return plain(200, "ok");
  });
  return {
    url: `${http.url}${HOOK_PATH}`,
    http,
    accepted: () => [...accepted],
    close: () => http.close(),
  };
}
