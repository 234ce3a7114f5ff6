// Messages between the main thread and the relay worker: discriminated unions on `code`.
import type { ErrorCode } from "../errors.ts";
import type { PumpLimits } from "../relay/pump.ts";
import type { ProviderExit, ProviderLaunch } from "./provider-process.ts";

export interface SessionConfig {
  input: ProviderLaunch;
  output: ProviderLaunch;
  limits: PumpLimits;
  counters: SharedArrayBuffer;
  /** After the task fails, how long the input gets to stop on SIGTERM before both are killed. */
  shutdownTimeoutMs: number;
}

export interface SessionFailure {
  code: ErrorCode;
  message: string;
  /** Whose stderr tail explains the failure. */
  role?: "input" | "output";
}

export interface SessionReport {
  input: ProviderExit;
  output: ProviderExit;
  failure?: SessionFailure;
  /** Lines handed to the output. */
  relayedLines: number;
  /** Lines read from the input but not delivered when the session ended. */
  inFlightLines: number;
  inFlightBytes: number;
}

export type MainToWorker =
  | { code: "START"; config: SessionConfig }
  /** Graceful stop: SIGTERM the input, drain, close the output's stdin. */
  | { code: "STOP" }
  /** Forced stop: SIGKILL both providers. */
  | { code: "KILL" };

export type WorkerToMain =
  | { code: "STARTED"; inputPid: number; outputPid: number }
  | { code: "DONE"; report: SessionReport }
  | { code: "ERROR"; message: string; stack?: string };
