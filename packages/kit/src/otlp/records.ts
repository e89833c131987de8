/**
 * What the pure mapping stage produces and the transport stage encodes: plain, JSON-serializable
 * OTLP-shaped records (so they can sit in the kit's on-disk spool), with ids that are stable for a
 * turn so a backend can de-duplicate what the at-least-once pipeline sends twice.
 */

/** A flat map value, sent as an OTLP `kvlistValue` (MLflow reads `mlflow.llm.cost` this way). */
export type AttributeMap = { readonly [key: string]: string | number | boolean };

/** An OTLP attribute value; arrays are homogeneous. */
export type AttributeValue = string | number | boolean | string[] | number[] | boolean[] | AttributeMap;

/** Attributes by key; keys follow the GenAI semantic conventions where one exists. */
export type Attributes = Record<string, AttributeValue>;

/** One span, ready to encode. Ids are lowercase hex (32 for traces, 16 for spans). */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: "internal" | "server" | "client" | "producer" | "consumer";
  startTimeMs: number;
  endTimeMs: number;
  attributes: Attributes;
  status: { code: "unset" | "ok" | "error"; message?: string };
  events?: Array<{ name: string; timeMs: number; attributes?: Attributes }>;
  links?: Array<{ traceId: string; spanId: string; attributes?: Attributes }>;
}

/** One log record, correlated with its trace when it belongs to a turn. */
export interface LogRecordData {
  timeMs: number;
  severity: "DEBUG" | "INFO" | "WARN" | "ERROR";
  body: string;
  attributes: Attributes;
  traceId?: string;
  spanId?: string;
}

/** Everything one turn exports; `id` is the turn's stable id (the pipeline de-duplicates on it). */
export interface TurnExport {
  id: string;
  spans: SpanRecord[];
  logs: LogRecordData[];
}
