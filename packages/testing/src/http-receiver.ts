/**
 * An in-process HTTP receiver for transport tests: records every request (gunzipped, JSON decoded)
 * and can misbehave on demand — go down and come back on the same port, answer a status for the
 * next N requests, refuse large bodies with 413, or answer late (or never).
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

/** One request as the receiver saw it. */
export interface ReceivedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** Path with the query string. */
  url: string;
  /** Header names in lower case; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The body as it came over the wire. */
  rawBody: Buffer;
  /** The body after `content-encoding: gzip` was undone (same as `rawBody` otherwise). */
  body: Buffer;
  /** The parsed body when the content type says JSON and it parses. */
  json?: unknown;
  /** Why `body` could not be gunzipped or parsed, when that happened. */
  decodeError?: string;
  /** The status the receiver answered (0 while a delayed answer is pending, or if it never answered). */
  status: number;
  receivedAt: number;
}

/** A scripted answer. */
export interface ReceiverAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** Options for {@link createHttpReceiver}. */
export interface HttpReceiverOptions {
  /** Port to listen on; 0 (default) picks a free one, kept across `down()`/`up()`. */
  port?: number;
  host?: string;
  /** Requests kept in `requests`; older ones are dropped and counted (default 100 000). */
  maxRecorded?: number;
  /** Bodies larger than this are answered 413 without being kept (default 64 MiB). */
  maxBodyBytes?: number;
}

/** A running receiver. */
export interface HttpReceiver {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Recorded requests, oldest first. */
  readonly requests: readonly ReceivedRequest[];
  /** Requests no longer in `requests` because of `maxRecorded`. */
  readonly droppedRecords: number;
  readonly isUp: boolean;
  /** Closes the listening socket and every open connection: new connections are refused. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  /** Answers `answer` to the next `times` requests, or to every request until `reset` when `times` is absent. */
  respondWith(answer: ReceiverAnswer, times?: number): void;
  /** Answers 413 to bodies larger than `bytes` (on the wire); `undefined` turns it off. */
  setMaxBodyBytes(bytes: number | undefined): void;
  /** Delays every answer by `ms`; `Infinity` never answers (until `down`/`close`). */
  setDelay(ms: number): void;
  /** The answer when nothing is scripted (default 200 `{}`); may inspect the request. */
  setDefaultAnswer(answer: ReceiverAnswer | ((request: ReceivedRequest) => ReceiverAnswer)): void;
  /** Clears scripted answers, the size limit, the delay and the default answer (recorded requests stay). */
  reset(): void;
  clearRequests(): void;
  close(): Promise<void>;
}

const OK_ANSWER: ReceiverAnswer = {
  status: 200,
  headers: { "content-type": "application/json" },
  body: "{}",
};

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return flat;
}

function decode(request: ReceivedRequest): void {
  if ((request.headers["content-encoding"] ?? "").toLowerCase().includes("gzip")) {
    try {
      request.body = gunzipSync(request.rawBody);
    } catch (error) {
      request.decodeError = `gunzip: ${(error as Error).message}`;
      return;
    }
  }
  if ((request.headers["content-type"] ?? "").toLowerCase().includes("json") && request.body.length > 0) {
    try {
      request.json = JSON.parse(request.body.toString("utf8"));
    } catch (error) {
      request.decodeError = `json: ${(error as Error).message}`;
    }
  }
}

