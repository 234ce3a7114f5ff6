// The relay worker's byte path on raw pipe descriptors: blocking reads and writes on a thread of its
// own, so the output's pace sets the input's (the input blocks on its full pipe) with one buffer.
import { readSync, writeSync } from "node:fs";
import { errorCode } from "../errors.ts";
import { POLLIN, setNonBlocking, waitFd } from "../os/libc.ts";
import {
  BadCheckpointError,
  CheckpointBytes,
  type CheckpointMode,
  checkpointModeFor,
  countCheckpoint,
  type RelayedCheckpoint,
  readCheckpoint,
} from "./checkpoints.ts";
import { CounterWriter, InputEnd, outputProtocolOf, Slot, waitInputEnd } from "./counters.ts";
import { examineFirstLine, firstLineComplete, speaksV2 } from "./first-line.ts";
import { LineFramer, LineTooLongError } from "./line-framer.ts";
import type { FdRelayConfig, FdRelayEvents, RelayEnd, RelayResult } from "./messages.ts";
import { closeQuietly, retireWriteEnd, waitWritable } from "./os-pipe.ts";

/** Reads take at most what a (resized) pipe holds; --buffer-bytes may ask for less. */
const MAX_READ_BUFFER_BYTES = 1 << 20;
/** An input that closed its stdout but lives on this long is taken to have ended its last line. */
const INPUT_END_WAIT_MS = 5000;
/** poll() wakes at least this often, so a wait is never unbounded inside one call. */
const POLL_SLICE_MS = 1000;
/**
 * Checkpoints met are told to the main thread (which wakes for each message) at most this often
 * while data flows, or once this many wait, and always before the relay would wait on its input or
 * output: told late by at most this, never held while the stream is quiet.
 */
const TELL_INTERVAL_MS = 20;
const TELL_MAX_UNTOLD = 128;

function readSome(fd: number, buffer: Uint8Array): number {
  for (;;) {
    try {
      return readSync(fd, buffer, 0, buffer.length, null);
    } catch (error) {
      if (errorCode(error) === "EINTR" || errorCode(error) === "EAGAIN") continue;
      throw error;
    }
  }
}

class OutputClosed extends Error {}

function countNewlines(bytes: Uint8Array): number {
  let count = 0;
  for (let at = bytes.indexOf(10); at !== -1; at = bytes.indexOf(10, at + 1)) count++;
  return count;
}

export class FdPump {
  private readonly counters: CounterWriter;
  private readonly framer: LineFramer;
  private lines = 0;
  private unwritten = 0;
  /** Lines (whole or the rest of one) in `unwritten`. */
  private unwrittenLines = 0;
  private waitedMs = 0;
  private cutLineBytes = 0;
  private emptyReported = 0;

  constructor(
    private readonly config: FdRelayConfig,
    private readonly events: FdRelayEvents,
  ) {
    this.counters = new CounterWriter(config.counters);
    this.framer = new LineFramer(config.limits.maxLineBytes, true);
  }

  run(): RelayResult {
    // A write the full pipe refuses (EAGAIN) is then a backpressure event, told from one that
    // went straight through.
    setNonBlocking(this.config.outputFd, true);
    let end: RelayEnd;
    let outputFdRetired = false;
    try {
      end = this.pump();
    } catch (error) {
      // Those met before the failure stand: the lines before them were written.
      this.tellCheckpoints(true);
      if (error instanceof LineTooLongError)
        end = { kind: "line-too-long", message: error.message };
      else if (error instanceof BadCheckpointError)
        end = { kind: "bad-checkpoint", message: error.message };
      else if (error instanceof OutputClosed)
        end = { kind: "output-closed", message: error.message };
      else throw error;
    } finally {
      // The output's EOF: it may now flush and exit. The number stays taken until the main thread
      // closes it (it may cut this end off too, when the output exits early).
      outputFdRetired = retireWriteEnd(this.config.outputFd);
      if (!outputFdRetired) closeQuietly(this.config.outputFd);
    }
    // A rejected too-long line is not in flight: it will never be delivered.
    const rejected = end.kind === "line-too-long";
    const pending = rejected ? 0 : this.framer.pendingLength;
    return {
      end,
      lines: this.lines,
      inFlightBytes: pending + this.unwritten,
      inFlightLines: (pending > 0 ? 1 : 0) + this.unwrittenLines,
      cutLineBytes: this.cutLineBytes,
      outputFdRetired,
    };
  }

