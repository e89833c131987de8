/**
 * Decides what the mock model answers to one request, from the messages OpenClaw sent.
 * Pure: no I/O, so the rules are easy to read and to test.
 */

/** Token counts the mock reports for one reply. */
export interface MockUsage {
  promptTokens: number;
  completionTokens: number;
  /** Cached prompt tokens (`prompt_tokens_details.cached_tokens`, part of `promptTokens` as OpenAI counts). */
  cachedTokens?: number;
  /** Prompt tokens written to the cache (`prompt_tokens_details.cache_write_tokens`, part of `promptTokens`). */
  cacheWriteTokens?: number;
}

/** What the mock answers: text, one tool call, or an HTTP error (with a `retry-after` header when set). */
export type MockReply =
  | { kind: "text"; text: string }
  | { kind: "tool"; toolName: string; toolCallId: string; argumentsJson: string }
  | { kind: "error"; status: number; message: string; retryAfter?: string };

/**
 * One scripted answer: each model request whose prompt carries a script's marker takes the next
 * step, retries of the same call included, so a test can say "429, 429, then text" for one turn.
 */
export type MockStep = (
  | { kind: "text"; text?: string }
  | { kind: "tool"; toolName?: string; arguments?: Record<string, unknown> }
  | { kind: "error"; status: number; retryAfter?: string; message?: string }
) & {
  /** Wait this long before answering, so the attempt has a duration of its own. */
  delayMs?: number;
  /** Usage of this answer (success steps), before the per-model and default usage. */
  usage?: MockUsage;
};

/** Markers and tool details the decision looks for. */
export interface MockReplyRules {
  /** A user message containing this asks for a tool call (default `USE_TOOL`). */
  toolMarker: string;
  /** Tool the mock calls (default `echo_tool`). */
  toolName: string;
  /** Arguments of that tool call (default `{ input: "hello-from-mock" }`). */
  toolArguments: Record<string, unknown>;
  /** `FAIL_<status>` (4xx only) in the prompt makes the mock answer that HTTP status. */
  errorMarkerPattern: RegExp;
}

export const DEFAULT_REPLY_RULES: MockReplyRules = {
  toolMarker: "USE_TOOL",
  toolName: "echo_tool",
  toolArguments: { input: "hello-from-mock" },
  errorMarkerPattern: /FAIL_(4\d\d)/,
};

const INTERNAL_CONTEXT_PREFIX = "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>";

/** A message or input item, reduced to what the decision needs (chat completions or responses API). */
interface ConversationEntry {
  role: string;
  text: string;
}

/** Flattens `content` (string or array of text parts) to plain text. */
export function toPlainText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part) => {
      if (typeof part === "string") return part;
      if (part !== null && typeof part === "object" && "text" in part) {
        const text = (part as { text: unknown }).text;
        return typeof text === "string" ? text : "";
      }
      return "";
    })
    .join("");
}

/** Reads `messages` (chat completions) or `input` (responses API) into role + text entries. */
export function toConversation(body: unknown): ConversationEntry[] {
  if (body === null || typeof body !== "object") return [];
  const record = body as { messages?: unknown; input?: unknown };
  const items = Array.isArray(record.messages)
    ? record.messages
    : Array.isArray(record.input)
      ? record.input
      : [];
  return items.map((item: unknown) => {
    if (item === null || typeof item !== "object") return { role: "unknown", text: "" };
    const entry = item as { role?: unknown; type?: unknown; content?: unknown; output?: unknown };
    // Responses API: tool results are `function_call_output` items without a role.
    if (entry.type === "function_call_output") {
      return {
        role: "tool",
        text: typeof entry.output === "string" ? entry.output : toPlainText(entry.output),
      };
    }
    if (entry.type === "function_call") return { role: "assistant", text: "" };
    return {
      role: typeof entry.role === "string" ? entry.role : "unknown",
      text: toPlainText(entry.content),
    };
  });
}

/**
 * The index of the user's own prompt in this request: the last user message that is not one of the
 * internal-context messages OpenClaw appends after it.
 */
function findPromptIndex(conversation: ConversationEntry[]): number {
  for (let index = conversation.length - 1; index >= 0; index -= 1) {
    const entry = conversation[index];
    if (entry?.role === "user" && !entry.text.trimStart().startsWith(INTERNAL_CONTEXT_PREFIX)) return index;
  }
  return -1;
}

/** The user's own prompt in a recorded request body ("" when there is none). */
export function toPromptText(body: unknown): string {
  const conversation = toConversation(body);
  const index = findPromptIndex(conversation);
  return index >= 0 ? (conversation[index]?.text ?? "") : "";
}

/**
 * Chooses the reply. The prompt (timestamp-prefixed, followed by internal-context user messages) is
 * searched for markers; a tool call is made only while no tool result follows the prompt, so the
 * second model call of a tool turn gets text, and earlier turns in the history never re-trigger.
 */
export function decideMockReply(body: unknown, rules: MockReplyRules, replyNumber: number): MockReply {
  const conversation = toConversation(body);
  const promptIndex = findPromptIndex(conversation);
  const prompt = promptIndex >= 0 ? (conversation[promptIndex]?.text ?? "") : "";
  return decideDefaultReply(conversation, promptIndex, prompt, rules, replyNumber);
}

/** The reply a scripted step asks for; `text` without words gets the numbered default text. */
export function toScriptedReply(step: MockStep, rules: MockReplyRules, replyNumber: number): MockReply {
  if (step.kind === "error") {
    const reply: MockReply = {
      kind: "error",
      status: step.status,
      message: step.message ?? `mock provider: scripted HTTP ${step.status}`,
    };
    if (step.retryAfter !== undefined) reply.retryAfter = step.retryAfter;
    return reply;
  }
  if (step.kind === "tool") {
    return {
      kind: "tool",
      toolName: step.toolName ?? rules.toolName,
      toolCallId: `call_mock_${replyNumber}`,
      argumentsJson: JSON.stringify(step.arguments ?? rules.toolArguments),
    };
  }
  return { kind: "text", text: step.text ?? `mock reply #${replyNumber}` };
}

function decideDefaultReply(
  conversation: ConversationEntry[],
  promptIndex: number,
  prompt: string,
  rules: MockReplyRules,
  replyNumber: number,
): MockReply {
  const errorMatch = rules.errorMarkerPattern.exec(prompt);
  if (errorMatch) {
    const status = Number(errorMatch[1] ?? 400);
    return { kind: "error", status, message: `mock provider: injected HTTP ${status}` };
  }
  const toolResults = conversation.slice(promptIndex + 1).filter((entry) => entry.role === "tool");
  if (prompt.includes(rules.toolMarker) && toolResults.length === 0) {
    return {
      kind: "tool",
      toolName: rules.toolName,
      toolCallId: `call_mock_${replyNumber}`,
      argumentsJson: JSON.stringify(rules.toolArguments),
    };
  }
  const lastToolResult = toolResults.at(-1);
  if (lastToolResult) return { kind: "text", text: `tool said: ${lastToolResult.text}` };
  return { kind: "text", text: `mock reply #${replyNumber}` };
}
