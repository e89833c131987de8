import {
  emitTrustedDiagnosticEvent,
  onInternalDiagnosticEvent,
  waitForDiagnosticEventsDrained,
} from "openclaw/plugin-sdk/diagnostic-runtime";
import { afterEach, describe, expect, it, vi } from "vitest";
import { attachToEventHub, EVENT_HUB_KEY, readEventHubStats, type SubscribeToBus } from "./event-hub.js";

function createFakeBus() {
  const subscriptions: Array<{
    include?: readonly string[];
    listener: (event: unknown, metadata: unknown) => void;
    active: boolean;
  }> = [];
  const subscribe: SubscribeToBus = (listener, filter) => {
    const entry = { include: filter?.include, listener, active: true };
    subscriptions.push(entry);
    return () => {
      entry.active = false;
    };
  };
  const emit = (event: { type: string }) => {
    for (const entry of subscriptions) {
      if (entry.active && (!entry.include || entry.include.includes(event.type)))
        entry.listener(event, { trusted: true });
    }
  };
  return { subscribe, subscriptions, emit, active: () => subscriptions.filter((entry) => entry.active) };
}

afterEach(() => {
  delete (globalThis as Record<symbol, unknown>)[EVENT_HUB_KEY];
});

describe("attachToEventHub", () => {
  it("keeps one bus subscription for five extensions and fans every event out to each", () => {
    const bus = createFakeBus();
    const received: string[] = [];
    const attachments = ["a", "b", "c", "d", "e"].map((owner) =>
      attachToEventHub(bus.subscribe, { owner, types: ["run.started"], deliver: () => received.push(owner) }),
    );
    expect(bus.active()).toHaveLength(1);
    bus.emit({ type: "run.started" });
    expect(received).toEqual(["a", "b", "c", "d", "e"]);
    for (const attachment of attachments) attachment.detach();
    expect(bus.active()).toHaveLength(0);
    expect(readEventHubStats()).toBeNull();
  });

  it("subscribes with the union of interests and delivers each listener only its own types", () => {
    const bus = createFakeBus();
    const seenByA: string[] = [];
    const seenByB: string[] = [];
    attachToEventHub(bus.subscribe, {
      owner: "a",
      types: ["run.started"],
      deliver: (event) => seenByA.push((event as { type: string }).type),
    });
    const b = attachToEventHub(bus.subscribe, {
      owner: "b",
      types: ["session.state"],
      deliver: (event) => seenByB.push((event as { type: string }).type),
    });
    expect(bus.active()).toHaveLength(1);
    expect(bus.active()[0]?.include).toEqual(["run.started", "session.state"]);
    bus.emit({ type: "run.started" });
    bus.emit({ type: "session.state" });
    bus.emit({ type: "queue.lane.enqueue" });
    expect(seenByA).toEqual(["run.started"]);
    expect(seenByB).toEqual(["session.state"]);
    b.detach();
    // interest shrank: the hub narrows the host-side filter so fewer events are cloned
    expect(bus.active()).toHaveLength(1);
    expect(bus.active()[0]?.include).toEqual(["run.started"]);
  });

  it("isolates a throwing listener from the others and reports it", () => {
    const bus = createFakeBus();
    const errors: string[] = [];
    let delivered = 0;
    attachToEventHub(
      bus.subscribe,
      {
        owner: "broken",
        types: null,
        deliver: () => {
          throw new Error("boom");
        },
      },
      (owner) => errors.push(owner),
    );
    attachToEventHub(bus.subscribe, {
      owner: "healthy",
      types: null,
      deliver: () => {
        delivered += 1;
      },
    });
    expect(() => bus.emit({ type: "run.started" })).not.toThrow();
    expect(delivered).toBe(1);
    expect(errors).toEqual(["broken"]);
    expect(readEventHubStats()?.listenerErrors).toBe(1);
  });

  it("survives separate module instances: a re-imported copy attaches to the same hub", async () => {
    const bus = createFakeBus();
    attachToEventHub(bus.subscribe, { owner: "first", types: ["run.started"], deliver: () => {} });
    vi.resetModules();
    const copy = await import("./event-hub.js?copy=2" as string).catch(() => import("./event-hub.js"));
    const received: string[] = [];
    copy.attachToEventHub(bus.subscribe, {
      owner: "second",
      types: ["run.started"],
      deliver: () => received.push("second"),
    });
    expect(bus.active()).toHaveLength(1);
    bus.emit({ type: "run.started" });
    expect(received).toEqual(["second"]);
  });
});

describe("attachToEventHub on the real OpenClaw bus", () => {
  it("hands five extensions the same clone of each event (one clone per event, not five)", async () => {
    const seen: unknown[][] = [[], [], [], [], []];
    const attachments = seen.map((bucket, index) =>
      attachToEventHub(onInternalDiagnosticEvent as unknown as SubscribeToBus, {
        owner: `ext-${index}`,
        types: ["run.started"],
        deliver: (event) => bucket.push(event),
      }),
    );
    emitTrustedDiagnosticEvent({
      type: "run.started",
      runId: "hub-run-1",
      sessionKey: "agent:main:hub",
      provider: "mock",
      model: "m",
    } as never);
    await waitForDiagnosticEventsDrained();
    for (const bucket of seen) expect(bucket).toHaveLength(1);
    const first = seen[0]?.[0];
    expect((first as { runId: string }).runId).toBe("hub-run-1");
    for (const bucket of seen) expect(bucket[0]).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    for (const attachment of attachments) attachment.detach();
    emitTrustedDiagnosticEvent({
      type: "run.started",
      runId: "hub-run-2",
      sessionKey: "agent:main:hub",
      provider: "mock",
      model: "m",
    } as never);
    await waitForDiagnosticEventsDrained();
    expect(seen[0]).toHaveLength(1);
  });
});