  private pump(): RelayEnd {
    this.writeAll(new TextEncoder().encode(this.config.outputPreamble));
    const buffer = new Uint8Array(this.readBufferBytes());
    const emit = (bytes: Uint8Array, lines: number) => this.write(bytes, lines);
    const first = this.readFirstLine(buffer);
    if (first.end) return first.end;
    // The main thread decides the output's protocol (its handshake, or a wait): the data does not
    // wait for it, checkpoints met before are cut out until then.
    if (first.v2) this.relayCheckpoints();
    if (first.rest.length > 0) this.push(first.rest, emit);
    if (!first.ended) {
      for (;;) {
        // No checkpoint waits for the input's next bytes.
        if (this.untold.length > 0 && !waitFd(this.config.inputFd, POLLIN, 0)) {
          this.tellCheckpoints(true);
        }
        const count = readSome(this.config.inputFd, buffer);
        if (count === 0) break;
        this.push(buffer.subarray(0, count), emit);
      }
    }
    this.finishLastLine(emit);
    this.tellCheckpoints(true);
    this.reportEmpty();
    return { kind: "ended" };
  }

  /** How checkpoint lines are relayed now: undefined for a v1 input. */
  private checkpointMode: CheckpointMode | undefined;

  /** A v2 input's checkpoint lines: in place to a v2 output, or dropped once the lines before are written. */
  private relayCheckpoints(): void {
    this.updateCheckpointMode();
    this.framer.onCheckpoint = (bytes, unemittedLines) => {
      // Events before it: those written, and those of the region it is part of, not yet written.
      const mode = this.checkpointMode ?? "undecided";
      const checkpoint = readCheckpoint(bytes, this.lines + unemittedLines, mode);
      this.checkpointBytes.add(countCheckpoint(this.counters, bytes, mode));
      this.queueCheckpoint(checkpoint);
    };
  }

  /** Checkpoints met and not told yet, told in one message (TELL_INTERVAL_MS). */
  private untold: RelayedCheckpoint[] = [];
  private toldAt = 0;

  private queueCheckpoint(checkpoint: RelayedCheckpoint): void {
    // One cut out of the data (v1 or undecided output) covers the ones before it: commits are
    // cumulative, so only the newest is told. A forwarded one is told each: its echo names it.
    const last = this.untold.at(-1);
    if (last && !last.forwarded && !checkpoint.forwarded)
      this.untold[this.untold.length - 1] = checkpoint;
    else this.untold.push(checkpoint);
  }

  /**
   * Tells the main thread the checkpoints met: a cut-out one after the bytes before it were
   * written; a forwarded one before or after the bytes holding it (the main thread keeps an echo
   * that arrives first until it is told). `now`: whatever the time since the last message.
   */
  private tellCheckpoints(now = false): void {
    if (this.untold.length === 0) return;
    const at = performance.now();
    if (!now && this.untold.length < TELL_MAX_UNTOLD && at - this.toldAt < TELL_INTERVAL_MS) return;
    this.toldAt = at;
    const told = this.untold;
    this.untold = [];
    this.events.onCheckpoints(told);
  }

  /** Follows the main thread's decision of the output's protocol (one atomic load per chunk). */
  private updateCheckpointMode(): void {
    const mode = checkpointModeFor(outputProtocolOf(this.config.counters));
    this.checkpointMode = mode;
    // Forwarded lines stay in the data written; a dropped one is told once the lines before it are.
    this.framer.checkpointsInPlace = mode === "forward";
  }

  private readBufferBytes(): number {
    return Math.max(1, Math.min(this.config.limits.bufferBytes, MAX_READ_BUFFER_BYTES));
  }

  /** A last line without newline is whole only if the input ended cleanly: wait to know. */
  private finishLastLine(emit: (bytes: Uint8Array, lines: number) => void): void {
    if (this.framer.pendingLength === 0) return;
    if (waitInputEnd(this.config.counters, INPUT_END_WAIT_MS) === InputEnd.CUT) {
      this.cutLineBytes = this.framer.dropPending();
      return;
    }
    this.framer.finish(emit);
  }

