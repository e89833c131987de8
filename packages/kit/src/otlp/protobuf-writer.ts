/**
 * OTLP/HTTP protobuf request bodies for spans and log records in one pass, with strings and ids
 * written by Node's native UTF-8 and hex encoders. It reads the same `ReadableSpan` and
 * `ReadableLogRecord` shapes as the official serializers of `@opentelemetry/otlp-transformer` and
 * writes the same bytes, field for field (`protobuf-writer.test.ts` compares the two on varied
 * records); the official ones measure every message in a first pass and copy strings a character at
 * a time, which made encoding the largest single cost of the pack per turn.
 *
 * Field numbers are those of `opentelemetry/proto` (trace/v1, logs/v1, common/v1, resource/v1).
 */
import type { HrTime, SpanContext } from "@opentelemetry/api";
import type { InstrumentationScope } from "@opentelemetry/core";
import type { Resource } from "@opentelemetry/resources";
import type { ReadableLogRecord } from "@opentelemetry/sdk-logs";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;
/** Span flags: the W3C trace flags plus "the parent's remoteness is known" (and "remote"). */
const FLAG_HAS_IS_REMOTE = 0x100;
const FLAG_IS_REMOTE = 0x200;
const TWO_POW_32 = 4_294_967_296;
const INT64_MIN = -(2 ** 63);
const INT64_MAX = 2 ** 63;
/** Strings shorter than this are checked and copied in JS; longer ones go to the native encoder. */
const SHORT_STRING = 32;

/** A growable buffer written front to back; a nested message reserves one length byte and grows it on close. */
class Writer {
  private buffer: Buffer;
  private view: DataView;
  pos = 0;

  constructor(size: number) {
    this.buffer = Buffer.allocUnsafe(size);
    this.view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
  }

  private ensure(bytes: number): void {
    const needed = this.pos + bytes;
    if (needed <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < needed) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buffer.copy(grown, 0, 0, this.pos);
    this.buffer = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
  }

  tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  /** An unsigned varint below 2^32. */
  varint(value: number): void {
    this.ensure(5);
    let rest = value >>> 0;
    while (rest > 127) {
      this.buffer[this.pos++] = (rest & 127) | 128;
      rest >>>= 7;
    }
    this.buffer[this.pos++] = rest;
  }

  /** A 64-bit integer as a varint (negative ones in two's complement, ten bytes). */
  int64(value: number): void {
    if (value >= 0 && value < TWO_POW_32) {
      this.varint(value);
      return;
    }
    let low: number;
    let high: number;
    if (value >= 0) {
      low = value >>> 0;
      high = Math.floor(value / TWO_POW_32) >>> 0;
    } else {
      const magnitude = -value;
      low = ~(magnitude >>> 0) >>> 0;
      high = ~(Math.floor(magnitude / TWO_POW_32) >>> 0) >>> 0;
      low = (low + 1) >>> 0;
      if (low === 0) high = (high + 1) >>> 0;
    }
    this.ensure(10);
    while (high > 0 || low > 127) {
      this.buffer[this.pos++] = (low & 127) | 128;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    this.buffer[this.pos++] = low & 127;
  }

  fixed32(value: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, value >>> 0, true);
    this.pos += 4;
  }

  /** `[seconds, nanoseconds]` as unsigned nanoseconds since the epoch (fixed64). */
  time(time: HrTime): void {
    const seconds = time[0];
    const nanos = time[1];
    // seconds * 1e9 + nanos exceeds 2^53: sum it in 32-bit words from 16-bit halves of the seconds
    const fromLow = (seconds & 0xffff) * 1e9;
    const fromHigh = Math.floor(seconds / 65_536) * 1e9;
    const lowWord = (fromLow >>> 0) + (((fromHigh & 0xffff) * 65_536) >>> 0) + nanos;
    const highWord =
      Math.floor(fromLow / TWO_POW_32) + Math.floor(fromHigh / 65_536) + Math.floor(lowWord / TWO_POW_32);
    this.ensure(8);
    this.view.setUint32(this.pos, lowWord >>> 0, true);
    this.view.setUint32(this.pos + 4, highWord >>> 0, true);
    this.pos += 8;
  }

