/**
 * One diagnostic-bus subscription per gateway process, shared by every clawscope extension loaded in
 * it. The host clones each event once per listener, so N extensions with their own subscriptions
 * would cost N clones per event; the hub costs one and fans the same frozen event out.
 *
 * The hub lives on `globalThis` because the host registers each plugin several times in separate
 * module instances, and each extension bundles its own copy of this file. Its shape is therefore a
 * small, versioned protocol, not a class: any copy of the kit can attach to a hub another copy made.
 */
import type { HostEventType } from "../events/host-events.js";

/** The host's `onInternalDiagnosticEvent`, injected so tests and benchmarks can use the real bus or a fake. */
export type SubscribeToBus = (
  listener: (event: unknown, metadata: unknown) => void,
  filter?: { include?: readonly HostEventType[] },
) => () => void;

/** A consumer attached to the hub. `types` null means every event type. */
export interface HubListener {
  /** Who is listening (plugin id), for stats and error messages. */
  owner: string;
  types: readonly string[] | null;
  deliver: (event: unknown, metadata: unknown) => void;
}

/** What `attachToEventHub` returns. */
export interface HubAttachment {
  detach: () => void;
}

/** Counters for the shared subscription. */
export interface EventHubStats {
  listeners: number;
  /** How many times the hub (re)subscribed to the bus; one per process unless interests grew. */
  subscriptions: number;
  delivered: number;
  listenerErrors: number;
}

interface EventHubState {
  readonly protocol: 1;
  listeners: Set<HubListener>;
  unsubscribe: (() => void) | null;
  subscribedTypes: string[] | null;
  subscribe: SubscribeToBus;
  stats: EventHubStats;
  onListenerError: ((owner: string, error: unknown) => void) | null;
}

/** The `globalThis` key of the hub; shared by every copy of the kit in the process. */
export const EVENT_HUB_KEY = Symbol.for("clawscope.event-hub.v1");

type GlobalWithHub = typeof globalThis & { [EVENT_HUB_KEY]?: EventHubState };

function unionOfTypes(listeners: Set<HubListener>): string[] | null {
  const types = new Set<string>();
  for (const listener of listeners) {
    if (listener.types === null) return null;
    for (const type of listener.types) types.add(type);
  }
  return [...types].sort();
}

function sameTypes(left: string[] | null, right: string[] | null): boolean {
  if (left === null || right === null) return left === right;
  return left.length === right.length && left.every((type, index) => type === right[index]);
}

function fanOut(state: EventHubState, event: unknown, metadata: unknown): void {
  const type = typeof event === "object" && event !== null ? (event as { type?: unknown }).type : undefined;
  for (const listener of state.listeners) {
    if (listener.types !== null && (typeof type !== "string" || !listener.types.includes(type))) continue;
    try {
      state.stats.delivered += 1;
      listener.deliver(event, metadata);
    } catch (error) {
      // one extension's bug must not starve the others or reach the host
      state.stats.listenerErrors += 1;
      try {
        state.onListenerError?.(listener.owner, error);
      } catch {}
    }
  }
}

function resubscribe(state: EventHubState): void {
  const wanted = unionOfTypes(state.listeners);
  if (state.unsubscribe && sameTypes(wanted, state.subscribedTypes)) return;
  const previous = state.unsubscribe;
  // subscribe before unsubscribing: both happen in one synchronous block, so no event is missed or doubled
  state.unsubscribe = state.subscribe(
    (event, metadata) => fanOut(state, event, metadata),
    wanted ? { include: wanted as HostEventType[] } : undefined,
  );
  state.subscribedTypes = wanted;
  state.stats.subscriptions += 1;
  previous?.();
}

/**
 * Attaches a listener to the process-wide hub, creating the hub (and its one bus subscription) on
 * first use. The subscription is torn down when the last listener detaches. Throws what `subscribe`
 * throws, leaving the hub as it was.
 */
export function attachToEventHub(
  subscribe: SubscribeToBus,
  listener: HubListener,
  onListenerError?: (owner: string, error: unknown) => void,
): HubAttachment {
  const global = globalThis as GlobalWithHub;
  let state = global[EVENT_HUB_KEY];
  if (state?.protocol !== 1) {
    state = {
      protocol: 1,
      listeners: new Set(),
      unsubscribe: null,
      subscribedTypes: null,
      subscribe,
      stats: { listeners: 0, subscriptions: 0, delivered: 0, listenerErrors: 0 },
      onListenerError: onListenerError ?? null,
    };
    global[EVENT_HUB_KEY] = state;
  }
  if (onListenerError && !state.onListenerError) state.onListenerError = onListenerError;
  const hub = state;
  hub.listeners.add(listener);
  hub.stats.listeners = hub.listeners.size;
  try {
    resubscribe(hub);
  } catch (error) {
    // the bus refused: leave no listener behind that a later subscription would feed
    hub.listeners.delete(listener);
    hub.stats.listeners = hub.listeners.size;
    if (hub.listeners.size === 0 && !hub.unsubscribe && global[EVENT_HUB_KEY] === hub)
      delete global[EVENT_HUB_KEY];
    throw error;
  }
  let detached = false;
  return {
    detach() {
      if (detached) return;
      detached = true;
      hub.listeners.delete(listener);
      hub.stats.listeners = hub.listeners.size;
      if (hub.listeners.size === 0) {
        const unsubscribe = hub.unsubscribe;
        hub.unsubscribe = null;
        hub.subscribedTypes = null;
        if (global[EVENT_HUB_KEY] === hub) delete global[EVENT_HUB_KEY];
        try {
          unsubscribe?.();
        } catch {}
        return;
      }
      // interests may have shrunk: narrow the filter so the host clones fewer events
      try {
        resubscribe(hub);
      } catch {}
    },
  };
}

/** The hub's counters, or null when no extension is attached in this process. */
export function readEventHubStats(): EventHubStats | null {
  const state = (globalThis as GlobalWithHub)[EVENT_HUB_KEY];
  return state ? { ...state.stats } : null;
}
