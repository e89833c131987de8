/** A logger that records every line, for asserting on what a plugin (or the fake host) logged. */

/** Log levels of the host's `PluginLogger`. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** One recorded line. */
export interface LogLine {
  level: LogLevel;
  message: string;
}

/** The recorder: hand `logger` to the code under test, read `lines`. */
export interface CapturedLogger {
  /** Shaped like the host's `PluginLogger`. */
  logger: {
    debug: (message: string) => void;
    info: (message: string) => void;
    warn: (message: string) => void;
    error: (message: string) => void;
  };
  lines: LogLine[];
  /** Messages at one level, or all messages. */
  messages: (level?: LogLevel) => string[];
  write: (level: LogLevel, message: string) => void;
  clear: () => void;
}

/** Creates a recording logger; `maxLines` bounds memory in long tests (oldest dropped first). */
export function createCapturedLogger(maxLines = 10_000): CapturedLogger {
  const lines: LogLine[] = [];
  const write = (level: LogLevel, message: string) => {
    lines.push({ level, message: String(message) });
    if (lines.length > maxLines) lines.shift();
  };
  return {
    logger: {
      debug: (message) => write("debug", message),
      info: (message) => write("info", message),
      warn: (message) => write("warn", message),
      error: (message) => write("error", message),
    },
    lines,
    messages: (level) =>
      lines.filter((line) => level === undefined || line.level === level).map((line) => line.message),
    write,
    clear: () => {
      lines.length = 0;
    },
  };
}
