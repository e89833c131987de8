/**
 * One turn assembly per gateway process, shared by every clawscope extension loaded in it that
 * assembles turns the same way. Three extensions used to run three assemblers over the same events,
 * each building its own copy of every turn; now the first extension to start creates a group (one
 * input queue, one assembler, one set of session roll-ups, one reaper tick) and the others join it,
 * and every member receives the same deep-frozen `Turn`.
 *
 * Members share a group only when everything that shapes a turn is equal (timings, pricing, content
 * capture, conversation access); otherwise each kind gets its own group. Hooks: every member's
 * plugin receives the same hook calls, so the group takes them from one member only, its leader
 * (the oldest member); when the leader leaves, the next member leads.
 *
 * Like the event hub, the registry lives on `globalThis` (each extension bundles its own copy of
 * the kit), and its shape is a small versioned protocol: a group is an object with methods, made by
 * whichever copy came first; other copies only call them.
 */
import { TURN_EVENT_TYPES } from "../events/host-events.js";
import {
  isOperationalEventType,
  type OperationalEvent,
  type OperationalEventType,
  readOperationalEvent,
} from "../events/operational-event.js";
import { readField, readHostEvent } from "../events/read-event.js";
import { toCapturedContent } from "../privacy/captured-content.js";
import type { PriceTable } from "../turns/cost.js";
import { createSessionRollups } from "../turns/session-rollups.js";
import type { SessionRollup, Turn } from "../turns/turn.js";
import { createTurnAssembler, type TurnAssemblerStats } from "../turns/turn-assembler.js";
import { describeError } from "./describe-error.js";
import { attachToEventHub, type HubAttachment, type SubscribeToBus } from "./event-hub.js";
import { createInputQueue, type RuntimeInput } from "./input-queue.js";

/** Everything that shapes an assembled turn; members share a group only when all of it is equal. */
export interface AssemblySettings {
  settleMs?: number;
  retryWaitMs?: number;
  turnTimeoutMs?: number;
  pricing?: PriceTable;
  captureContent?: boolean;
  maxContentChars?: number;
  /** Whether the members' plugins receive conversation hooks (llm_output, agent_end). */
  conversationAccess: boolean;
}

/** A member of a group: an extension's runtime. */
export interface TurnHubMember {
  /** Plugin id, for error messages. */
  owner: string;
  /** Operational event types the member wants besides assembled turns. */
  eventTypes: readonly OperationalEventType[];
  /**
   * An event of one of `eventTypes`, read once for every member and frozen; may throw (caught,
   * reported through `onProblem`).
   */
  onEvent?: (event: OperationalEvent) => void;
  /** An assembled (or amended) turn, deep-frozen and shared with the other members. */
  onTurn: (turn: Turn, session: SessionRollup | undefined) => void;
  /** Every event the group took in, with its verdict (for the member's health counters). */
  onInput: (kind: "seen" | "malformed") => void;
  /** A problem worth a (rate-limited) log line: `key` names its kind. */
  onProblem: (key: string, message: string) => void;
}

/** What joining returns. */
export interface TurnHubMembership {
  /** A hook call the member's plugin received; taken only from the group's leader. */
  handleHook(name: string, event: unknown, context: unknown): void;
  /** Processes queued input now (before a stop). */
  drain(): void;
  assemblerStats(): TurnAssemblerStats;
  inputStats(): { queued: number; overflowed: number; maxQueued: number };
  /** How many members the group has now (1 when this member assembles alone). */
  members(): number;
  /**
   * Leaves the group. The turns still open are handed to this member as `shutdown` turns: closed
   * for good when it is the last member, as copies otherwise (the others keep assembling them).
   */
  leave(): void;
}

interface TurnGroup {
  readonly protocol: 2;
  join(member: TurnHubMember): TurnHubMembership;
}

/** The `globalThis` key of the registry, shared by every copy of the kit in the process. */
// v2: members receive typed operational events; a copy of the kit speaking v1 keeps its own registry
export const TURN_HUB_KEY = Symbol.for("clawscope.turn-hub.v2");
const TICK_MS = 1000;

