// How a relay ends, and the messages between the main thread and the relay worker (a union on code).
import type { Handshake } from "../protocol/index.ts";
import type { RelayedCheckpoint } from "./checkpoints.ts";
import type { PumpLimits } from "./pump.ts";

export type RelayEnd =
  /** The input's stdout reached its end and everything was handed to the output. */
  | { kind: "ended" }
  | { kind: "line-too-long"; message: string }
  /** The output stopped reading (exited or closed its stdin). */
  | { kind: "output-closed"; message: string }
  | { kind: "handshake-error"; message: string }
  /** The input's first line was neither a handshake nor JSON: it writes logs to stdout. */
  | { kind: "not-protocol"; preview: string }
  /** A v2 input wrote a line starting {"checkpoint": that is not one checkpoint object. */
  | { kind: "bad-checkpoint"; message: string };

/**
 * A run's figures as the relay counts them, on their way to the session's report and the summary:
 * the one definition of each.
 */
export interface RelayFigures {
  /** Lines the output's pipe took. */
  lines: number;
  /** Read from the input but not delivered: a partial line and unwritten bytes. */
  inFlightLines: number;
  inFlightBytes: number;
  /** A last line without newline from an input that crashed or was killed: dropped, not delivered. */
  cutLineBytes: number;
}

export interface RelayResult extends RelayFigures {
  end: RelayEnd;
  /**
   * Raw pipes: the output's write end was retired, not closed (retireWriteEnd): the number is
   * still taken and the caller closes it.
   */
  outputFdRetired?: boolean;
}

export interface FdRelayConfig {
  inputFd: number;
  outputFd: number;
  /** Written to the output before any data: its command envelope line (may exceed the pipe). */
  outputPreamble: string;
  limits: PumpLimits;
  counters: SharedArrayBuffer;
}

export type MainToRelay = { code: "START"; config: FdRelayConfig };

/** What the relay tells the session as it goes (both backends). */
export interface RelayEvents {
  /** The input's first line was judged: its handshake, if it sent one. */
  onInputFirstLine(handshake: Handshake | undefined): void;
  onCheckpoint(checkpoint: RelayedCheckpoint): void;
}

/** The relay worker's side of RelayEvents: checkpoints told in batches, one message for many. */
export interface FdRelayEvents {
  onInputFirstLine(handshake: Handshake | undefined): void;
  onCheckpoints(checkpoints: RelayedCheckpoint[]): void;
}

export type RelayToMain =
  | { code: "INPUT_FIRST_LINE"; handshake?: Handshake }
  | { code: "CHECKPOINTS"; checkpoints: RelayedCheckpoint[] }
  | { code: "DONE"; result: RelayResult }
  | { code: "ERROR"; message: string; stack?: string };
