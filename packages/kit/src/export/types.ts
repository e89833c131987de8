/**
 * Contract of the export pipeline every backend uses. The pipeline owns batching, retry, spooling
 * and accounting; a backend supplies only `send`, which turns one batch into one request.
 */

/** One unit of export. `id` is stable across retries and restarts so the backend can de-duplicate. */
export interface ExportItem<T = unknown> {
  id: string;
  payload: T;
  /** Epoch ms when first enqueued. */
  enqueuedAt: number;
}

/** What one send attempt came to; `classifyHttpResponse` derives it from an HTTP answer. */
export type SendResult =
  /** Delivered; `rejected` names items the backend refused one by one (they go to the dead-letter spool). */
  | { kind: "ok"; rejected?: ItemRejection[] }
  /** Transient: network error, 408, 429, 5xx. `retryAfterMs` from a `Retry-After` header. */
  | { kind: "retry"; reason: string; retryAfterMs?: number; failure?: SendFailure }
  /** 413: the pipeline splits the batch and sends the halves. */
  | { kind: "too-large"; reason: string; failure?: SendFailure }
  /** 401/403: credentials are wrong; the pipeline keeps the data and pauses until config changes. */
  | { kind: "auth"; reason: string; failure?: SendFailure }
  /** Any other 4xx: retrying cannot help; the batch goes to the dead-letter spool, not the void. */
  | { kind: "reject"; reason: string; failure?: SendFailure };

/**
 * What a failed send knows, as fields: `reason` is the log line, this is for code that acts on the
 * failure (an auth gate reading the status and the backend's words), so nobody parses `reason` back.
 */
export interface SendFailure {
  /** The HTTP status, when the backend answered. */
  status?: number;
  /** From `Retry-After`, capped. */
  retryAfterMs?: number;
  /** The start of the backend's answer: one line, bounded, URL credentials cut out. */
  bodyExcerpt?: string;
  /** Why no answer came: a network error, a timeout, an encoding failure. */
  cause?: string;
}

/** One item a backend refused on its own while accepting the rest (a per-item 400 in a 207 answer). */
export interface ItemRejection {
  id: string;
  reason: string;
}

/** The backend-specific half of the pipeline. Must not throw; a throw counts as `retry`. */
export type SendBatch<T> = (items: ExportItem<T>[], signal: AbortSignal) => Promise<SendResult>;

/** Counters the pipeline keeps; they feed health. */
export interface PipelineStats {
  enqueued: number;
  exported: number;
  /** Send attempts that failed and were scheduled again. */
  retried: number;
  /** Items written to the on-disk spool (outage, overflow, or shutdown). */
  spooled: number;
  /** Items currently waiting: in memory plus on disk. */
  pendingMemory: number;
  pendingSpool: number;
  spoolBytes: number;
  /** Items lost, by reason. Every loss is counted here and logged. */
  dropped: {
    queueFull: number;
    spoolFull: number;
    tooLarge: number;
    rejected: number;
    corrupt: number;
    /** Items still only in memory when `stop` finished (no spool configured, or the disk failed). */
    shutdown?: number;
  };
  /** Items moved to the dead-letter directory (rejected by the backend as invalid). */
  deadLettered: number;
  lastError?: { message: string; at: number };
  /** True while paused after a 401/403 (a single request probes again with backoff). */
  authPaused: boolean;
  /** Items waiting in the dead-letter directory, to be re-sent with `redeliverDeadLetters` or the CLI. */
  deadLetterPending?: number;
}
