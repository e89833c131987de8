/**
 * Wire formats of the mock provider: OpenAI chat-completions chunks (SSE and plain JSON) and
 * Responses-API SSE events, built from a decided reply. Pure functions returning strings/objects.
 */
import type { MockReply, MockUsage } from "./mock-reply.js";

type SuccessReply = Exclude<MockReply, { kind: "error" }>;

/** One SSE `data:` line (chat completions use bare data lines). */
function toDataLine(payload: unknown): string {
  return `data: ${typeof payload === "string" ? payload : JSON.stringify(payload)}\n\n`;
}

/** Splits text into a few deltas so the host exercises its streaming path. */
function splitText(text: string): string[] {
  const words = text.split(/(?<= )/);
  return words.length > 0 ? words : [""];
}

/** SSE body for `POST /v1/chat/completions` with `stream: true`, usage chunk last (include_usage). */
export function toChatCompletionStream(
  reply: SuccessReply,
  usage: MockUsage,
  id: string,
  model: string,
): string {
  const created = Math.floor(Date.now() / 1000);
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({
    id,
    object: "chat.completion.chunk",
    created,
    model,
    choices,
    ...extra,
  });
  const lines: string[] = [];
  if (reply.kind === "tool") {
    const toolCall = { index: 0, id: reply.toolCallId, type: "function" };
    lines.push(
      toDataLine(
        chunk([
          {
            index: 0,
            delta: {
              role: "assistant",
              tool_calls: [{ ...toolCall, function: { name: reply.toolName, arguments: "" } }],
            },
            finish_reason: null,
          },
        ]),
      ),
    );
    lines.push(
      toDataLine(
        chunk([
          {
            index: 0,
            delta: { tool_calls: [{ index: 0, function: { arguments: reply.argumentsJson } }] },
            finish_reason: null,
          },
        ]),
      ),
    );
    lines.push(toDataLine(chunk([{ index: 0, delta: {}, finish_reason: "tool_calls" }])));
  } else {
    lines.push(
      toDataLine(chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }])),
    );
    for (const piece of splitText(reply.text)) {
      lines.push(toDataLine(chunk([{ index: 0, delta: { content: piece }, finish_reason: null }])));
    }
    lines.push(toDataLine(chunk([{ index: 0, delta: {}, finish_reason: "stop" }])));
  }
  lines.push(toDataLine(chunk([], { usage: toOpenAiUsage(usage) })));
  lines.push(toDataLine("[DONE]"));
  return lines.join("");
}

/** Non-streaming `chat.completion` object (used when a request says `stream: false`). */
export function toChatCompletion(reply: SuccessReply, usage: MockUsage, id: string, model: string): unknown {
  const message =
    reply.kind === "tool"
      ? {
          role: "assistant",
          content: null,
          tool_calls: [
            {
              id: reply.toolCallId,
              type: "function",
              function: { name: reply.toolName, arguments: reply.argumentsJson },
            },
          ],
        }
      : { role: "assistant", content: reply.text };
  return {
    id,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message, finish_reason: reply.kind === "tool" ? "tool_calls" : "stop" }],
    usage: toOpenAiUsage(usage),
  };
}

function toOpenAiUsage(usage: MockUsage) {
  // the details object only when a cache figure is set, so the default wire stays as captured
  const details = {
    ...(usage.cachedTokens === undefined ? {} : { cached_tokens: usage.cachedTokens }),
    ...(usage.cacheWriteTokens === undefined ? {} : { cache_write_tokens: usage.cacheWriteTokens }),
  };
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    ...(Object.keys(details).length > 0 ? { prompt_tokens_details: details } : {}),
  };
}

/** SSE body for `POST /v1/responses` (`api: "openai-responses"`), ending in `response.completed`. */
export function toResponsesStream(reply: SuccessReply, usage: MockUsage, id: string, model: string): string {
  let sequence = 0;
  const event = (type: string, payload: Record<string, unknown>) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...payload })}\n\n`;
  const base = { id, object: "response", created_at: Math.floor(Date.now() / 1000), model };
  const lines: string[] = [
    event("response.created", { response: { ...base, status: "in_progress", output: [] } }),
  ];
  let item: Record<string, unknown>;
  if (reply.kind === "tool") {
    const itemId = `fc_${id}`;
    item = {
      type: "function_call",
      id: itemId,
      call_id: reply.toolCallId,
      name: reply.toolName,
      arguments: reply.argumentsJson,
      status: "completed",
    };
    lines.push(
      event("response.output_item.added", {
        output_index: 0,
        item: { ...item, arguments: "", status: "in_progress" },
      }),
    );
    lines.push(
      event("response.function_call_arguments.delta", {
        item_id: itemId,
        output_index: 0,
        delta: reply.argumentsJson,
      }),
    );
    lines.push(
      event("response.function_call_arguments.done", {
        item_id: itemId,
        output_index: 0,
        arguments: reply.argumentsJson,
      }),
    );
  } else {
    const itemId = `msg_${id}`;
    const part = { type: "output_text", text: reply.text, annotations: [] };
    item = { type: "message", id: itemId, role: "assistant", status: "completed", content: [part] };
    const where = { item_id: itemId, output_index: 0, content_index: 0 };
    lines.push(
      event("response.output_item.added", {
        output_index: 0,
        item: { ...item, status: "in_progress", content: [] },
      }),
    );
    lines.push(event("response.content_part.added", { ...where, part: { ...part, text: "" } }));
    for (const piece of splitText(reply.text))
      lines.push(event("response.output_text.delta", { ...where, delta: piece }));
    lines.push(event("response.output_text.done", { ...where, text: reply.text }));
    lines.push(event("response.content_part.done", { ...where, part }));
  }
  lines.push(event("response.output_item.done", { output_index: 0, item }));
  lines.push(
    event("response.completed", {
      response: {
        ...base,
        status: "completed",
        output: [item],
        usage: {
          input_tokens: usage.promptTokens,
          output_tokens: usage.completionTokens,
          total_tokens: usage.promptTokens + usage.completionTokens,
        },
      },
    }),
  );
  return lines.join("");
}

/** OpenAI-style error body for injected 4xx answers. */
export function toErrorBody(status: number, message: string): unknown {
  return {
    error: {
      message,
      type: status === 429 ? "rate_limit_error" : status >= 500 ? "server_error" : "invalid_request_error",
      param: null,
      code: `mock_${status}`,
    },
  };
}
