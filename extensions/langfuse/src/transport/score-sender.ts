/**
 * Scores to Langfuse in batches: one `POST <baseUrl>/api/public/ingestion` per pipeline batch, each
 * score a `score-create` event, as the official SDK (`@langfuse/client`) sends them. Langfuse v4
 * still accepts `score-create` (and `sdk-log`) there, and v2/v3 always did. The answer is 207 with
 * a result per event: a score refused as invalid (a 4xx of its own) is handed back to the pipeline
 * alone (dead-lettered, re-sendable) while the rest count as delivered; a server error on any event
 * sends the batch again. Score ids (`body.id`) are stable, so a re-sent batch upserts rather than
 * duplicates; event ids are fresh per request, as the endpoint wants them unique per request.
 */
import { randomUUID } from "node:crypto";
import {
  describeError,
  type PackLogger,
  readBoundedBody,
  type SendBatch,
  type SendResult,
  toExcerpt,
  toHttpSendResult,
  toNetworkSendResult,
} from "@clawscope/kit";
import type { ScoreBody } from "../mapping/to-scores.js";
import type { AuthGate } from "./auth-failure.js";
import { toLangfuseHeaders } from "./trace-sender.js";

/** Options of {@link createScoreSender}. */
export interface ScoreSenderOptions {
  baseUrl: string;
  publicKey: string;
  secretKey: string;
  authGate: AuthGate;
  timeoutMs: number;
  userAgent: string;
  logger?: PackLogger;
  /** Test seam. */
  fetchImpl?: typeof fetch;
  /** Test seam: event ids (default random UUIDs). */
  newEventId?: () => string;
  /** Test seam: the event timestamp (default now). */
  now?: () => number;
}

/** Counters of the score sender. */
export interface ScoreSenderStats {
  requests: number;
  accepted: number;
  /** Scores Langfuse refused as invalid (4xx other than auth): dead-lettered by the pipeline, not retried. */
  invalidDropped: number;
  lastInvalid?: string;
}

/** The pipeline's send function and its counters. */
export interface ScoreSender {
  send: SendBatch<ScoreBody>;
  readonly endpoint: string;
  stats(): ScoreSenderStats;
}

/** The path of Langfuse's batch ingestion endpoint under the base URL. */
export const LANGFUSE_INGESTION_PATH = "/api/public/ingestion";
/** Langfuse's limit on one ingestion request ("3.5 MB in total"); batches are cut well below it. */
export const LANGFUSE_INGESTION_MAX_BYTES = 3_500_000;
/** Most of an answer read from a response: a 207 names every event of a batch. */
const MAX_ANSWER_BYTES = 1024 * 1024;

interface IngestionResult {
  id: string;
  status: number;
  message?: string;
}

/** Creates the score sender. */
export function createScoreSender(options: ScoreSenderOptions): ScoreSender {
  const endpoint = `${options.baseUrl}${LANGFUSE_INGESTION_PATH}`;
  const fetchImpl = options.fetchImpl ?? fetch;
  const newEventId = options.newEventId ?? randomUUID;
  const now = options.now ?? Date.now;
  const headers = {
    ...toLangfuseHeaders(options.publicKey, options.secretKey),
    "content-type": "application/json",
    "user-agent": options.userAgent,
  };
  const stats: ScoreSenderStats = { requests: 0, accepted: 0, invalidDropped: 0 };

  const post = async (
    items: { itemId: string; score: ScoreBody }[],
    signal: AbortSignal,
  ): Promise<SendResult> => {
    const timestamp = new Date(now()).toISOString();
    // event id -> the pipeline item it carries
    const byEvent = new Map<string, string>();
    const batch = items.map(({ itemId, score }) => {
      const id = newEventId();
      byEvent.set(id, itemId);
      return { id, type: "score-create", timestamp, body: score };
    });
    const timeout = AbortSignal.timeout(options.timeoutMs);
    stats.requests += 1;
    let response: Response;
    try {
      response = await fetchImpl(endpoint, {
        method: "POST",
        headers,
        body: JSON.stringify({ batch }),
        signal: signal instanceof AbortSignal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (error) {
      const why = timeout.aborted ? `timed out after ${options.timeoutMs} ms` : describeError(error);
      return toNetworkSendResult("scores", why);
    }
    const answer = Buffer.from(await readBoundedBody(response, MAX_ANSWER_BYTES)).toString("utf8");
    const result = toHttpSendResult("scores", response.status, response.headers, answer);
    if (result.kind === "auth") return options.authGate.refused(response.status, answer);
    if (result.kind !== "ok") return result;
    options.authGate.accepted();
    return readEventResults(answer, byEvent, items.length);
  };

  /** The 207 (or 200) answer: per-event errors become rejections, a server-side one a retry. */
  const readEventResults = (answer: string, byEvent: Map<string, string>, count: number): SendResult => {
    let parsed: { successes?: unknown; errors?: unknown };
    try {
      parsed = JSON.parse(answer) as typeof parsed;
    } catch {
      // an answer we cannot read does not say what landed: send again (score ids make it an upsert)
      return {
        kind: "retry",
        reason: `scores: unreadable ingestion answer (${toExcerpt(answer) || "empty"})`,
      };
    }
    const errors = Array.isArray(parsed?.errors) ? (parsed.errors as Partial<IngestionResult>[]) : [];
    const rejected: { id: string; reason: string }[] = [];
    for (const error of errors) {
      const itemId = typeof error?.id === "string" ? byEvent.get(error.id) : undefined;
      const status = typeof error?.status === "number" ? error.status : 500;
      const reason = `scores: event refused with ${status}${typeof error?.message === "string" ? ` (${toExcerpt(error.message)})` : ""}`;
      // a server-side failure of one event, or one we cannot place: the whole batch again
      if (itemId === undefined || status >= 500 || status === 429) return { kind: "retry", reason };
      rejected.push({ id: itemId, reason });
    }
    stats.accepted += count - rejected.length;
    if (rejected.length === 0) return { kind: "ok" };
    stats.invalidDropped += rejected.length;
    stats.lastInvalid = rejected[0]?.reason;
    return { kind: "ok", rejected };
  };

  return {
    endpoint,
    async send(items, signal) {
      const waiting = options.authGate.waiting();
      if (waiting) return waiting;
      const scores: { itemId: string; score: ScoreBody }[] = [];
      for (const item of Array.isArray(items) ? items : []) {
        const score = item?.payload;
        if (score && typeof score === "object" && typeof score.name === "string")
          scores.push({ itemId: item.id, score });
      }
      if (scores.length === 0) return { kind: "ok" };
      return post(scores, signal).catch(
        (error: unknown): SendResult => toNetworkSendResult("scores", describeError(error)),
      );
    },
    stats: () => ({ ...stats }),
  };
}
