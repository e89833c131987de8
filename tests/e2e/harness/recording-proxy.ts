/**
 * A pass-through HTTP proxy that keeps every request body exactly as it went over the wire (and
 * gunzipped when it was compressed), for tests that must search everything a plugin sent, not
 * only what a receiver chose to decode. Forwards to one target and relays its answer unchanged.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

/** One request as it passed the proxy. */
export interface ProxiedRequest {
  method: string;
  /** Path and query. */
  url: string;
  /** Lower-case header names; values as sent. */
  headers: Record<string, string>;
  /** The body as sent. */
  rawBody: Buffer;
  /** The body with `content-encoding: gzip` undone (the raw body otherwise, or when gunzip failed). */
  body: Buffer;
  /** The target's status, 502 when it could not be reached, undefined while it has not answered. */
  status: number | undefined;
}

/** A running proxy. */
export interface RecordingProxy {
  /** `http://127.0.0.1:<port>`: configure the client with this instead of the target. */
  readonly url: string;
  readonly requests: readonly ProxiedRequest[];
  close(): Promise<void>;
}

/** Cap on kept requests, so a runaway client cannot grow test memory without bound. */
const MAX_REQUESTS = 5000;
/** Headers that describe one hop's framing, not the message. */
const HOP_HEADERS = new Set(["host", "connection", "content-length", "transfer-encoding", "keep-alive"]);

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Starts the proxy on 127.0.0.1 in front of `targetUrl` (scheme, host and port; no path). */
export async function startRecordingProxy(targetUrl: string): Promise<RecordingProxy> {
  const target = targetUrl.replace(/\/+$/, "");
  const requests: ProxiedRequest[] = [];
  const server = createServer((request, response) => {
    void (async () => {
      const rawBody = await readBody(request);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        if (value !== undefined)
          headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
      }
      let body = rawBody;
      if ((headers["content-encoding"] ?? "").includes("gzip")) {
        try {
          body = gunzipSync(rawBody);
        } catch {
          // kept raw: the search still sees whatever bytes were sent
        }
      }
      const record: ProxiedRequest = {
        method: request.method ?? "GET",
        url: request.url ?? "/",
        headers,
        rawBody,
        body,
        status: undefined,
      };
      if (requests.length >= MAX_REQUESTS) requests.shift();
      requests.push(record);
      const forwarded = Object.fromEntries(
        Object.entries(headers).filter(([name]) => !HOP_HEADERS.has(name)),
      );
      try {
        const answer = await fetch(`${target}${record.url}`, {
          method: record.method,
          headers: forwarded,
          ...(rawBody.length > 0 ? { body: new Uint8Array(rawBody) } : {}),
        });
        const answerBody = Buffer.from(await answer.arrayBuffer());
        record.status = answer.status;
        const answerHeaders: Record<string, string> = {};
        // fetch already decoded the body: its encoding and length headers no longer apply
        answer.headers.forEach((value, name) => {
          if (!HOP_HEADERS.has(name) && name !== "content-encoding") answerHeaders[name] = value;
        });
        response.writeHead(answer.status, { ...answerHeaders, "content-length": answerBody.length });
        response.end(answerBody);
      } catch (error) {
        record.status = 502;
        response.writeHead(502, { "content-type": "text/plain" });
        response.end(`recording proxy: ${error instanceof Error ? error.message : String(error)}`);
      }
    })().catch(() => response.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
