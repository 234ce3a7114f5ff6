// Dispatches argv to a command and decides the exit code; the only place that knows about exiting.
import { runCommand } from "citty";
import { DstreamError, ExitCode, errorCode, messageOf } from "../errors.ts";
import { oneLine } from "../one-line.ts";
import { versionInfo } from "../version.ts";
import { stdoutWasClosed } from "./closed-stdout.ts";
import { commands, hiddenCommands } from "./commands/index.ts";
import { checkFlags } from "./flags.ts";
import { type AnyCommand, columns, helpExtras, renderHelp } from "./help.ts";
import {
  configureLogger,
  type LogFormat,
  type LogLevel,
  logFormats,
  logger,
  loggerSettings,
  logLevels,
} from "./logger.ts";
import { explainRemedy } from "./registry-remedies.ts";

/** Global flags may stand anywhere; they are taken out before the command sees argv. */
function takeGlobalFlags(argv: string[]): { level: LogLevel; format: LogFormat; rest: string[] } {
  let level = process.env.DSTREAM_LOG_LEVEL || "info";
  let format = process.env.DSTREAM_LOG_FORMAT || "pretty";
  const rest: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const token = argv[index] ?? "";
    if (token === "--") {
      rest.push(...argv.slice(index));
      break;
    }
    const match = /^--(log-level|log-format)(?:=(.*))?$/.exec(token);
    if (!match) {
      rest.push(token);
      continue;
    }
    const value = match[2] ?? argv[++index];
    if (value === undefined) throw new DstreamError("USAGE", `flag --${match[1]} needs a value`);
    if (match[1] === "log-level") level = value;
    else format = value;
  }
  if (!(logLevels as readonly string[]).includes(level)) {
    throw new DstreamError("USAGE", `invalid log level "${level}" (use ${logLevels.join(", ")})`);
  }
  if (!(logFormats as readonly string[]).includes(format)) {
    throw new DstreamError(
      "USAGE",
      `invalid log format "${format}" (use ${logFormats.join(", ")})`,
    );
  }
  return { level: level as LogLevel, format: format as LogFormat, rest };
}

async function mainUsage(): Promise<string> {
  const rows: [string, string][] = [];
  for (const [name, load] of Object.entries(commands)) {
    if (hiddenCommands.has(name)) continue;
    const meta = (await load()).default.meta;
    const description =
      typeof meta === "object" && meta !== null && "description" in meta ? meta.description : "";
    rows.push([name, String(description ?? "")]);
  }
  return [
    `dstream ${versionInfo().version}: declarative data streaming pipelines`,
    "",
    "USAGE dstream <command> [flags]",
    "",
    "COMMANDS",
    "",
    ...columns(rows),
    "",
    "COMMON FLAGS",
    "",
    ...columns([
      ["-c, --config <path>", "Config file (else DSTREAM_CONFIG, else ./dstream.hcl)"],
      ["--log-level <level>", "debug, info, warn or error (DSTREAM_LOG_LEVEL)"],
      ["--log-format <format>", "pretty or json (DSTREAM_LOG_FORMAT)"],
    ]),
    "",
    "Run dstream <command> --help for its flags and examples. Exit codes: 0 ok, 1 run-time failure,",
    "2 usage or config error, 130 forced stop.",
  ].join("\n");
}

const isHelpFlag = (token: string) => token === "--help" || token === "-h";