type GlobalWithTurnHub = typeof globalThis & { [TURN_HUB_KEY]?: Map<string, TurnGroup> };

/** The group key: every setting that changes what a turn looks like. */
export function toAssemblyKey(settings: AssemblySettings): string {
  return JSON.stringify([
    settings.settleMs ?? null,
    settings.retryWaitMs ?? null,
    settings.turnTimeoutMs ?? null,
    settings.pricing ?? null,
    settings.captureContent === true,
    settings.captureContent === true ? (settings.maxContentChars ?? null) : null,
    settings.conversationAccess,
  ]);
}

/**
 * Joins the process's group for these settings, creating it (and its bus subscription and tick) when
 * none exists. Throws only what the bus subscription throws, leaving nothing behind.
 */
export function joinTurnHub(
  subscribe: SubscribeToBus,
  settings: AssemblySettings,
  member: TurnHubMember,
): TurnHubMembership {
  const global = globalThis as GlobalWithTurnHub;
  let groups = global[TURN_HUB_KEY];
  if (!(groups instanceof Map)) {
    groups = new Map();
    global[TURN_HUB_KEY] = groups;
  }
  const key = toAssemblyKey(settings);
  const existing = groups.get(key);
  if (existing?.protocol === 2) return existing.join(member);
  const registry = groups;
  const group = createTurnGroup(subscribe, settings, () => {
    if (registry.get(key) === group) registry.delete(key);
  });
  registry.set(key, group);
  try {
    return group.join(member);
  } catch (error) {
    if (registry.get(key) === group) registry.delete(key);
    throw error;
  }
}

