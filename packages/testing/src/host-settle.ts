import { waitForDiagnosticEventsDrained } from "openclaw/plugin-sdk/diagnostic-runtime";

/** Event-loop turns to wait: clawscope drains its input queue in slices, one per `setImmediate`. */
const INPUT_DRAIN_TURNS = 20;

/**
 * Waits until events emitted on the host bus (and hooks fired) have been handled by every clawscope
 * runtime in the process: the host dispatches asynchronously, and each runtime processes its input
 * on later turns of the event loop, never inside the host's emit.
 */
export async function waitForHostInputHandled(): Promise<void> {
  await waitForDiagnosticEventsDrained();
  for (let turn = 0; turn < INPUT_DRAIN_TURNS; turn += 1)
    await new Promise((resolve) => setImmediate(resolve));
}