async function dispatch(argv: string[]): Promise<number> {
  const { level, format, rest } = takeGlobalFlags(argv);
  configureLogger({ level, format });
  const [name, ...commandArgv] = rest;
  if (name === undefined) {
    process.stderr.write(`${await mainUsage()}\n`);
    return ExitCode.usage;
  }
  if (isHelpFlag(name) || name === "help") {
    refuseClosedStdout();
    process.stdout.write(`${await mainUsage()}\n`);
    return ExitCode.success;
  }
  if (name === "--version") return dispatch(["version"]);
  const load = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!load) {
    const hint = name.startsWith("-")
      ? `the command comes first: dstream <command> ${name} ...`
      : "see dstream --help";
    throw new DstreamError("USAGE", `unknown command "${name}" (${hint})`);
  }
  let command: AnyCommand = (await load()).default;
  let commandName = name;
  let args = commandArgv;
  // Descend into nested subcommands (dstream providers pull ...).
  for (;;) {
    const subCommands = (await resolve(command.subCommands)) as Record<string, unknown> | undefined;
    if (!subCommands) break;
    const [subName, ...subArgs] = args;
    if (subName === undefined || isHelpFlag(subName)) {
      // Asked for: help on stdout, exit 0. A missing subcommand is a usage error: stderr, exit 2.
      if (subName !== undefined) refuseClosedStdout();
      const stream = subName === undefined ? process.stderr : process.stdout;
      stream.write(`${await renderHelp(command)}\n`);
      return subName === undefined ? ExitCode.usage : ExitCode.success;
    }
    if (!Object.hasOwn(subCommands, subName)) {
      throw new DstreamError(
        "USAGE",
        `unknown command "dstream ${commandName} ${subName}" (see dstream ${commandName} --help)`,
      );
    }
    command = (await resolve(subCommands[subName])) as AnyCommand;
    commandName = `${commandName} ${subName}`;
    args = subArgs;
  }
  const doubleDash = args.indexOf("--");
  if ((doubleDash === -1 ? args : args.slice(0, doubleDash)).some(isHelpFlag)) {
    refuseClosedStdout();
    process.stdout.write(`${await renderHelp(command)}\n`);
    return ExitCode.success;
  }
  const argsDef = ((await resolve(command.args)) ?? {}) as Parameters<typeof checkFlags>[1];
  checkFlags(commandName, argsDef, args, helpExtras(command).variadic === true);
  // A built-in provider's stdout is a pipe; any other command checks before it starts anything.
  if (name !== "__provider") refuseClosedStdout();
  logger.debug(`dstream ${versionInfo().version}: ${commandName}`);
  const { result } = await runCommand(command, { rawArgs: args });
  return typeof result === "number" ? result : ExitCode.success;
}

/**
 * As cat does: output written into nothing is a failure. Checked only where stdout is about to be
 * written, so that a usage error (written to stderr) keeps its exit code 2.
 */
function refuseClosedStdout(): void {
  if (!stdoutWasClosed()) return;
  throw new DstreamError(
    "STDOUT_WRITE",
    "cannot write to stdout: it is closed; redirect it (>/dev/null) to discard the output",
  );
}

async function resolve<T>(value: T | (() => T) | (() => Promise<T>) | Promise<T>): Promise<T> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

function reportError(error: unknown): number {
  const debug = loggerSettings.level === "debug";
  let problems: readonly string[];
  let details: readonly string[] = [];
  let exitCode: number;
  if (error instanceof DstreamError) {
    problems = error.problems;
    details = error.details;
    exitCode = error.exitCode;
  } else if (error instanceof Error && error.name === "CLIError") {
    problems = [Bun.stripANSI(error.message)];
    exitCode = ExitCode.usage;
  } else {
    problems = [`internal error: ${messageOf(error)} (run with --log-level debug for details)`];
    exitCode = ExitCode.runtime;
  }
  // Messages carry outside text (paths, providers' words): each stays one line.
  for (const problem of problems) {
    if (loggerSettings.format === "json") {
      process.stderr.write(
        `${JSON.stringify({ time: new Date().toISOString(), level: "error", message: problem })}\n`,
      );
    } else {
      process.stderr.write(`error: ${oneLine(problem)}\n`);
    }
  }
  // A provider's log lines as context: their colors dropped, the rest escaped.
  for (const detail of details) process.stderr.write(`  ${oneLine(Bun.stripANSI(detail))}\n`);
  if (debug) {
    let cause: unknown = error;
    while (cause) {
      logger.debug(cause instanceof Error ? (cause.stack ?? cause.message) : String(cause));
      cause = cause instanceof Error ? cause.cause : undefined;
    }
  }
  return exitCode;
}

/**
 * What a failed write to stdout means for the exit code. EPIPE: the reader left (`| head -1`)
 * and wants no more, so dstream ends quietly with its own code, as `| head` users expect (a 141,
 * as from SIGPIPE, would fail their `set -o pipefail` scripts for reading what they needed).
 * Anything else (ENOSPC) lost output: one error line, exit 1.
 */
export function reportStdoutError(error: unknown): number {
  if (errorCode(error) === "EPIPE") return ExitCode.success;
  return reportError(
    new DstreamError("STDOUT_WRITE", `cannot write to stdout: ${messageOf(error)}`, {
      cause: error,
    }),
  );
}

/** Runs the CLI and returns the process exit code; never throws. */
export async function runCli(argv: string[]): Promise<number> {
  try {
    return await dispatch(argv);
  } catch (error) {
    return reportError(explainRemedy(error));
  }
}
