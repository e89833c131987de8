/**
 * `audit_logs`, shared by the stateful extensions: who or what did what, when, and how it went (a
 * consolidation run, a config load, a knowledge-base entry resolved). Written through a spooled
 * pipeline like every other record; details are bounded and redacted first.
 */
import { type PackStartContext, redactText } from "@clawscope/kit";
import type { Store } from "./store.js";
import { toStoreSend } from "./store-send.js";

/** One audit record. */
export type AuditRecord = {
  id: string;
  ts: number;
  gateway: string;
  actor: string;
  action: string;
  outcome: "ok" | "failed" | "skipped";
  detail: Record<string, string | number | boolean>;
};

/** Records actions; never throws (the pipeline spools while the store is down). */
export interface AuditTrail {
  record(
    actor: string,
    action: string,
    outcome: AuditRecord["outcome"],
    detail?: Record<string, string | number | boolean>,
  ): void;
}

/**
 * An audit trail writing to the store's `audit_logs` (which the extension declares) through a
 * pipeline named `pipelineName` (its spool folder and health name).
 */
export function createAuditTrail(
  context: Pick<PackStartContext<unknown>, "createPipeline">,
  store: Store,
  gateway: string,
  now: () => number,
  pipelineName = "audit",
): AuditTrail {
  const pipeline = context.createPipeline<AuditRecord>(pipelineName, {
    send: toStoreSend(store.collection<AuditRecord>("audit_logs")),
  });
  let sequence = 0;
  return {
    record(actor, action, outcome, detail = {}) {
      const ts = now();
      sequence += 1;
      const bounded = Object.fromEntries(
        Object.entries(detail).map(([key, value]) => [
          key,
          typeof value === "string" ? redactText(value).slice(0, 500) : value,
        ]),
      );
      const id = `${gateway}:${ts}:${process.pid}:${sequence}`;
      pipeline.enqueue(id, { id, ts, gateway, actor, action, outcome, detail: bounded });
    },
  };
}