  double(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  string(text: string): void {
    const length = text.length;
    if (length < SHORT_STRING) {
      let ascii = true;
      for (let index = 0; index < length; index += 1) {
        if (text.charCodeAt(index) > 127) {
          ascii = false;
          break;
        }
      }
      if (ascii) {
        this.varint(length);
        this.ensure(length);
        for (let index = 0; index < length; index += 1) this.buffer[this.pos++] = text.charCodeAt(index);
        return;
      }
    }
    const bytes = Buffer.byteLength(text, "utf8");
    this.varint(bytes);
    this.ensure(bytes);
    this.pos += this.buffer.write(text, this.pos, bytes, "utf8");
  }

  /** A hex id as bytes (the caller checked it is hex of an even length). */
  hexBytes(hex: string): void {
    const bytes = hex.length >>> 1;
    this.varint(bytes);
    this.ensure(bytes);
    this.pos += this.buffer.write(hex, this.pos, bytes, "hex");
  }

  bytes(value: Uint8Array): void {
    this.varint(value.length);
    this.ensure(value.length);
    this.buffer.set(value, this.pos);
    this.pos += value.length;
  }

  /** Opens a nested message: one byte is kept for its length. */
  open(): number {
    this.ensure(1);
    this.pos += 1;
    return this.pos;
  }

  /** Closes the message opened at `start`, moving its bytes if its length needs more than one byte. */
  close(start: number): void {
    const length = this.pos - start;
    if (length < 128) {
      this.buffer[start - 1] = length;
      return;
    }
    let size = 1;
    for (let rest = length >>> 7; rest > 0; rest >>>= 7) size += 1;
    this.ensure(size - 1);
    this.buffer.copy(this.buffer, start + size - 1, start, this.pos);
    this.pos += size - 1;
    let at = start - 1;
    let rest = length;
    while (rest > 127) {
      this.buffer[at++] = (rest & 127) | 128;
      rest >>>= 7;
    }
    this.buffer[at] = rest;
  }

  /** Starts a new message in the same buffer. */
  reset(): void {
    this.pos = 0;
  }

  /** The written bytes, copied out: the buffer is reused by the next message. */
  finish(): Uint8Array {
    const bytes = new Uint8Array(this.pos);
    bytes.set(this.buffer.subarray(0, this.pos));
    return bytes;
  }

  get capacity(): number {
    return this.buffer.length;
  }
}

function writeAnyValue(writer: Writer, value: unknown): void {
  const type = typeof value;
  if (type === "string") {
    writer.tag(1, LENGTH_DELIMITED);
    writer.string(value as string);
  } else if (type === "boolean") {
    writer.tag(2, VARINT);
    writer.varint(value ? 1 : 0);
  } else if (type === "number") {
    const number = value as number;
    if (Number.isInteger(number) && number >= INT64_MIN && number < INT64_MAX) {
      writer.tag(3, VARINT);
      writer.int64(number);
    } else {
      writer.tag(4, FIXED64);
      writer.double(number);
    }
  } else if (value instanceof Uint8Array) {
    writer.tag(7, LENGTH_DELIMITED);
    writer.bytes(value);
  } else if (Array.isArray(value)) {
    writer.tag(5, LENGTH_DELIMITED);
    const array = writer.open();
    for (const item of value) {
      writer.tag(1, LENGTH_DELIMITED);
      const start = writer.open();
      writeAnyValue(writer, item);
      writer.close(start);
    }
    writer.close(array);
  } else if (type === "object" && value !== null) {
    writer.tag(6, LENGTH_DELIMITED);
    const list = writer.open();
    writeKeyValues(writer, value as Record<string, unknown>, 1);
    writer.close(list);
  }
}

/** Each own key of `attributes` as a `KeyValue` in field `field`. */
function writeKeyValues(writer: Writer, attributes: Record<string, unknown>, field: number): void {
  for (const key in attributes) {
    if (!Object.hasOwn(attributes, key)) continue;
    writer.tag(field, LENGTH_DELIMITED);
    const pair = writer.open();
    writer.tag(1, LENGTH_DELIMITED);
    writer.string(key);
    writer.tag(2, LENGTH_DELIMITED);
    const value = writer.open();
    writeAnyValue(writer, attributes[key]);
    writer.close(value);
    writer.close(pair);
  }
}

function writeResource(writer: Writer, resource: Resource): void {
  writer.tag(1, LENGTH_DELIMITED);
  const start = writer.open();
  writeKeyValues(writer, resource.attributes as Record<string, unknown>, 1);
  // dropped_attributes_count, always written
  writer.tag(2, VARINT);
  writer.varint(0);
  writer.close(start);
}

function writeScope(writer: Writer, scope: InstrumentationScope): void {
  writer.tag(1, LENGTH_DELIMITED);
  const start = writer.open();
  writer.tag(1, LENGTH_DELIMITED);
  writer.string(scope.name);
  if (scope.version) {
    writer.tag(2, LENGTH_DELIMITED);
    writer.string(scope.version);
  }
  writer.close(start);
}

function spanFlags(context: SpanContext, isRemote: boolean | undefined): number {
  return (context.traceFlags & 0xff) | FLAG_HAS_IS_REMOTE | (isRemote ? FLAG_IS_REMOTE : 0);
}

function writeSpan(writer: Writer, span: ReadableSpan): void {
  const start = writer.open();
  const context = span.spanContext();
  writer.tag(1, LENGTH_DELIMITED);
  writer.hexBytes(context.traceId);
  writer.tag(2, LENGTH_DELIMITED);
  writer.hexBytes(context.spanId);
  const traceState = context.traceState?.serialize();
  if (traceState) {
    writer.tag(3, LENGTH_DELIMITED);
    writer.string(traceState);
  }
  const parent = span.parentSpanContext;
  if (parent?.spanId) {
    writer.tag(4, LENGTH_DELIMITED);
    writer.hexBytes(parent.spanId);
  }
  writer.tag(5, LENGTH_DELIMITED);
  writer.string(span.name);
  // the API's kinds start at INTERNAL = 0; OTLP's at UNSPECIFIED = 0
  writer.tag(6, VARINT);
  writer.varint(span.kind + 1);
  writer.tag(7, FIXED64);
  writer.time(span.startTime);
  writer.tag(8, FIXED64);
  writer.time(span.endTime);
  writeKeyValues(writer, span.attributes as Record<string, unknown>, 9);
  writer.tag(10, VARINT);
  writer.varint(span.droppedAttributesCount);
  for (const event of span.events) {
    writer.tag(11, LENGTH_DELIMITED);
    const eventStart = writer.open();
    writer.tag(1, FIXED64);
    writer.time(event.time);
    writer.tag(2, LENGTH_DELIMITED);
    writer.string(event.name);
    if (event.attributes) writeKeyValues(writer, event.attributes as Record<string, unknown>, 3);
    writer.tag(4, VARINT);
    writer.varint(event.droppedAttributesCount ?? 0);
    writer.close(eventStart);
  }
  writer.tag(12, VARINT);
  writer.varint(span.droppedEventsCount);
  for (const link of span.links) {
    writer.tag(13, LENGTH_DELIMITED);
    const linkStart = writer.open();
    writer.tag(1, LENGTH_DELIMITED);
    writer.hexBytes(link.context.traceId);
    writer.tag(2, LENGTH_DELIMITED);
    writer.hexBytes(link.context.spanId);
    const linkState = link.context.traceState?.serialize();
    if (linkState) {
      writer.tag(3, LENGTH_DELIMITED);
      writer.string(linkState);
    }
    if (link.attributes) writeKeyValues(writer, link.attributes as Record<string, unknown>, 4);
    writer.tag(5, VARINT);
    writer.varint(link.droppedAttributesCount ?? 0);
    writer.tag(6, FIXED32);
    writer.fixed32(spanFlags(link.context, link.context.isRemote));
    writer.close(linkStart);
  }
  writer.tag(14, VARINT);
  writer.varint(span.droppedLinksCount);
  writer.tag(15, LENGTH_DELIMITED);
  const status = writer.open();
  if (span.status.message) {
    writer.tag(2, LENGTH_DELIMITED);
    writer.string(span.status.message);
  }
  writer.tag(3, VARINT);
  writer.varint(span.status.code);
  writer.close(status);
  writer.tag(16, FIXED32);
  writer.fixed32(spanFlags(context, parent?.isRemote));
  writer.close(start);
}

function writeLogRecord(writer: Writer, log: ReadableLogRecord): void {
  const start = writer.open();
  writer.tag(1, FIXED64);
  writer.time(log.hrTime);
  if (log.severityNumber !== undefined && log.severityNumber !== 0) {
    writer.tag(2, VARINT);
    writer.varint(log.severityNumber);
  }
  if (log.severityText) {
    writer.tag(3, LENGTH_DELIMITED);
    writer.string(log.severityText);
  }
  if (log.body !== undefined) {
    writer.tag(5, LENGTH_DELIMITED);
    const body = writer.open();
    writeAnyValue(writer, log.body);
    writer.close(body);
  }
  writeKeyValues(writer, log.attributes as Record<string, unknown>, 6);
  writer.tag(7, VARINT);
  writer.varint(log.droppedAttributesCount);
  const context = log.spanContext;
  if (context?.traceFlags) {
    writer.tag(8, FIXED32);
    writer.fixed32(context.traceFlags);
  }
  if (context?.traceId) {
    writer.tag(9, LENGTH_DELIMITED);
    writer.hexBytes(context.traceId);
  }
  if (context?.spanId) {
    writer.tag(10, LENGTH_DELIMITED);
    writer.hexBytes(context.spanId);
  }
  writer.tag(11, FIXED64);
  writer.time(log.hrTimeObserved);
  writer.close(start);
}

/** Groups items by resource, then by scope, by identity and in first-seen order (as the official serializers do). */
function groupByResourceAndScope<
  T extends { resource: Resource; instrumentationScope: InstrumentationScope },
>(items: readonly T[]): Map<Resource, Map<InstrumentationScope, T[]>> {
  const groups = new Map<Resource, Map<InstrumentationScope, T[]>>();
  for (const item of items) {
    let scopes = groups.get(item.resource);
    if (!scopes) {
      scopes = new Map();
      groups.set(item.resource, scopes);
    }
    let list = scopes.get(item.instrumentationScope);
    if (!list) {
      list = [];
      scopes.set(item.instrumentationScope, list);
    }
    list.push(item);
  }
  return groups;
}

/** Room for a typical batch without growing; a bigger one doubles as it goes. */
const INITIAL_BYTES = 64 * 1024;
/** A buffer grown past this for one big request is not kept for the next. */
const KEPT_BYTES = 1024 * 1024;
let shared: Writer | undefined;

/** Writes one request with the shared writer (serialization is synchronous: never two at once). */
function serialize(write: (writer: Writer) => void): Uint8Array {
  const writer = shared ?? new Writer(INITIAL_BYTES);
  shared = undefined;
  writer.reset();
  try {
    write(writer);
    return writer.finish();
  } finally {
    if (writer.capacity <= KEPT_BYTES) shared = writer;
  }
}

/** An `ExportTraceServiceRequest` with the given spans. */
export function serializeSpansRequest(spans: readonly ReadableSpan[]): Uint8Array {
  return serialize((writer) => writeRequest(writer, spans, writeSpan));
}

/** An `ExportLogsServiceRequest` with the given log records. */
export function serializeLogsRequest(logs: readonly ReadableLogRecord[]): Uint8Array {
  return serialize((writer) => writeRequest(writer, logs, writeLogRecord));
}

/**
 * The request's repeated `Resource<Signal>` (field 1): each holds its resource (1), its
 * `Scope<Signal>` groups (2) — a scope (1) and the items (2) — and the schema URLs (3).
 */
function writeRequest<T extends { resource: Resource; instrumentationScope: InstrumentationScope }>(
  writer: Writer,
  items: readonly T[],
  writeItem: (writer: Writer, item: T) => void,
): void {
  for (const [resource, scopes] of groupByResourceAndScope(items)) {
    writer.tag(1, LENGTH_DELIMITED);
    const resourceGroup = writer.open();
    writeResource(writer, resource);
    for (const [scope, list] of scopes) {
      writer.tag(2, LENGTH_DELIMITED);
      const scopeGroup = writer.open();
      writeScope(writer, scope);
      for (const item of list) {
        writer.tag(2, LENGTH_DELIMITED);
        writeItem(writer, item);
      }
      writeSchemaUrl(writer, scope.schemaUrl);
      writer.close(scopeGroup);
    }
    writeSchemaUrl(writer, resource.schemaUrl);
    writer.close(resourceGroup);
  }
}

/** A resource's or scope's schema URL, field 3 of the resource and scope messages, when there is one. */
function writeSchemaUrl(writer: Writer, schemaUrl: string | undefined): void {
  if (!schemaUrl) return;
  writer.tag(3, LENGTH_DELIMITED);
  writer.string(schemaUrl);
}
