// Logs go to stderr only (stdout carries command output and pipeline data), pretty or JSON lines.
import { type ConsolaReporter, createConsola, type LogObject } from "consola";

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

export let logger = createConsola({
  level: consolaLevels.info,
  stdout: process.stderr,
  stderr: process.stderr,
});

export function configureLogger(settings: LoggerSettings): void {
  loggerSettings = settings;
  logger = createConsola({
    level: consolaLevels[settings.level],
    stdout: process.stderr,
    stderr: process.stderr,
    ...(settings.format === "json" ? { reporters: [jsonReporter] } : {}),
    formatOptions: { colors: !process.env.NO_COLOR && process.stderr.isTTY === true, date: false },
  });
}
