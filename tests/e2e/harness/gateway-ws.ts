/**
 * A minimal client of the gateway's WebSocket protocol (v4), on Node 24's global WebSocket:
 * wait for `connect.challenge`, answer `connect` with the gateway token and a signed Ed25519
 * device identity (loopback devices are paired automatically), then `{type:"req"}` → `{type:"res"}`.
 * Mirrors `packages/gateway-client` in the openclaw dist (`client-*.mjs`, `device-auth-*.mjs`).
 */
import { createHash, generateKeyPairSync, type KeyObject, randomUUID, sign } from "node:crypto";

/** Error answer of a gateway request (`res.ok === false`). */
export class GatewayRequestError extends Error {
  readonly code: string | undefined;
  readonly details: unknown;
  constructor(method: string, error: { message?: unknown; code?: unknown; details?: unknown } | undefined) {
    super(`${method}: ${typeof error?.message === "string" ? error.message : JSON.stringify(error)}`);
    this.name = "GatewayRequestError";
    this.code = typeof error?.code === "string" ? error.code : undefined;
    this.details = error?.details;
  }
}

/** An event frame pushed by the gateway (`{type:"event", event, payload}`). */
export interface GatewayEventFrame {
  event: string;
  payload: unknown;
}

/** An open, authenticated WS connection. */
export interface GatewayWsConnection {
  /** The `hello-ok` payload (methods, events, snapshot, negotiated auth). */
  readonly hello: Record<string, unknown>;
  /** Every event received so far (bounded). */
  readonly events: readonly GatewayEventFrame[];
  request(method: string, params?: unknown, timeoutMs?: number): Promise<unknown>;
  close(): void;
}

interface DeviceIdentity {
  deviceId: string;
  publicKeyRawBase64Url: string;
  privateKey: KeyObject;
}

const MAX_EVENTS = 5000;
/** Scopes the harness asks for: admin covers every method a test may call. */
const SCOPES = ["operator.admin", "operator.read", "operator.write"];
const CLIENT = { id: "cli", version: "clawscope-e2e", mode: "cli" } as const;

let cachedIdentity: DeviceIdentity | undefined;

/** One Ed25519 identity per test process; deviceId = sha256(raw public key) as the host computes it. */
function getDeviceIdentity(): DeviceIdentity {
  if (cachedIdentity) return cachedIdentity;
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const spki = publicKey.export({ type: "spki", format: "der" });
  const raw = spki.subarray(spki.length - 32);
  cachedIdentity = {
    deviceId: createHash("sha256").update(raw).digest("hex"),
    publicKeyRawBase64Url: raw.toString("base64url"),
    privateKey,
  };
  return cachedIdentity;
}

/** The v3 device-auth payload: `v3|device|client|mode|role|scopes|signedAt|token|nonce|platform|family`. */
function buildDeviceAuthPayload(input: {
  deviceId: string;
  token: string;
  nonce: string;
  signedAt: number;
}): string {
  return [
    "v3",
    input.deviceId,
    CLIENT.id,
    CLIENT.mode,
    "operator",
    SCOPES.join(","),
    String(input.signedAt),
    input.token,
    input.nonce,
    process.platform.toLowerCase(),
    "",
  ].join("|");
}

function parseFrame(data: unknown): Record<string, unknown> | undefined {
  try {
    const text = typeof data === "string" ? data : Buffer.from(data as ArrayBuffer).toString("utf8");
    const frame = JSON.parse(text) as unknown;
    return frame !== null && typeof frame === "object" ? (frame as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Connects and authenticates; rejects with the gateway's error if the handshake is refused. */
export async function connectGatewayWs(
  wsUrl: string,
  token: string,
  timeoutMs = 15_000,
): Promise<GatewayWsConnection> {
  const socket = new WebSocket(wsUrl);
  socket.binaryType = "arraybuffer";
  const pending = new Map<
    string,
    { method: string; resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  const events: GatewayEventFrame[] = [];
  let challenge:
    | { resolve: (payload: Record<string, unknown>) => void; reject: (error: Error) => void }
    | undefined;
  const challengeReceived = new Promise<Record<string, unknown>>((resolve, reject) => {
    challenge = { resolve, reject };
  });
  let closedError: Error | undefined;

  socket.addEventListener("message", (message) => {
    const frame = parseFrame(message.data);
    if (!frame) return;
    if (frame.type === "event") {
      if (frame.event === "connect.challenge")
        challenge?.resolve((frame.payload ?? {}) as Record<string, unknown>);
      if (events.length >= MAX_EVENTS) events.shift();
      events.push({ event: String(frame.event), payload: frame.payload });
      return;
    }
    if (frame.type === "res" && typeof frame.id === "string") {
      const waiter = pending.get(frame.id);
      if (!waiter) return;
      pending.delete(frame.id);
      if (frame.ok === true) waiter.resolve(frame.payload);
      else
        waiter.reject(
          new GatewayRequestError(waiter.method, frame.error as Record<string, unknown> | undefined),
        );
    }
  });
  socket.addEventListener("close", (event) => {
    closedError = new Error(`gateway websocket closed (${event.code} ${event.reason})`);
    challenge?.reject(closedError);
    for (const waiter of pending.values()) waiter.reject(closedError);
    pending.clear();
  });

  const request = (method: string, params?: unknown, requestTimeoutMs = 60_000): Promise<unknown> => {
    if (closedError) return Promise.reject(closedError);
    const id = randomUUID();
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`${method}: no answer within ${requestTimeoutMs} ms`));
      }, requestTimeoutMs);
      pending.set(id, {
        method,
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      socket.send(JSON.stringify({ type: "req", id, method, params: params ?? {} }));
    });
  };

  let handshakeTimer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    handshakeTimer = setTimeout(
      () => reject(new Error(`gateway websocket handshake timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    const challengePayload = await Promise.race([challengeReceived, timeout]);
    const nonce = String(challengePayload.nonce ?? "");
    const signedAt = typeof challengePayload.ts === "number" ? challengePayload.ts : Date.now();
    const identity = getDeviceIdentity();
    const signature = sign(
      null,
      Buffer.from(buildDeviceAuthPayload({ deviceId: identity.deviceId, token, nonce, signedAt }), "utf8"),
      identity.privateKey,
    ).toString("base64url");
    const hello = (await Promise.race([
      request("connect", {
        minProtocol: 4,
        maxProtocol: 4,
        client: { ...CLIENT, platform: process.platform },
        role: "operator",
        scopes: SCOPES,
        caps: [],
        auth: { token },
        device: {
          id: identity.deviceId,
          publicKey: identity.publicKeyRawBase64Url,
          signature,
          signedAt,
          nonce,
        },
      }),
      timeout,
    ])) as Record<string, unknown>;
    return { hello, events, request, close: () => socket.close() };
  } catch (error) {
    socket.close();
    throw error;
  } finally {
    clearTimeout(handshakeTimer);
  }
}