  private push(chunk: Uint8Array, emit: (bytes: Uint8Array, lines: number) => void): void {
    if (this.checkpointMode === "undecided") this.updateCheckpointMode();
    this.counters.setBuffered(chunk.length + this.framer.pendingLength);
    try {
      this.framer.push(chunk, emit);
    } finally {
      // Also after a line too long: what is held now, not the chunk that failed.
      this.counters.setBuffered(this.framer.pendingLength);
    }
    this.tellCheckpoints();
    this.reportEmpty();
  }

  /** Reads until the first line can be judged; a handshake there is consumed. */
  private readFirstLine(buffer: Uint8Array): {
    rest: Uint8Array;
    ended: boolean;
    end?: RelayEnd;
    v2?: boolean;
  } {
    let taken: Uint8Array = new Uint8Array(0);
    let ended = false;
    while (!firstLineComplete(taken)) {
      const count = readSome(this.config.inputFd, buffer);
      if (count === 0) {
        ended = true;
        break;
      }
      taken = Buffer.concat([taken, buffer.subarray(0, count)]);
    }
    const verdict = examineFirstLine(taken);
    this.events.onInputFirstLine(verdict.handshake);
    if (verdict.handshake?.status === "error") {
      return {
        rest: taken,
        ended,
        end: { kind: "handshake-error", message: verdict.handshake.message },
      };
    }
    if (verdict.notProtocol)
      return { rest: taken, ended, end: { kind: "not-protocol", preview: verdict.preview } };
    return { rest: taken.subarray(verdict.skip), ended, v2: speaksV2(verdict.handshake) };
  }

  /** After a failure: read the input to its end so a writer blocked on a full pipe can act on SIGTERM. */
  drainInput(): void {
    const buffer = new Uint8Array(this.readBufferBytes());
    try {
      while (readSome(this.config.inputFd, buffer) > 0) {
        // Discarded: the task has failed and the output is closed.
      }
    } catch {
      // The input is gone.
    }
    closeQuietly(this.config.inputFd);
  }

  /** Writes lines of data and counts them. */
  private write(bytes: Uint8Array, lines: number): void {
    this.tellCheckpoints();
    try {
      this.writeAll(bytes);
    } catch (error) {
      if (!(error instanceof OutputClosed)) throw error;
      // The lines that went into the pipe before it broke were relayed; the rest are in flight.
      this.unwrittenLines = countNewlines(bytes.subarray(bytes.length - this.unwritten));
      this.count(lines - this.unwrittenLines, bytes.length - this.unwritten);
      throw error;
    }
    this.count(lines, bytes.length);
  }

  private readonly checkpointBytes = new CheckpointBytes();

  private count(lines: number, bytes: number): void {
    this.lines += lines;
    this.counters.add(Slot.LINES, lines);
    this.counters.add(Slot.BYTES, this.checkpointBytes.eventBytes(bytes));
  }

  /** Writes all of `bytes`; a write the full pipe refuses (EAGAIN) is a backpressure event. */
  private writeAll(bytes: Uint8Array): void {
    let offset = 0;
    while (offset < bytes.length) {
      try {
        offset += writeSync(this.config.outputFd, bytes, offset, bytes.length - offset);
      } catch (error) {
        const code = errorCode(error);
        if (code === "EINTR") continue;
        if (code === "EAGAIN") {
          this.waitForOutput();
          continue;
        }
        this.unwritten = bytes.length - offset;
        throw new OutputClosed(
          code === "EPIPE" ? "it closed its stdin" : `write failed: ${code ?? error}`,
        );
      }
    }
  }

  private waitForOutput(): void {
    this.tellCheckpoints(true);
    const started = performance.now();
    this.counters.add(Slot.WAITS, 1);
    waitWritable(this.config.outputFd, POLL_SLICE_MS);
    this.waitedMs += performance.now() - started;
    this.counters.set(Slot.WAIT_MS, Math.round(this.waitedMs));
  }

  private reportEmpty(): void {
    const empty = this.framer.emptyLines;
    this.counters.add(Slot.EMPTY_LINES, empty - this.emptyReported);
    this.emptyReported = empty;
  }
}
