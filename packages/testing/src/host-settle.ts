import {
  emitTrustedDiagnosticEvent,
  waitForDiagnosticEventsDrained,
} from "openclaw/plugin-sdk/diagnostic-runtime";
import { type BuiltTurn, buildTurnEvents, type TurnSpec } from "./event-builders.js";

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

/** What {@link replayTurnSpec} needs of a fake host. */
export interface HookTarget {
  fireHook(name: string, event: unknown, context?: Record<string, unknown>): Promise<unknown>;
}

/**
 * Replays one built turn as the gateway would deliver it: its bus events on the real (trusted)
 * diagnostic bus, its hooks through the fake host, in order; resolves once the bus has drained.
 */
export async function replayTurnSpec(host: HookTarget, spec: TurnSpec): Promise<BuiltTurn> {
  const built = buildTurnEvents(spec);
  for (const input of built.inputs) {
    if (input.kind === "event") emitTrustedDiagnosticEvent(input.event as never);
    else await host.fireHook(input.name, input.event, input.context as Record<string, unknown>);
  }
  await waitForDiagnosticEventsDrained();
  return built;
}
