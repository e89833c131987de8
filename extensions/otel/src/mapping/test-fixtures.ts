/**
 * Test support (imported by `*.test.ts` only): the shared turn fixtures of @clawscope/testing and
 * an id hash with a fixed key.
 */
import { createIdHasher } from "@clawscope/kit";

export { assembleCapturedTurns, capturedErrorTurn, capturedToolTurn, makeTurn } from "@clawscope/testing";

const hasher = createIdHasher({ key: "clawscope-otel-test-key" });

/** The start context's `hashId`, with a fixed test key. */
export function hashId(id: string | undefined): string | undefined {
  return id === undefined || id === "" ? undefined : hasher.hash(id);
}
