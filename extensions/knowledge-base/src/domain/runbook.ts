/**
 * The built-in runbook: for each kind of failure the host knows, what usually causes it and the
 * OpenClaw settings that address it (as the gateway's own documentation names them). An entry gets
 * the runbook items that match its kind, status, category or message; operators add their own
 * solutions on top (`kb_solutions`).
 */
import type { FailureKind } from "./fingerprint.js";

export interface RunbookItem {
  id: string;
  title: string;
  /** What to change, in order; OpenClaw settings in backticks. */
  steps: string[];
  /** Matches when any condition holds. */
  when: {
    kinds?: FailureKind[];
    statuses?: number[];
    /** Lower-case words looked for in the category and the normalized message. */
    words?: string[];
  };
}

export const RUNBOOK: readonly RunbookItem[] = [
  {
    id: "rate-limit",
    title: "The provider rate-limits the requests",
    when: {
      statuses: [429],
      words: ["rate_limit", "rate limit", "throttling", "resource_exhausted", "too many requests"],
    },
    steps: [
      "The gateway already retries a 429 (up to 8 times, about 90 s); recurring ones mean sustained pressure.",
      "Add a fallback model on another provider: `agents.defaults.model.fallbacks`.",
      "Spread load over several keys: more auth profiles for the provider, ordered in `auth.order.<provider>`.",
      "Ask the provider for a higher tier or quota (tokens per minute and requests per minute are separate limits).",
    ],
  },
  {
    id: "quota-billing",
    title: "The account is out of credits or quota",
    when: {
      statuses: [402],
      words: ["insufficient_quota", "credit balance", "billing", "credits", "quota exceeded"],
    },
    steps: [
      "Add credits or raise the spend limit with the provider; retries do not help.",
      "Keep the gateway answering meanwhile: `agents.defaults.model.fallbacks` to a model on another account.",
    ],
  },
  {
    id: "auth",
    title: "The provider refuses the credentials",
    when: {
      statuses: [401, 403],
      words: [
        "authentication",
        "api key",
        "api_key",
        "x-api-key",
        "unauthorized",
        "permission",
        "credentials",
        "security token",
        "access denied",
      ],
    },
    steps: [
      "Check the key of the provider: `models.providers.<id>.apiKey`, or the auth profile named in `auth.order.<provider>`.",
      "A key that was rotated or revoked: update the auth profile (`openclaw models auth`), then restart the gateway.",
      "403 on one model only: the key has no access to it; pick another in `agents.defaults.model.primary`.",
    ],
  },
  {
    id: "context-overflow",
    title: "The conversation no longer fits the model's context window",
    when: {
      words: [
        "context_length",
        "context length",
        "too long",
        "prompt is too long",
        "input token count",
        "context_overflow",
        "maximum context",
      ],
    },
    steps: [
      "Auto-compaction is on by default and retries after an overflow; check `agents.defaults.compaction` was not turned off.",
      "Prune old tool results sooner: `agents.defaults.contextPruning`.",
      "Lower what is injected at start: `agents.defaults.bootstrapMaxChars`, `agents.defaults.bootstrapTotalMaxChars`.",
      "Or move the agent to a model with a larger window: `agents.defaults.model.primary`.",
    ],
  },
  {
    id: "provider-unavailable",
    title: "The provider is down or overloaded",
    when: {
      statuses: [500, 502, 503, 529],
      words: ["overloaded", "server_error", "internal", "unavailable", "bad gateway", "api_error"],
    },
    steps: [
      "The gateway retries 5xx and overloads; recurring ones are the provider's incident (check its status page).",
      "Fail over to another provider while it lasts: `agents.defaults.model.fallbacks`.",
    ],
  },
  {
    id: "provider-timeout",
    title: "Model requests time out",
    when: { statuses: [408, 504], words: ["timed out", "timeout", "deadline", "etimedout"] },
    steps: [
      "Slow or self-hosted providers (Ollama, vLLM): raise `models.providers.<id>.timeoutSeconds`.",
      "Keep the whole run's budget above it: `agents.defaults.timeoutSeconds`.",
      "Add `agents.defaults.model.fallbacks` so a stalled provider does not stall the agent.",
    ],
  },
  {
    id: "model-not-found",
    title: "The configured model does not exist there",
    when: {
      statuses: [404],
      words: [
        "model_not_found",
        "not found",
        "does not exist",
        "not a valid model",
        "deploymentnotfound",
        "try pulling",
      ],
    },
    steps: [
      "Check the model id in `agents.defaults.model.primary` and `agents.defaults.models` against the provider's list.",
      "Ollama: pull the model on the host (`ollama pull <model>`) or fix `models.providers.ollama.baseUrl`.",
      "Azure OpenAI: the deployment name, not the model name, goes in the model id.",
    ],
  },
  {
    id: "invalid-request",
    title: "The provider refuses the request as invalid",
    when: {
      kinds: ["provider_error"],
      statuses: [400, 422],
      words: [
        "invalid_request_error",
        "unsupported parameter",
        "unsupported value",
        "is not permitted",
        "validationexception",
      ],
    },
    steps: [
      "A parameter this model does not take or takes in another range: the per-model `params` in `agents.defaults.models` (`temperature`, `maxTokens`, …), the agent-wide `agents.defaults.params`, and what a request sent through the gateway's OpenAI-compatible API asked for.",
      "A custom or proxied endpoint that lacks a capability OpenClaw uses: declare it in the provider's `compat` (`supportsTemperature`, `supportsTools`, `supportsStrictMode`, `maxTokensField`, …).",
      "A tool schema the provider does not accept (a plugin's or an MCP server's tool): the examples name the tool; fix its schema or leave it out for this model.",
      "The words that say which field are in the message when the knowledge base runs with `captureContent: true`.",
    ],
  },
  {
    id: "provider-unreachable",
    title: "The provider cannot be reached",
    when: {
      words: [
        "econnrefused",
        "enotfound",
        "connection error",
        "connection refused",
        "fetch failed",
        "econnreset",
      ],
    },
    steps: [
      "Check `models.providers.<id>.baseUrl` and that the provider (or local server) is running and reachable from the gateway host.",
      "Behind a proxy: the gateway's network settings (see the gateway's network documentation).",
    ],
  },
  {
    id: "content-filter",
    title: "The provider's safety system rejected the request",
    when: {
      words: ["content_filter", "content management policy", "safety system", "moderation", "flagged"],
    },
    steps: [
      "The prompt or the conversation triggered the provider's filter; retrying the same input fails again.",
      "Review the agent's instructions and tool outputs fed back to the model; a fallback model may apply other policies.",
    ],
  },
  {
    id: "tool-timeout",
    title: "A tool runs out of time",
    when: { kinds: ["tool_error"], words: ["timed out", "timeout", "exceeded"] },
    steps: [
      "Shell commands: `tools.exec.timeoutSeconds`; web fetches: `tools.web.fetch.timeoutSeconds`.",
      "A command that waits on input or a server that never answers: fix the command rather than the timeout.",
    ],
  },
  {
    id: "tool-loop",
    title: "The agent repeats the same tool call",
    when: { kinds: ["tool_loop"] },
    steps: [
      "Loop detection warns and then blocks repeated calls: `tools.loopDetection.enabled` (per agent in `agents.entries.*.tools.loopDetection`).",
      "Look at the tool's result in the examples: a tool that returns the same error every time invites the model to retry it.",
    ],
  },
  {
    id: "tool-blocked",
    title: "Tool calls are blocked by policy or approval",
    when: { kinds: ["tool_blocked"] },
    steps: [
      "Shell commands: `tools.exec.security`, `tools.exec.ask` and the allowed `tools.exec.safeBins` decide what runs without approval.",
      "Approvals that time out or are denied: someone has to answer them, or the command must be allowed.",
    ],
  },
  {
    id: "session-stuck",
    title: "Sessions get stuck or stall",
    when: { kinds: ["session_stuck"] },
    steps: [
      "A model request or a tool that never returns: `models.providers.<id>.timeoutSeconds` and `tools.exec.timeoutSeconds` bound them.",
      "Bound the whole run: `agents.defaults.timeoutSeconds`.",
      "The host aborts a stalled embedded run on its own after a while; recurring stalls name the work kind and tool in the examples.",
    ],
  },
  {
    id: "export-failure",
    title: "The pack cannot deliver to a backend",
    when: { kinds: ["export_failure"] },
    steps: [
      "`openclaw clawscope status` shows each extension's pending, spooled, dropped and dead-lettered items and its last error.",
      "A backend down or slow: the items wait in the spool (`spoolMaxBytes`) and are sent when it is back; raise the spool if outages last longer than it holds.",
      "A refused credential pauses the extension's exports until the key is fixed in its config; refused items are kept as dead letters: `openclaw clawscope redeliver` sends them again.",
    ],
  },
  {
    id: "turn-incomplete",
    title: "Turns end without their final events",
    when: { kinds: ["turn_incomplete"] },
    steps: [
      "The gateway restarted or dropped diagnostic events under load: check `diagnostics.enabled` and the gateway's logs for queue drops.",
      "The pack closes such turns after `turnTimeoutMs`; raise it if runs legitimately last longer.",
    ],
  },
];

/** The runbook items that apply to an entry. */
export function matchRunbook(entry: {
  kind: FailureKind;
  status?: number;
  category?: string;
  message: string;
}): RunbookItem[] {
  const text = `${entry.category ?? ""} ${entry.message}`.toLowerCase();
  return RUNBOOK.filter((item) => {
    const { kinds, statuses, words } = item.when;
    if (kinds && !kinds.includes(entry.kind)) return false;
    const byStatus = statuses !== undefined && entry.status !== undefined && statuses.includes(entry.status);
    const byWord = words?.some((word) => text.includes(word)) ?? false;
    // an item with only kinds applies to every entry of those kinds
    return byStatus || byWord || (kinds !== undefined && statuses === undefined && words === undefined);
  });
}
