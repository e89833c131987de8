/** Public types of the in-process Langfuse receiver (`createLangfuseReceiver`). */
import type { LangfuseCredentials } from "./langfuse-auth.js";
import type { LangfuseTraceView } from "./langfuse-observations.js";
import type { LangfuseValidationIssue } from "./langfuse-openapi-schema.js";
import type { LangfuseExportCheck } from "./langfuse-otlp-rules.js";
import type { OtlpSpan } from "./otlp-decoder.js";

/** Which Langfuse endpoint a request was for. */
export type LangfuseEndpoint = "traces" | "metrics" | "scores" | "ingestion" | "health" | "other";

/** How the receiver dealt with a request. */
export type LangfuseRequestOutcome =
  | "accepted"
  | "rejected"
  | "unauthorized"
  | "fault"
  | "not_found"
  | "method_not_allowed"
  | "receiver_error";

/** One request as the receiver answered it; the Authorization value is never kept. */
export interface LangfuseRequestRecord {
  method: string;
  path: string;
  endpoint: LangfuseEndpoint;
  status: number;
  outcome: LangfuseRequestOutcome;
  /** Lower-case names, `authorization` removed. */
  headers: Record<string, string>;
  /** The scheme of the Authorization header and the public key it named (not a secret). */
  authorization?: { scheme: string; publicKey?: string };
  /** Body size on the wire. */
  bodyBytes: number;
  /** Spans stored from this request (accepted trace exports). */
  spanCount?: number;
  /** Score id stored (accepted scores). */
  scoreId?: string;
  /** Ingestion: events in the batch, and scores among them stored. */
  eventCount?: number;
  scoreCount?: number;
  /** The error message answered, when not 2xx. */
  message?: string;
  receivedAt: number;
}

/** A trace export answered 400. */
export interface LangfuseRejectedExport {
  receivedAt: number;
  message: string;
  /** `<field>:<reason>` keys (e.g. `traceId:all_zero`, `attributes:not_an_array`) or a parse failure. */
  reasons: string[];
  check?: LangfuseExportCheck;
}

/** A score body answered 400. */
export interface LangfuseRejectedScore {
  receivedAt: number;
  /** The parsed body (a placeholder string when it was over 64 KiB as JSON). */
  body: unknown;
  issues: LangfuseValidationIssue[];
}

/** A score as stored: the last body written for its id. */
export interface LangfuseStoredScore {
  id: string;
  body: Record<string, unknown>;
  /** How many accepted writes carried this id (1 + duplicates). */
  writes: number;
  firstReceivedAt: number;
  lastReceivedAt: number;
}

/** Options for `createLangfuseReceiver`. */
export interface LangfuseReceiverOptions {
  /** Default `pk-lf-test`. */
  publicKey?: string;
  /** Default `sk-lf-test`. */
  secretKey?: string;
  /** Further key pairs the project accepts. */
  extraCredentials?: LangfuseCredentials[];
  /** Port to listen on (default: a free one, kept across `down()`/`up()`). */
  port?: number;
  /** Folder with the Langfuse contract files (default: `../shared/reference/langfuse` beside the repo). */
  referenceDir?: string;
  /** Apply the score rules the spec states in prose, beyond its schema (default true). */
  documentedScoreRules?: boolean;
  /** Caps (defaults: 100 000 spans, 10 000 scores, 10 000 request records, 1 000 rejections each). */
  maxSpans?: number;
  maxScores?: number;
  maxRequestRecords?: number;
  maxRejections?: number;
}

/** Options of a scripted fault. */
export interface LangfuseFaultOptions {
  /** Only requests to this endpoint (default: any). */
  endpoint?: LangfuseEndpoint;
}

/** A running Langfuse receiver. */
export interface LangfuseReceiver {
  readonly port: number;
  /** `http://127.0.0.1:<port>`: the `baseUrl` a client is configured with. */
  readonly url: string;
  readonly isUp: boolean;
  /** The key pair the receiver accepts first (as set by the options or `setCredentials`). */
  readonly credentials: LangfuseCredentials;
  /** `Basic base64(publicKey:secretKey)` for {@link credentials}. */
  readonly authorizationHeader: string;
  /** Accepted spans, normalised, in arrival order. */
  readonly spans: readonly OtlpSpan[];
  /** Stored scores, by first arrival. */
  readonly scores: readonly LangfuseStoredScore[];
  /** Accepted score writes whose id was already stored. */
  readonly duplicateScoreWrites: number;
  readonly rejectedExports: readonly LangfuseRejectedExport[];
  readonly rejectedScores: readonly LangfuseRejectedScore[];
  readonly requests: readonly LangfuseRequestRecord[];
  /** What the caps dropped. */
  readonly dropped: { spans: number; scores: number; requests: number; rejections: number };
  /** The stored spans through Langfuse's attribute mapping. */
  observations(): LangfuseTraceView[];
  /** The stored score with this id. */
  score(id: string): LangfuseStoredScore | undefined;
  /** Resolves with the stored spans once there are at least `count`. */
  waitForSpans(count: number, timeoutMs?: number): Promise<readonly OtlpSpan[]>;
  /** Resolves with the stored scores once there are at least `count`. */
  waitForScores(count: number, timeoutMs?: number): Promise<readonly LangfuseStoredScore[]>;
  /** Answers `status` (default 500) to the next `times` matching requests, before auth. */
  failNext(times: number, options?: LangfuseFaultOptions & { status?: number; body?: string }): void;
  /** Answers 429 with `Retry-After: <retryAfterSeconds>` to the next `times` matching requests. */
  throttleNext(times: number, retryAfterSeconds: number, options?: LangfuseFaultOptions): void;
  clearFaults(): void;
  /** Replaces the accepted key pairs (the first one becomes {@link credentials}). */
  setCredentials(credentials: LangfuseCredentials | readonly LangfuseCredentials[]): void;
  /** Delays every answer by `ms`; `Infinity` never answers. */
  setDelay(ms: number): void;
  /** Forgets spans, scores, rejections, request records and drop counters (faults stay). */
  clear(): void;
  /** Closes the socket and every connection: new connections are refused. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}
