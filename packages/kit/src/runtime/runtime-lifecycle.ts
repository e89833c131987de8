/**
 * Start and stop of one extension, serialized per plugin id on `globalThis`. The host can call
 * `start` again before `stop` (reload), two starts can overlap, and `stop` can arrive while `start`
 * is still awaiting the extension: each step waits (bounded) for the one before it, and a newer
 * step makes an older start that is still running give up instead of publishing a runtime.
 */

/** What a step can ask about itself. */
export interface LifecycleStep {
  /** False once a newer start or stop of the same plugin began: a start must then give up. */
  isCurrent: () => boolean;
}

interface LifecycleState {
  generation: number;
  tail: Promise<void>;
}

const LIFECYCLE_KEY = Symbol.for("clawscope.lifecycle.v1");

type GlobalWithLifecycle = typeof globalThis & { [LIFECYCLE_KEY]?: Map<string, LifecycleState> };

function lifecycleOf(pluginId: string): LifecycleState {
  const global = globalThis as GlobalWithLifecycle;
  global[LIFECYCLE_KEY] ??= new Map();
  let state = global[LIFECYCLE_KEY].get(pluginId);
  if (!state) {
    state = { generation: 0, tail: Promise.resolve() };
    global[LIFECYCLE_KEY].set(pluginId, state);
  }
  return state;
}

/**
 * Runs `step` once the plugin's previous step settled, or after `waitMs` if it hangs (a start stuck
 * in a backend handshake must not block the gateway's stop forever; it gives up when it returns).
 */
export async function runLifecycleStep(
  pluginId: string,
  waitMs: number,
  step: (current: LifecycleStep) => Promise<void>,
): Promise<void> {
  const state = lifecycleOf(pluginId);
  state.generation += 1;
  const generation = state.generation;
  const previous = state.tail;
  let release: () => void = () => undefined;
  state.tail = new Promise<void>((resolve) => {
    release = resolve;
  });
  try {
    await withTimeout(previous, waitMs).catch(() => undefined);
    await step({ isCurrent: () => state.generation === generation });
  } finally {
    release();
  }
}

/** Resolves with the promise's value, or with undefined after `timeoutMs`; the timer never holds the process. */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(undefined), timeoutMs);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Runs `work`, waiting for it at most `timeoutMs`; says whether it finished. A throw is rethrown. */
export async function finishWithin(work: () => unknown, timeoutMs: number): Promise<boolean> {
  let finished = false;
  await withTimeout(
    Promise.resolve()
      .then(work)
      .then(() => {
        finished = true;
      }),
    timeoutMs,
  );
  return finished;
}
