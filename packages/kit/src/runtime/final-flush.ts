/**
 * An extension's last deliveries at stop (a final interval, spans still being masked) share the
 * kit's stop bound with the pipelines' own final delivery: they get a fixed part of it, and what
 * is still pending then stays in the spool for the next start.
 */
import { STOP_TIMEOUT_MS } from "./running-runtime.js";

/** The part of the kit's stop bound ({@link STOP_TIMEOUT_MS}) an extension's final flushes may use. */
export const FINAL_FLUSH_BUDGET_MS = Math.floor(STOP_TIMEOUT_MS * 0.4);

/**
 * Waits for every flush to settle, or for the budget to run out, whichever comes first. Never
 * rejects (a failed flush leaves its data spooled); the timer never holds the process.
 */
export async function flushWithinBudget(
  flushes: ReadonlyArray<Promise<unknown> | undefined>,
  budgetMs: number = FINAL_FLUSH_BUDGET_MS,
): Promise<"flushed" | "budget_spent"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const budget = new Promise<"budget_spent">((resolve) => {
    timer = setTimeout(() => resolve("budget_spent"), budgetMs);
    timer.unref();
  });
  const settled = Promise.allSettled(flushes.filter((flush) => flush !== undefined)).then(
    () => "flushed" as const,
  );
  try {
    return await Promise.race([settled, budget]);
  } finally {
    clearTimeout(timer);
  }
}
