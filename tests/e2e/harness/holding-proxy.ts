/**
 * A pass-through HTTP proxy that can hold requests: while held, a request is read in full and left
 * unanswered, so a client's export is in flight for as long as the test wants (a hanging backend,
 * or a crash "mid-export"). Released requests whose client is still connected are forwarded then.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A running holding proxy. */
export interface HoldingProxy {
  /** `http://127.0.0.1:<port>`: configure the client with this instead of the target. */
  readonly url: string;
  /** Requests currently held (read, not answered). */
  readonly heldCount: number;
  /** Requests received so far, held or not. */
  readonly receivedCount: number;
  /** From now on, requests are held. */
  hold(): void;
  /** Forwards what is held (to clients still connected) and every later request. */
  release(): Promise<void>;
  close(): Promise<void>;
}

const HOP_HEADERS = new Set(["host", "connection", "content-length", "transfer-encoding", "keep-alive"]);

interface Held {
  request: IncomingMessage;
  response: ServerResponse;
  body: Buffer;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Starts the proxy on 127.0.0.1 in front of `targetUrl` (scheme, host and port; no path). */
export async function startHoldingProxy(targetUrl: string): Promise<HoldingProxy> {
  const target = targetUrl.replace(/\/+$/, "");
  let holding = false;
  let received = 0;
  const held: Held[] = [];

  const forward = async ({ request, response, body }: Held): Promise<void> => {
    if (response.destroyed || request.socket.destroyed) return;
    const headers = Object.fromEntries(
      Object.entries(request.headers)
        .filter(([name, value]) => value !== undefined && !HOP_HEADERS.has(name))
        .map(([name, value]) => [name, Array.isArray(value) ? value.join(", ") : String(value)]),
    );
    try {
      const answer = await fetch(`${target}${request.url ?? "/"}`, {
        method: request.method ?? "GET",
        headers,
        ...(body.length > 0 ? { body: new Uint8Array(body) } : {}),
      });
      const answerBody = Buffer.from(await answer.arrayBuffer());
      const answerHeaders: Record<string, string> = {};
      answer.headers.forEach((value, name) => {
        if (!HOP_HEADERS.has(name) && name !== "content-encoding") answerHeaders[name] = value;
      });
      response.writeHead(answer.status, { ...answerHeaders, "content-length": answerBody.length });
      response.end(answerBody);
    } catch (error) {
      response.writeHead(502, { "content-type": "text/plain" });
      response.end(`holding proxy: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  const server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      received += 1;
      const entry = { request, response, body };
      if (holding) held.push(entry);
      else await forward(entry);
    })().catch(() => response.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    get heldCount() {
      return held.filter((entry) => !entry.response.destroyed && !entry.request.socket.destroyed).length;
    },
    get receivedCount() {
      return received;
    },
    hold() {
      holding = true;
    },
    async release() {
      holding = false;
      await Promise.all(held.splice(0).map(forward));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