/** Starts a receiver on 127.0.0.1 and resolves once it listens. */
export async function createHttpReceiver(options: HttpReceiverOptions = {}): Promise<HttpReceiver> {
  const host = options.host ?? "127.0.0.1";
  const maxRecorded = options.maxRecorded ?? 100_000;
  const hardBodyLimit = options.maxBodyBytes ?? 64 * 1024 * 1024;
  const requests: ReceivedRequest[] = [];
  let droppedRecords = 0;
  let port = options.port ?? 0;
  let server: Server | undefined;
  let scripted: { answer: ReceiverAnswer; remaining: number } | undefined;
  let maxBodyBytes: number | undefined;
  let delayMs = 0;
  let defaultAnswer: ReceiverAnswer | ((request: ReceivedRequest) => ReceiverAnswer) = OK_ANSWER;
  const delayed = new Set<ReturnType<typeof setTimeout>>();

  const chooseAnswer = (request: ReceivedRequest): ReceiverAnswer => {
    if (maxBodyBytes !== undefined && request.rawBody.length > maxBodyBytes) {
      return { status: 413, body: "payload too large" };
    }
    if (scripted) {
      const answer = scripted.answer;
      scripted.remaining -= 1;
      if (scripted.remaining <= 0) scripted = undefined;
      return answer;
    }
    return typeof defaultAnswer === "function" ? defaultAnswer(request) : defaultAnswer;
  };

  const answer = (response: ServerResponse, request: ReceivedRequest, chosen: ReceiverAnswer) => {
    if (response.destroyed || response.writableEnded) return;
    request.status = chosen.status;
    response.writeHead(chosen.status, chosen.headers ?? {});
    response.end(chosen.body ?? "");
  };

  const handle = (incoming: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    incoming.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > hardBodyLimit) tooBig = true;
      else chunks.push(chunk);
    });
    incoming.on("error", () => undefined);
    incoming.on("end", () => {
      const url = incoming.url ?? "/";
      const rawBody = tooBig ? Buffer.alloc(0) : Buffer.concat(chunks);
      const request: ReceivedRequest = {
        method: incoming.method ?? "GET",
        path: url.split("?")[0] ?? "/",
        url,
        headers: flattenHeaders(incoming.headers),
        rawBody,
        body: rawBody,
        status: 0,
        receivedAt: Date.now(),
      };
      if (!tooBig) decode(request);
      requests.push(request);
      if (requests.length > maxRecorded) {
        requests.shift();
        droppedRecords += 1;
      }
      const chosen = tooBig ? { status: 413, body: "payload too large" } : chooseAnswer(request);
      if (delayMs === 0) return answer(response, request, chosen);
      if (!Number.isFinite(delayMs)) return; // never answers; `down`/`close` destroy the socket
      const timer = setTimeout(() => {
        delayed.delete(timer);
        answer(response, request, chosen);
      }, delayMs);
      delayed.add(timer);
    });
  };

  const up = (): Promise<void> =>
    new Promise((resolve, reject) => {
      if (server) return resolve();
      const next = createServer(handle);
      next.keepAliveTimeout = 1000;
      next.once("error", reject);
      next.listen(port, host, () => {
        next.off("error", reject);
        port = (next.address() as AddressInfo).port;
        server = next;
        resolve();
      });
    });

  const down = (): Promise<void> =>
    new Promise((resolve) => {
      const current = server;
      server = undefined;
      for (const timer of delayed) clearTimeout(timer);
      delayed.clear();
      if (!current) return resolve();
      current.close(() => resolve());
      // keep-alive and never-answered connections would otherwise keep "up" semantics alive
      current.closeAllConnections();
    });

  await up();

  return {
    get port() {
      return port;
    },
    get url() {
      return `http://${host}:${port}`;
    },
    requests,
    get droppedRecords() {
      return droppedRecords;
    },
    get isUp() {
      return server !== undefined;
    },
    down,
    up,
    respondWith(answerToGive, times) {
      const remaining = times === undefined ? Number.POSITIVE_INFINITY : Math.max(0, Math.floor(times));
      scripted = remaining > 0 ? { answer: answerToGive, remaining } : undefined;
    },
    setMaxBodyBytes(bytes) {
      maxBodyBytes = bytes;
    },
    setDelay(ms) {
      delayMs = Math.max(0, ms);
    },
    setDefaultAnswer(next) {
      defaultAnswer = next;
    },
    reset() {
      scripted = undefined;
      maxBodyBytes = undefined;
      delayMs = 0;
      defaultAnswer = OK_ANSWER;
    },
    clearRequests() {
      requests.length = 0;
    },
    close: down,
  };
}

/**
 * Polls `predicate` every `intervalMs` until it is true; rejects after `timeoutMs` with `message`
 * (so a failing test says what it was waiting for).
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  options: { intervalMs?: number; message?: string } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const interval = options.intervalMs ?? 10;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() >= deadline) {
      throw new Error(
        `waitFor timed out after ${timeoutMs} ms${options.message ? `: ${options.message}` : ""}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