function createTurnGroup(
  subscribe: SubscribeToBus,
  settings: AssemblySettings,
  onEmpty: () => void,
): TurnGroup {
  const members: TurnHubMember[] = [];
  const eachMember = (run: (member: TurnHubMember) => void) => {
    for (const member of members) {
      try {
        run(member);
      } catch {}
    }
  };
  const problem = (key: string, message: string) => eachMember((member) => member.onProblem(key, message));
  const rollups = createSessionRollups({ maxSessions: 10_000 });
  const maxChars = settings.maxContentChars ?? 8000;
  const assembler = createTurnAssembler({
    settleMs: settings.settleMs,
    retryWaitMs: settings.retryWaitMs,
    // the host's error text can quote the user's input: it leaves only with content capture on
    keepErrorText: settings.captureContent === true,
    turnTimeoutMs: settings.turnTimeoutMs,
    pricing: settings.pricing,
    captureContent:
      settings.captureContent === true
        ? (value: unknown) => toCapturedContent(value, { maxChars })
        : undefined,
    onWarning: (message: string) => problem("assembler", message),
    onTurn(turn: Turn) {
      let session: SessionRollup | undefined;
      try {
        session = turn.sessionKey ? rollups.add(turn) : undefined;
      } catch {}
      deliverTurn(deepFreeze(turn), session, members);
    },
  });

  const turnTypes = new Set<string>(TURN_EVENT_TYPES);
  const handleEvent = (event: unknown, metadata: unknown): void => {
    eachMember((member) => member.onInput("seen"));
    const type = readField(event, "type");
    if (typeof type !== "string") {
      eachMember((member) => member.onInput("malformed"));
      problem("malformed-event", "skipped a malformed diagnostic event (no type)");
      return;
    }
    const forTurns = turnTypes.has(type);
    if (forTurns) assembler.handleEvent(event, metadata);
    if (!isOperationalEventType(type)) return;
    let operational: OperationalEvent | undefined;
    let read = false;
    for (const member of members) {
      if (!member.onEvent || !member.eventTypes.includes(type)) continue;
      if (!read) {
        read = true;
        operational = readOperationalEvent(event);
        if (operational) deepFreeze(operational);
        else if (!forTurns || readHostEvent(event).status !== "malformed") {
          // (an event the assembler also refused as malformed is counted there, once)
          eachMember((each) => each.onInput("malformed"));
          problem(
            "malformed-event",
            `skipped a malformed ${type} event (a required field is missing or malformed)`,
          );
        }
      }
      if (!operational) return;
      try {
        member.onEvent(operational);
      } catch (error) {
        try {
          member.onProblem(`on-event-${type}`, `could not handle ${type}: ${describeError(error)}`);
        } catch {}
      }
    }
  };
  // the host's emit and hook dispatch only append here; assembling, closing and exporting turns run
  // on a later turn of the event loop
  const input = createInputQueue({
    process(item: RuntimeInput) {
      if (item.kind === "event") handleEvent(item.event, item.metadata);
      else assembler.handleHook(item.name, item.event, item.context);
    },
    onOverflow: () =>
      problem(
        "input-overflow",
        "input queue full: dropping diagnostic events until it drains (counted in health events.overflowed)",
      ),
    onError: (error) => problem("input", `could not handle input: ${describeError(error)}`),
  });

  let attachment: HubAttachment | undefined;
  /** (Re)attaches to the event hub with the members' union of types; attach first, so nothing is missed. */
  const attach = () => {
    const types = new Set<string>(TURN_EVENT_TYPES);
    for (const member of members) for (const type of member.eventTypes) types.add(type);
    const previous = attachment;
    attachment = attachToEventHub(
      subscribe,
      {
        owner: members[0]?.owner ?? "clawscope",
        types: [...types],
        deliver(event, metadata) {
          input.push({ kind: "event", event, metadata });
        },
      },
      (owner, error) => problem(`hub-${owner}`, `event listener of ${owner} failed: ${describeError(error)}`),
    );
    previous?.detach();
  };

  let tick: ReturnType<typeof setInterval> | undefined;
  const startTick = () => {
    tick = setInterval(() => {
      try {
        input.drain();
        assembler.tick();
      } catch (error) {
        problem("tick", `turn reaper failed: ${describeError(error)}`);
      }
    }, TICK_MS);
    tick.unref?.();
  };

  return {
    protocol: 2,
    join(member) {
      members.push(member);
      try {
        attach();
      } catch (error) {
        members.splice(members.indexOf(member), 1);
        throw error;
      }
      if (tick === undefined) startTick();
      let left = false;
      return {
        handleHook(name, event, context) {
          // every member's plugin gets the same call: one copy is enough
          if (left || members[0] !== member) return;
          input.push({ kind: "hook", name, event, context });
        },
        drain: () => input.drain(),
        assemblerStats: () => assembler.stats(),
        inputStats: () => input.stats(),
        members: () => members.length,
        leave() {
          if (left) return;
          left = true;
          try {
            input.drain();
          } catch {}
          if (members.length === 1) {
            // the last member: the turns close for good, and it receives them through onTurn
            try {
              assembler.closeAll("shutdown");
            } catch {}
            members.length = 0;
            if (tick !== undefined) clearInterval(tick);
            tick = undefined;
            try {
              attachment?.detach();
            } catch {}
            attachment = undefined;
            onEmpty();
            return;
          }
          // the others keep assembling: this member gets copies, as the turns look now
          let copies: Turn[] = [];
          try {
            copies = assembler.snapshotOpen("shutdown");
          } catch {}
          deliverTurns(copies, member);
          members.splice(members.indexOf(member), 1);
          try {
            attach();
          } catch {}
        },
      };
    },
  };
}

function deliverTurn(
  turn: Turn,
  session: SessionRollup | undefined,
  members: readonly TurnHubMember[],
): void {
  for (const member of members) {
    try {
      member.onTurn(turn, session);
    } catch (error) {
      try {
        member.onProblem("on-turn", `turn export failed: ${describeError(error)}`);
      } catch {}
    }
  }
}

function deliverTurns(turns: readonly Turn[], member: TurnHubMember): void {
  for (const turn of turns) deliverTurn(deepFreeze(turn), undefined, [member]);
}

/** Freezes a turn and everything in it: members share it, so none may change what the others see. */
function deepFreeze<T>(value: T): T {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return value;
}
