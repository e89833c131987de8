/**
 * What a 401 or 403 from Langfuse means, said once. Traces and scores use the same keys, so when one
 * pipeline learns they are refused it reports it (the pipeline's auth pause logs that one line and
 * keeps the data), and the other waits quietly instead of reporting it again.
 */
import { redactText, type SendResult } from "@clawscope/kit";
import { maskPublicKey } from "../config.js";

/** Options of {@link createAuthGate}. */
export interface AuthGateOptions {
  publicKey: string;
  secretKey: string;
  baseUrl: string;
  /** How long a report stands before a new refusal is reported again (default 5 minutes, the pipeline's auth pause). */
  windowMs?: number;
  now?: () => number;
}

/** Shared by the trace and score senders. */
export interface AuthGate {
  /** While a refusal reported by the other pipeline stands: the result to return instead of sending. */
  waiting(): SendResult | undefined;
  /** Turns a refused request into the pipeline's result: `auth` with the clear message, or a quiet wait. */
  refused(status: number, body: string): SendResult;
  /** A request went through: the keys work (again). */
  accepted(): void;
  /** The last clear message, for status. */
  lastMessage(): string | undefined;
}

const DEFAULT_WINDOW_MS = 300_000;

/** Creates the gate of one start (a config change restarts the extension with a fresh one). */
export function createAuthGate(options: AuthGateOptions): AuthGate {
  const windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
  const now = options.now ?? Date.now;
  let reportedAt: number | undefined;
  let message: string | undefined;
  const standing = () => reportedAt !== undefined && now() - reportedAt < windowMs;
  return {
    waiting() {
      if (!standing() || reportedAt === undefined) return undefined;
      return {
        kind: "retry",
        reason: "waiting for valid Langfuse keys (see the credentials error)",
        retryAfterMs: Math.max(1000, windowMs - (now() - reportedAt)),
      };
    },
    refused(status, body) {
      const text = describeAuthFailure({ ...options, status, body });
      if (standing()) {
        return {
          kind: "retry",
          reason: "waiting for valid Langfuse keys (see the credentials error)",
          retryAfterMs: windowMs,
        };
      }
      reportedAt = now();
      message = text;
      return { kind: "auth", reason: text };
    },
    accepted() {
      reportedAt = undefined;
    },
    lastMessage: () => message,
  };
}

/**
 * One line naming the key that is wrong. Langfuse names the public key in its answer when it does
 * not know it; any other 401 means the secret key does not belong to the public key (or the keys
 * belong to another Langfuse host). 403 means the keys are valid but may not do this. Only the
 * public key's last four characters are shown, the secret never; the answer is redacted too.
 */
export function describeAuthFailure(options: {
  status: number;
  body: string;
  publicKey: string;
  secretKey: string;
  baseUrl: string;
}): string {
  const publicKey = maskPublicKey(options.publicKey);
  const detail = toSafeDetail(options.body, options.publicKey, options.secretKey);
  const answer = `HTTP ${options.status}${detail ? `: "${detail}"` : ""}`;
  if (options.status === 403) {
    return `Langfuse at ${options.baseUrl} refused publicKey ${publicKey} (${answer}): the key is valid but has no access here (an organization key, or ingestion suspended for the project)`;
  }
  if (mentionsPublicKey(options.body, options.publicKey)) {
    return `Langfuse at ${options.baseUrl} does not know publicKey ${publicKey} (${answer}): check publicKey, and that baseUrl is the host of its project`;
  }
  return `Langfuse at ${options.baseUrl} rejected secretKey (${answer}): secretKey does not match publicKey ${publicKey}; check secretKey (or baseUrl, if the keys belong to another Langfuse host)`;
}

function mentionsPublicKey(body: string, publicKey: string): boolean {
  const text = typeof body === "string" ? body.toLowerCase() : "";
  if (/public[ _-]?key/.test(text)) return true;
  return publicKey.length > 0 && text.includes(publicKey.toLowerCase());
}

/** The answer's text in one short line, without the keys or anything that looks like a secret. */
function toSafeDetail(body: string, publicKey: string, secretKey: string): string {
  let text = typeof body === "string" ? body.slice(0, 2000) : "";
  try {
    const parsed = JSON.parse(text) as { message?: unknown; error?: unknown };
    const message = typeof parsed?.message === "string" ? parsed.message : parsed?.error;
    if (typeof message === "string") text = message;
  } catch {
    // not JSON: the text as it came
  }
  if (secretKey) text = text.split(secretKey).join("[secretKey]");
  if (publicKey) text = text.split(publicKey).join(maskPublicKey(publicKey));
  return redactText(text).replace(/\s+/g, " ").trim().slice(0, 160);
}
