// Pumps lines from the input's stdout to the output's stdin: bytes only, bounded buffering, live
// counters. It stops reading while the output is behind, so the input blocks on its own pipe.
import {
  CheckpointBytes,
  type CheckpointMode,
  countCheckpoint,
  type RelayedCheckpoint,
  readCheckpoint,
} from "./checkpoints.ts";
import { CounterWriter, Slot } from "./counters.ts";
import { LineFramer } from "./line-framer.ts";
import type { RelayFigures } from "./messages.ts";

export interface PumpLimits {
  /** Bytes allowed in flight towards the output before reading pauses. */
  bufferBytes: number;
  maxLineBytes: number;
}

/** Bun's stream reader: readMany hands over every chunk already queued in one call. */
export interface ChunkReader {
  readMany():
    | Promise<{ done: boolean; value: Uint8Array[] }>
    | { done: boolean; value: Uint8Array[] };
}

/** Bun's FileSink: write/flush return a Promise while the pipe is full. */
export interface ChunkSink {
  write(bytes: Uint8Array): number | Promise<number>;
  flush(): number | Promise<number>;
}

/** A v2 input's checkpoints on this path: how they are relayed and who is told. */
export interface StreamCheckpoints {
  /** The mode now: follows the session's decision of the output's protocol. */
  mode(): CheckpointMode;
  report(checkpoint: RelayedCheckpoint): void;
}

export class LinePump {
  private readonly framer: LineFramer;
  /** Dropped checkpoints (v1 or undecided output) wait here until every line before them was written. */
  private heldCheckpoints: RelayedCheckpoint[] = [];
  private readonly counters: CounterWriter;
  private pendingWrites: Promise<number>[] = [];
  private pendingBytes = 0;
  private pendingLines = 0;
  private linesOut = 0;
  private emptyReported = 0;
  private waitedMs = 0;

  constructor(
    counterBuffer: SharedArrayBuffer,
    private readonly limits: PumpLimits,
  ) {
    this.framer = new LineFramer(limits.maxLineBytes);
    this.counters = new CounterWriter(counterBuffer);
  }

  /** The figures so far; the cut line is known only at the end (cutLineBytes). */
  progress(): Omit<RelayFigures, "cutLineBytes"> {
    return {
      // Lines in writes the output has not taken yet are in flight, not relayed.
      lines: this.linesOut - this.pendingLines,
      inFlightBytes: this.pendingBytes + this.framer.pendingLength,
      inFlightLines: this.pendingLines + (this.framer.pendingLength > 0 ? 1 : 0),
    };
  }

  /** A last line without newline, dropped because its input was cut off mid-line. */
  cutLineBytes = 0;

  /**
   * Runs until the reader ends; the caller closes the sink. Throws on a too-long line or a dead
   * output. `lastLineIsWhole` decides whether a last line without newline is whole.
   */
  async run(
    reader: ChunkReader,
    sink: ChunkSink,
    lastLineIsWhole: () => Promise<boolean>,
    checkpoints?: StreamCheckpoints,
  ): Promise<void> {
    if (checkpoints) this.relayCheckpoints(checkpoints);
    const emit = (bytes: Uint8Array, lines: number) => {
      const written: unknown = sink.write(bytes);
      if (!(written instanceof Promise) && typeof written !== "number") {
        // Bun's FileSink answers a boolean, not a count, once the pipe is gone: nothing was written.
        throw new Error("it closed its stdin");
      }
      this.linesOut += lines;
      if (typeof written === "number") {
        this.counters.add(Slot.LINES, lines);
        this.counters.add(Slot.BYTES, this.checkpointBytes.eventBytes(bytes.length));
        return;
      }
      // Its failure surfaces through settle() or flush(); a flush failing first must not leave
      // this rejection unhandled (that would crash dstream instead of failing the task).
      written.catch(() => {});
      this.pendingWrites.push(written);
      this.pendingBytes += bytes.length;
      this.pendingLines += lines;
    };
    for (;;) {
      const { done, value } = await reader.readMany();
      if (done) break;
      for (const chunk of value) {
        if (checkpoints) this.updateCheckpointMode(checkpoints);
        this.framer.push(chunk, emit);
        this.updateBuffered();
        if (this.pendingBytes >= this.limits.bufferBytes) await this.settle();
      }
      this.reportEmpty();
      // Flush after every batch so a slow input's lines are not held back in the sink's buffer.
      await this.waitFor(sink.flush());
      await this.settle();
      this.releaseCheckpoints(checkpoints);
    }
    if (this.framer.pendingLength > 0 && !(await lastLineIsWhole())) {
      this.cutLineBytes = this.framer.dropPending();
    } else {
      this.framer.finish(emit);
    }
    this.reportEmpty();
    await this.waitFor(sink.flush());
    await this.settle();
    this.releaseCheckpoints(checkpoints);
  }

