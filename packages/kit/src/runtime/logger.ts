/** Logging through the host logger only, prefixed and rate-limited so a dead backend cannot flood it. */
import { toLogText } from "../privacy/log-text.js";

/** The shape of the host's `PluginLogger` that the pack uses. */
export interface KitLogger {
  debug?: (message: string) => void;
  info: (message: string) => void;
  warn: (message: string) => void;
  error: (message: string) => void;
}

/** Options for {@link createPackLogger}. */
export interface PackLoggerOptions {
  /** Minimum ms between two lines with the same key (default 60 000). */
  repeatIntervalMs?: number;
  now?: () => number;
}

/** A prefixed logger whose `*Once`/`*Limited` variants suppress repeats of the same key. */
export interface PackLogger extends KitLogger {
  /** Logs at most once per `repeatIntervalMs` for a given key, then says how many were suppressed. */
  limited: (level: "info" | "warn" | "error", key: string, message: string) => void;
  /** Logs once for the lifetime of this logger. */
  once: (level: "info" | "warn" | "error", key: string, message: string) => void;
}

const MAX_KEYS = 512;

/**
 * Wraps the host logger: every line gets `clawscope-<name>: `, and a logger that throws never
 * reaches the caller.
 */
export function createPackLogger(
  base: KitLogger,
  pluginId: string,
  options: PackLoggerOptions = {},
): PackLogger {
  const prefix = `${pluginId}: `;
  const interval = options.repeatIntervalMs ?? 60_000;
  const now = options.now ?? Date.now;
  const lastByKey = new Map<string, { at: number; suppressed: number }>();
  const onceKeys = new Set<string>();
  const write = (level: "debug" | "info" | "warn" | "error", message: string): void => {
    try {
      const sink = base[level] ?? base.info;
      // a backend's answer can hold any byte: every line leaves printable and bounded
      sink.call(base, prefix + toLogText(message));
    } catch {
      // a broken host logger must not break the pack
    }
  };
  return {
    debug: (message) => write("debug", message),
    info: (message) => write("info", message),
    warn: (message) => write("warn", message),
    error: (message) => write("error", message),
    limited(level, key, message) {
      const at = now();
      const last = lastByKey.get(key);
      if (last && at - last.at < interval) {
        last.suppressed += 1;
        return;
      }
      const suffix = last && last.suppressed > 0 ? ` (${last.suppressed} similar suppressed)` : "";
      if (lastByKey.size >= MAX_KEYS && !last) lastByKey.delete(lastByKey.keys().next().value as string);
      lastByKey.set(key, { at, suppressed: 0 });
      write(level, message + suffix);
    },
    once(level, key, message) {
      if (onceKeys.has(key)) return;
      if (onceKeys.size < MAX_KEYS) onceKeys.add(key);
      write(level, message);
    },
  };
}
