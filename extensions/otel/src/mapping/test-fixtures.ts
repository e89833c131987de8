/**
 * Test support (imported by `*.test.ts` only): the shared turn fixtures of @clawscope/testing and
 * an id hash with a fixed key.
 */
import { createIdHasher, type OperationalEvent, readOperationalEvent } from "@clawscope/kit";

export { assembleCapturedTurns, capturedErrorTurn, capturedToolTurn, makeTurn } from "@clawscope/testing";

const hasher = createIdHasher({ key: "clawscope-otel-test-key" });

/** The start context's `hashId`, with a fixed test key. */
export function hashId(id: string | undefined): string | undefined {
  return id === undefined || id === "" ? undefined : hasher.hash(id);
}

/** A raw host event as the kit hands it to `onEvent`; `undefined` where the kit would count it malformed. */
export function readEvent(raw: unknown): OperationalEvent | undefined {
  return readOperationalEvent(raw);
}
