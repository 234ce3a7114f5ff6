// Logs go to stderr only (stdout carries command output and pipeline data), pretty or JSON lines.
// consola is loaded with the first line actually logged: it costs ~20 ms of start-up that
// `version`, `list` and every built-in provider process would otherwise pay for nothing.
import type { ConsolaInstance, ConsolaReporter, LogObject } from "consola";
import { oneLine } from "../one-line.ts";

export const logLevels = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof logLevels)[number];
export const logFormats = ["pretty", "json"] as const;
export type LogFormat = (typeof logFormats)[number];

const consolaLevels: Record<LogLevel, number> = { debug: 4, info: 3, warn: 1, error: 0 };

const jsonReporter: ConsolaReporter = {
  log(entry: LogObject) {
    const message = entry.args.map((arg) => (typeof arg === "string" ? arg : Bun.inspect(arg)));
    process.stderr.write(
      `${JSON.stringify({ time: entry.date.toISOString(), level: entry.type, message: message.join(" ") })}\n`,
    );
  },
};

export interface LoggerSettings {
  level: LogLevel;
  format: LogFormat;
}

export let loggerSettings: LoggerSettings = { level: "info", format: "pretty" };

let instance: ConsolaInstance | undefined;

function consola(): ConsolaInstance {
  if (instance) return instance;
  const { createConsola } = require("consola") as typeof import("consola");
  instance = createConsola({
    level: consolaLevels[loggerSettings.level],
    stdout: process.stderr,
    stderr: process.stderr,
    ...(loggerSettings.format === "json" ? { reporters: [jsonReporter] } : {}),
    formatOptions: { colors: !process.env.NO_COLOR && process.stderr.isTTY === true, date: false },
  });
  return instance;
}

const enabled = (level: LogLevel) => consolaLevels[loggerSettings.level] >= consolaLevels[level];

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
}

export const logger: Logger = {
  debug: (message) => enabled("debug") && consola().debug(message),
  info: (message) => enabled("info") && consola().info(message),
  // One line, as errors are: consola would draw a warning on a terminal as a boxed badge.
  warn: (message) => enabled("warn") && consola().warn({ message: oneLine(message), badge: false }),
};

export function configureLogger(settings: LoggerSettings): void {
  loggerSettings = settings;
  instance = undefined;
}
