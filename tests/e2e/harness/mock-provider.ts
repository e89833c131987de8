/**
 * A local OpenAI-compatible model provider for the real gateway: answers `POST /v1/chat/completions`
 * (SSE or JSON) and `POST /v1/responses` (SSE), and records every request it receives.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  DEFAULT_REPLY_RULES,
  decideMockReply,
  type MockReply,
  type MockReplyRules,
  type MockStep,
  type MockUsage,
  toPromptText,
  toScriptedReply,
} from "./mock-reply.js";
import { toChatCompletion, toChatCompletionStream, toErrorBody, toResponsesStream } from "./mock-wire.js";

/** One request as the mock saw it. */
export interface RecordedRequest {
  method: string;
  path: string;
  /** Whether an `Authorization` header was sent (its value is not kept). */
  hasAuthorization: boolean;
  /** Parsed JSON body, or the raw text when it did not parse. */
  body: unknown;
  /** What the mock answered; absent for requests outside the model endpoints. */
  reply?: MockReply;
  usage?: MockUsage;
  /** The model the request named (`body.model`). */
  model?: string;
  /** The script marker whose step answered it, if any. */
  script?: string;
  receivedAt: number;
}

/** Options of {@link startMockProvider}. */
export interface MockProviderOptions {
  /** Usage reported when no per-reply usage is queued (default 111 prompt / 22 completion, as captured). */
  usage?: MockUsage;
  /** Usage per model id (`body.model`), used when no per-reply usage is queued. */
  usageByModel?: Record<string, MockUsage>;
  rules?: Partial<MockReplyRules>;
}

/** A running mock provider. */
export interface MockProvider {
  readonly port: number;
  /** Base URL to put in `models.providers.<id>.baseUrl` (ends in `/v1`). */
  readonly baseUrl: string;
  /** Every request received, oldest first. */
  readonly requests: readonly RecordedRequest[];
  /** Requests to the model endpoints only (chat completions or responses). */
  modelRequests(): RecordedRequest[];
  /** Usage for the next replies, one per reply, before falling back to the default. */
  enqueueUsage(...usages: MockUsage[]): void;
  setDefaultUsage(usage: MockUsage): void;
  /** Usage of every reply by this model (after queued usage, before the default). */
  setModelUsage(model: string, usage: MockUsage): void;
  /**
   * Scripts the answers to every model request whose prompt contains `marker`, one step per
   * request (retries of a call included); once the steps run out the default rules answer.
   */
  script(marker: string, steps: MockStep[]): void;
  /** Steps of a script not yet used. */
  remainingSteps(marker: string): number;
  /** Forgets the recorded requests (not the usage queue). */
  clearRequests(): void;
  close(): Promise<void>;
}

export const DEFAULT_MOCK_USAGE: MockUsage = { promptTokens: 111, completionTokens: 22 };

/** Body size cap: OpenClaw's requests are ~100 kB (tool schemas); anything far bigger is a bug. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;
/** Recorded requests cap, so a runaway test cannot grow memory without bound. */
const MAX_RECORDED = 2000;

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new Error("request body too large");
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function sendJson(
  response: ServerResponse,
  status: number,
  payload: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(payload);
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

function sendSse(response: ServerResponse, body: string): void {
  response.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    connection: "close",
  });
  response.end(body);
}

/** Starts the mock provider on 127.0.0.1 with a kernel-assigned port. */
export async function startMockProvider(options: MockProviderOptions = {}): Promise<MockProvider> {
  const rules: MockReplyRules = { ...DEFAULT_REPLY_RULES, ...options.rules };
  let defaultUsage: MockUsage = options.usage ?? DEFAULT_MOCK_USAGE;
  const usageByModel = new Map(Object.entries(options.usageByModel ?? {}));
  const usageQueue: MockUsage[] = [];
  const scripts = new Map<string, MockStep[]>();
  const nextStep = (body: unknown): { marker: string; step: MockStep } | undefined => {
    const prompt = toPromptText(body);
    for (const [marker, steps] of scripts) {
      if (!prompt.includes(marker)) continue;
      const step = steps.shift();
      return step === undefined ? undefined : { marker, step };
    }
    return undefined;
  };
  const requests: RecordedRequest[] = [];
  let replyCount = 0;

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = (request.url ?? "/").split("?")[0] ?? "/";
    const method = request.method ?? "GET";
    const body = parseJson(await readBody(request));
    const isChat = method === "POST" && path.endsWith("/chat/completions");
    const isResponses = method === "POST" && path.endsWith("/responses");
    const record = (entry: RecordedRequest) => {
      if (requests.length >= MAX_RECORDED) requests.shift();
      requests.push(entry);
    };
    const hasAuthorization = typeof request.headers.authorization === "string";
    if (!isChat && !isResponses) {
      record({ method, path, hasAuthorization, body, receivedAt: Date.now() });
      if (method === "GET" && path.endsWith("/models")) {
        sendJson(response, 200, {
          object: "list",
          data: [{ id: "mock-model", object: "model", owned_by: "mock" }],
        });
      } else {
        sendJson(response, 404, toErrorBody(404, `mock provider: no route ${method} ${path}`));
      }
      return;
    }
    replyCount += 1;
    const fields =
      body !== null && typeof body === "object" ? (body as { model?: unknown; stream?: unknown }) : {};
    const model = typeof fields.model === "string" ? fields.model : "mock-model";
    const scripted = nextStep(body);
    const reply = scripted
      ? toScriptedReply(scripted.step, rules, replyCount)
      : decideMockReply(body, rules, replyCount);
    const usage = scripted?.step.usage ?? usageQueue.shift() ?? usageByModel.get(model) ?? defaultUsage;
    record({
      method,
      path,
      hasAuthorization,
      body,
      reply,
      usage,
      model,
      ...(scripted ? { script: scripted.marker } : {}),
      receivedAt: Date.now(),
    });
    const delayMs = scripted?.step.delayMs ?? 0;
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (reply.kind === "error") {
      const headers: Record<string, string> =
        reply.retryAfter === undefined ? {} : { "retry-after": reply.retryAfter };
      sendJson(response, reply.status, toErrorBody(reply.status, reply.message), headers);
      return;
    }
    const id = `${isChat ? "chatcmpl" : "resp"}-mock-${replyCount}`;
    if (isResponses) {
      sendSse(response, toResponsesStream(reply, usage, id, model));
    } else if (fields.stream === false || fields.stream === undefined) {
      sendJson(response, 200, toChatCompletion(reply, usage, id, model));
    } else {
      sendSse(response, toChatCompletionStream(reply, usage, id, model));
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 400, toErrorBody(400, `mock provider: ${String(error)}`));
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    modelRequests: () => requests.filter((entry) => entry.reply !== undefined),
    enqueueUsage: (...usages) => {
      usageQueue.push(...usages);
    },
    setDefaultUsage: (usage) => {
      defaultUsage = usage;
    },
    setModelUsage: (modelId, usage) => {
      usageByModel.set(modelId, usage);
    },
    script: (marker, steps) => {
      scripts.set(marker, [...steps]);
    },
    remainingSteps: (marker) => scripts.get(marker)?.length ?? 0,
    clearRequests: () => {
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
