/**
 * Issue 9, end to end on the real gateway with all three exporters at once, twice side by side
 * (`settleMs` 300 and the default): turns the host retries (429, 429 with retry-after, 503 then
 * 200, 503 until it gives up), a tool loop that ends in a 400, a fallback to another provider's
 * model, and models priced apart and not at all, driven concurrently; see
 * `harness/retried-turns.ts` for what is compared.
 */
import { describeRetriedTurns } from "./harness/retried-turns.js";

describeRetriedTurns("retried-turns");
