/**
 * `audit_logs`: who or what did what, when, and how it went — each consolidation (by the schedule,
 * at start, or through the API) and each config load (every start is one). Written through a
 * spooled pipeline like every other record; details are bounded and redacted first.
 */
import { type PackStartContext, redactText } from "@clawscope/kit";
import { type Store, toStoreSend } from "@clawscope/store";

export type AuditRecord = {
  id: string;
  ts: number;
  gateway: string;
  actor: string;
  action: string;
  outcome: "ok" | "failed" | "skipped";
  detail: Record<string, string | number | boolean>;
};

export interface AuditTrail {
  record(
    actor: string,
    action: string,
    outcome: AuditRecord["outcome"],
    detail?: Record<string, string | number | boolean>,
  ): void;
}

export function createAuditTrail(
  context: Pick<PackStartContext<unknown>, "createPipeline">,
  store: Store,
  gateway: string,
  now: () => number,
): AuditTrail {
  const pipeline = context.createPipeline<AuditRecord>("memory-audit", {
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
