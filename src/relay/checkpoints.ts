// Checkpoint lines on the relay: checked once (one JSON parse per checkpoint, never per event),
// forwarded in place to a v2 output or dropped before a v1 one, and reported to the main thread.
import { parseCheckpointLine } from "../protocol/index.ts";
import type { CounterWriter } from "./counters.ts";
import { Slot } from "./counters.ts";

/**
 * forward: the output speaks v2 and echoes checkpoints; drop: a v1 output never sees them;
 * undecided: the output's protocol is not known yet, so it does not see them either (the session
 * commits them once it knows: at once for v1, for v2 once a later checkpoint is echoed or the
 * output ended cleanly). The data never waits for the decision.
 */
export type CheckpointMode = "forward" | "drop" | "undecided";

/** A checkpoint line the relay passed: sent to a v2 output, or (v1) every line before it written. */
export interface RelayedCheckpoint {
  /** The line as the input wrote it, without its newline. */
  line: string;
  /** The value it holds, as JSON text. */
  value: string;
  /** Events relayed before it. */
  events: number;
  forwarded: boolean;
  /** Met before the output's protocol was known: cut out of the data, like a dropped one. */
  undecided: boolean;
  /** When the relay met it (epoch ms). */
  at: number;
}

export class BadCheckpointError extends Error {}

const decoder = new TextDecoder();

/** The line without its newline (and a CR before it), checked to be one checkpoint object. */
export function readCheckpoint(
  bytes: Uint8Array,
  events: number,
  mode: CheckpointMode,
): RelayedCheckpoint {
  let end = bytes.length;
  if (bytes[end - 1] === 10) end--;
  if (bytes[end - 1] === 13) end--;
  const line = decoder.decode(bytes.subarray(0, end));
  let value: unknown;
  try {
    value = parseCheckpointLine(line);
  } catch (error) {
    throw new BadCheckpointError(error instanceof Error ? error.message : String(error));
  }
  return {
    line,
    value: JSON.stringify(value),
    events,
    forwarded: mode === "forward",
    undecided: mode === "undecided",
    at: Date.now(),
  };
}

/** The mode for an output whose protocol is `protocol` (0: not decided yet). */
export function checkpointModeFor(protocol: number): CheckpointMode {
  if (protocol === 2) return "forward";
  return protocol === 1 ? "drop" : "undecided";
}

/**
 * Counts a checkpoint line; returns the bytes it adds to the next write without being an event's
 * (one forwarded in place travels with the events around it), which the pump leaves out of the
 * byte count when it counts that write: the byte count is the events' alone, as the line count is.
 */
export function countCheckpoint(
  counters: CounterWriter,
  line: Uint8Array,
  mode: CheckpointMode,
): number {
  counters.add(Slot.CHECKPOINTS, 1);
  return mode === "forward" ? line.length : 0;
}

/**
 * Bytes of forwarded checkpoint lines travelling with the events, not counted yet: the relay adds
 * them when it meets such a line and takes them out of the write that carries them.
 */
export class CheckpointBytes {
  private pending = 0;

  add(bytes: number): void {
    this.pending += bytes;
  }

  /** Of `written` bytes, those of events: less the checkpoint lines among them. */
  eventBytes(written: number): number {
    const checkpoint = Math.min(this.pending, written);
    this.pending -= checkpoint;
    return written - checkpoint;
  }
}
