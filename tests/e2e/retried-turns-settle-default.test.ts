/**
 * Issue 9, end to end on the real gateway with all three exporters at once and the default
 * `settleMs`: the same retried, failed and failed-over turns as `retried-turns-settle-300.test.ts`.
 */
import { describeRetriedTurns } from "./harness/retried-turns.js";

describeRetriedTurns("retried-turns-settle-default", undefined);
