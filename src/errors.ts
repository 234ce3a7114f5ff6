// The one error type every layer throws; only the CLI entry point turns it into an exit code.

/** Documented exit codes (README, DESIGN.md). */
export const ExitCode = {
  success: 0,
  runtime: 1,
  usage: 2,
  forcedStop: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export type ErrorCode =
  | "USAGE"
  | "CONFIG_NOT_FOUND"
  | "CONFIG_SYNTAX"
  | "CONFIG_INVALID"
  | "TASK_NOT_FOUND"
  | "PROVIDER_NOT_FOUND"
  | "PROVIDER_FAILED"
  | "HANDSHAKE_FAILED"
  | "LINE_TOO_LONG"
  | "STOP_TIMEOUT"
  | "REGISTRY"
  | "DIGEST_MISMATCH"
  | "STATS_WRITE"
  | "STDOUT_WRITE"
  | "STATE"
  | "TASK_LOCKED"
  | "INTERNAL";

const usageCodes: ReadonlySet<ErrorCode> = new Set([
  "USAGE",
  "CONFIG_NOT_FOUND",
  "CONFIG_SYNTAX",
  "CONFIG_INVALID",
  "TASK_NOT_FOUND",
  "PROVIDER_NOT_FOUND",
]);

export interface DstreamErrorOptions {
  cause?: unknown;
  /** Several independent problems (config errors are reported all at once, one per line). */
  problems?: readonly string[];
  /** Context printed under the error lines, e.g. a provider's last stderr lines. */
  details?: readonly string[];
  exitCode?: ExitCode;
}

export class DstreamError extends Error {
  override readonly name = "DstreamError";
  readonly code: ErrorCode;
  readonly exitCode: ExitCode;
  readonly problems: readonly string[];
  readonly details: readonly string[];

  constructor(code: ErrorCode, message: string, options: DstreamErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.exitCode = options.exitCode ?? (usageCodes.has(code) ? ExitCode.usage : ExitCode.runtime);
    this.problems = options.problems ?? [message];
    this.details = options.details ?? [];
  }
}

/** The message of anything thrown, for wrapping low-level errors. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** The `code` a system or driver error carries (ENOENT, EPERM, a SQLSTATE), when it is a string. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  return typeof error.code === "string" ? error.code : undefined;
}
