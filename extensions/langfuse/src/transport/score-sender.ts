/**
 * Scores to Langfuse: one `POST <baseUrl>/api/public/scores` per score (the endpoint takes one at a
 * time), in batch order. Score ids are stable, so re-sending a batch after a partial failure updates
 * the scores that already landed instead of duplicating them. A score Langfuse refuses as invalid
 * is handed back to the pipeline on its own (it keeps it in the dead-letter spool, re-sendable): it
 * must not hold the scores behind it back for good.
 */
import {
  classifyHttpResponse,
  type PackLogger,
  readBoundedBody,
  type SendBatch,
  type SendResult,
  toLogText,
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

/** The path of Langfuse's score endpoint under the base URL. */
export const LANGFUSE_SCORES_PATH = "/api/public/scores";
/** Most of an answer read from a response. */
const MAX_ANSWER_BYTES = 8192;

/** Creates the score sender. */
export function createScoreSender(options: ScoreSenderOptions): ScoreSender {
  const endpoint = `${options.baseUrl}${LANGFUSE_SCORES_PATH}`;
  const fetchImpl = options.fetchImpl ?? fetch;
  const headers = {
    ...toLangfuseHeaders(options.publicKey, options.secretKey),
    "content-type": "application/json",
    "user-agent": options.userAgent,
  };
  const stats: ScoreSenderStats = { requests: 0, accepted: 0, invalidDropped: 0 };

  const post = async (score: ScoreBody, signal: AbortSignal): Promise<SendResult> => {
    const timeout = AbortSignal.timeout(options.timeoutMs);
    stats.requests += 1;
    let response: Response;
    try {
      response = await fetchImpl(endpoint, {
        method: "POST",
        headers,
        body: JSON.stringify(score),
        signal: signal instanceof AbortSignal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (error) {
      const why = timeout.aborted ? `timed out after ${options.timeoutMs} ms` : describeNetworkError(error);
      return { kind: "retry", reason: `scores: ${why}` };
    }
    const answer = Buffer.from(await readBoundedBody(response, MAX_ANSWER_BYTES)).toString("utf8");
    const result = classifyHttpResponse(response.status, response.headers);
    if (result.kind === "ok") {
      stats.accepted += 1;
      return result;
    }
    if (result.kind === "auth") return options.authGate.refused(response.status, answer);
    return { ...result, reason: `scores: ${result.reason}${answer ? ` (${toOneLine(answer)})` : ""}` };
  };

  return {
    endpoint,
    async send(items, signal) {
      const waiting = options.authGate.waiting();
      if (waiting) return waiting;
      const rejected: Array<{ id: string; reason: string }> = [];
      for (const item of Array.isArray(items) ? items : []) {
        const score = item?.payload;
        if (!score || typeof score !== "object" || typeof score.name !== "string") continue;
        const result = await post(score, signal).catch(
          (error: unknown): SendResult => ({
            kind: "retry",
            reason: `scores: ${describeNetworkError(error)}`,
          }),
        );
        if (result.kind === "ok") {
          options.authGate.accepted();
          continue;
        }
        if (result.kind === "reject" || result.kind === "too-large") {
          stats.invalidDropped += 1;
          stats.lastInvalid = result.reason;
          rejected.push({ id: item.id, reason: result.reason });
          continue;
        }
        // retry or auth: the whole batch again later (ids are stable, so nothing doubles)
        return result;
      }
      return rejected.length > 0 ? { kind: "ok", rejected } : { kind: "ok" };
    },
    stats: () => ({ ...stats }),
  };
}

function toOneLine(text: string): string {
  return toLogText(text.trim(), 200);
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return toOneLine(String(error));
  if (error.name === "AbortError") return "aborted";
  const cause = (error as Error & { cause?: unknown }).cause;
  const code = typeof cause === "object" && cause !== null ? (cause as { code?: unknown }).code : undefined;
  return typeof code === "string" ? `network error ${code}` : toOneLine(error.message);
}