  private checkpointMode: CheckpointMode = "undecided";

  private updateCheckpointMode(checkpoints: StreamCheckpoints): void {
    this.checkpointMode = checkpoints.mode();
    // Forwarded lines stay in the data written, as on the worker; dropped ones wait for theirs.
    this.framer.checkpointsInPlace = this.checkpointMode === "forward";
  }

  private relayCheckpoints(checkpoints: StreamCheckpoints): void {
    this.updateCheckpointMode(checkpoints);
    this.framer.onCheckpoint = (bytes, unemittedLines) => {
      const events = this.linesOut + unemittedLines;
      const checkpoint = readCheckpoint(bytes, events, this.checkpointMode);
      this.checkpointBytes.add(countCheckpoint(this.counters, bytes, this.checkpointMode));
      if (this.checkpointMode !== "forward") this.heldCheckpoints.push(checkpoint);
      // Told before the write: an echo never arrives before the session knows.
      else checkpoints.report(checkpoint);
    };
  }

  /** Every line before the held checkpoints has been written: they may be committed. */
  private releaseCheckpoints(checkpoints: StreamCheckpoints | undefined): void {
    if (!checkpoints || this.heldCheckpoints.length === 0) return;
    const released = this.heldCheckpoints;
    this.heldCheckpoints = [];
    for (const checkpoint of released) checkpoints.report(checkpoint);
  }

  private reportEmpty(): void {
    const empty = this.framer.emptyLines;
    this.counters.add(Slot.EMPTY_LINES, empty - this.emptyReported);
    this.emptyReported = empty;
  }

  private updateBuffered(): void {
    this.counters.setBuffered(this.pendingBytes + this.framer.pendingLength);
  }

  private readonly checkpointBytes = new CheckpointBytes();

  /** Waits for writes the output has not taken yet: a backpressure event. */
  private async settle(): Promise<void> {
    if (this.pendingWrites.length === 0) return;
    const writes = this.pendingWrites;
    this.pendingWrites = [];
    await this.waitFor(Promise.all(writes));
    this.counters.add(Slot.LINES, this.pendingLines);
    this.counters.add(Slot.BYTES, this.checkpointBytes.eventBytes(this.pendingBytes));
    this.pendingBytes = 0;
    this.pendingLines = 0;
    this.updateBuffered();
  }

  private async waitFor(result: unknown): Promise<void> {
    if (!(result instanceof Promise)) return;
    const started = performance.now();
    this.counters.add(Slot.WAITS, 1);
    await result;
    this.waitedMs += performance.now() - started;
    this.counters.set(Slot.WAIT_MS, Math.round(this.waitedMs));
  }
}

/** Reads to the end and drops the bytes, so the writer can finish and exit (after a failure). */
export async function discard(reader: ChunkReader): Promise<void> {
  try {
    for (;;) {
      const { done } = await reader.readMany();
      if (done) return;
    }
  } catch {
    // The writer is gone.
  }
}
