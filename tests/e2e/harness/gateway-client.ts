/**
 * Drives a test gateway: turns over HTTP (`/v1/chat/completions`) and WS (`chat.send`), generic
 * gateway RPC (plugin methods included), the gateway's own usage figures, and polling.
 */
import { spawn } from "node:child_process";
import { resolveNodeBinary, resolveOpenClawEntry } from "./gateway.js";
import { connectGatewayWs, GatewayRequestError, type GatewayWsConnection } from "./gateway-ws.js";

/** What the client needs of a gateway (a {@link GatewayHandle} fits). */
export interface GatewayAddress {
  baseUrl: string;
  wsUrl: string;
  token: string;
}

/** Result of {@link chatCompletion}. */
export interface ChatCompletionResult {
  status: number;
  /** Parsed JSON body (OpenAI `chat.completion` or `{ error }`). */
  body: unknown;
  /** `choices[0].message.content` when present. */
  content: string | undefined;
  /** The completion id: the run id of the turn on the HTTP path. */
  id: string | undefined;
}

/**
 * One turn over `POST /v1/chat/completions` (non-streaming). `sessionKey` goes in
 * `x-openclaw-session-key`; without it every request is a new session.
 */
export async function chatCompletion(
  gateway: GatewayAddress,
  input: {
    sessionKey: string;
    content: string;
    timeoutMs?: number;
    /** The agent (`openclaw/<agent id>`, default `main`). */
    agent?: string;
    /** `x-openclaw-model`: run this `provider/model` instead of the agent's own. */
    model?: string;
  },
): Promise<ChatCompletionResult> {
  const response = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${gateway.token}`,
      "content-type": "application/json",
      "x-openclaw-session-key": input.sessionKey,
      ...(input.model ? { "x-openclaw-model": input.model } : {}),
    },
    body: JSON.stringify({
      model: `openclaw/${input.agent ?? "main"}`,
      messages: [{ role: "user", content: input.content }],
    }),
    signal: AbortSignal.timeout(input.timeoutMs ?? 120_000),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // keep the raw text: an HTML or plain error page is still worth showing in a failure
  }
  const record = (body ?? {}) as { id?: unknown; choices?: Array<{ message?: { content?: unknown } }> };
  const content = record.choices?.[0]?.message?.content;
  return {
    status: response.status,
    body,
    content: typeof content === "string" ? content : undefined,
    id: typeof record.id === "string" ? record.id : undefined,
  };
}

/**
 * Calls any gateway method over WS (core or plugin-registered) and returns its payload; rejects with
 * {@link GatewayRequestError} when the gateway answers `ok: false`. One connection per call.
 */
export async function callGatewayMethod(
  gateway: GatewayAddress,
  method: string,
  params: unknown = {},
  timeoutMs = 60_000,
): Promise<unknown> {
  const connection = await connectWithRetry(gateway);
  try {
    return await connection.request(method, params, timeoutMs);
  } finally {
    connection.close();
  }
}

/** Connects; retries while the gateway answers `connect` with UNAVAILABLE (startup sidecars still starting). */
async function connectWithRetry(gateway: GatewayAddress, budgetMs = 20_000): Promise<GatewayWsConnection> {
  const deadline = Date.now() + budgetMs;
  for (;;) {
    try {
      return await connectGatewayWs(gateway.wsUrl, gateway.token);
    } catch (error) {
      const retryable = error instanceof GatewayRequestError && error.code === "UNAVAILABLE";
      if (!retryable || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/**
 * One turn over WS `chat.send`. Returns the gateway's immediate acknowledgement (the run continues
 * in the background: poll with {@link waitFor}). The run id is the idempotency key.
 */
export async function chatSend(
  gateway: GatewayAddress,
  input: { sessionKey: string; message: string; idempotencyKey: string },
): Promise<unknown> {
  return await callGatewayMethod(gateway, "chat.send", input);
}

/** Result of {@link callGatewayMethodViaCli}. */
export interface CliCallResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON, when it is JSON. */
  json: unknown;
}

/** A gateway the CLI can be pointed at; `env` (a {@link GatewayHandle} has it) isolates the CLI too. */
export interface GatewayCliTarget extends GatewayAddress {
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs the real CLI: `openclaw gateway call <method> --params <json> --json --url ... --token ...`,
 * in the gateway's environment. Slower than {@link callGatewayMethod} (a CLI process, ~2–4 s).
 */
export async function callGatewayMethodViaCli(
  gateway: GatewayCliTarget,
  method: string,
  params: unknown = {},
): Promise<CliCallResult> {
  const args = [
    "gateway",
    "call",
    method,
    "--params",
    JSON.stringify(params),
    "--json",
    "--url",
    gateway.wsUrl,
    "--token",
    gateway.token,
  ];
  return await runOpenClawCli(gateway, args);
}

/**
 * Runs `openclaw <args>` (e.g. `["clawscope", "status", "--json"]`) with the gateway's environment, so
 * it reads the same config and state. Plugin CLI commands load every plugin first: ~9–12 s each here.
 * With `--json` in argv the host sends `console.log` to stderr; JSON meant for stdout must use
 * `process.stdout.write`.
 */
export async function runOpenClawCli(
  gateway: { env?: NodeJS.ProcessEnv },
  args: string[],
  timeoutMs = 90_000,
): Promise<CliCallResult> {
  const env = gateway.env ?? process.env;
  return await new Promise<CliCallResult>((resolve, reject) => {
    const child = spawn(resolveNodeBinary(), [resolveOpenClawEntry(), ...args], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("exit", (exitCode) => {
      clearTimeout(timer);
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ exitCode, stdout, stderr, json });
    });
  });
}

/** Polls `predicate` (sync or async) every `intervalMs` until it returns a truthy value, which is returned. */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  timeoutMs = 30_000,
  intervalMs = 100,
  description = "condition",
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      // a predicate may throw while the state is not there yet (e.g. RPC before a plugin started)
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const reason = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}${reason}`);
}
