// Frames a byte stream into lines by scanning for "\n": complete lines pass through as subarrays of
// the chunk they arrived in (no copy); only a line split across chunks is joined, once. Protocol v2:
// checkpoint lines, told by their first bytes, are handed on apart from the data around them.
import { isCheckpointLine } from "../protocol/index.ts";

export class LineTooLongError extends Error {
  constructor(
    readonly lineNumber: number,
    readonly maxLineBytes: number,
  ) {
    super(`line ${lineNumber} is longer than --max-line-bytes (${maxLineBytes} bytes)`);
  }
}

const NEWLINE = 10;
/**
 * A checkpoint line may be longer than --max-line-bytes (a file input's names its files): it is
 * bounded by this instead, or by the line limit when that is higher.
 */
export const CHECKPOINT_MAX_BYTES = 1 << 20;
const CARRIAGE_RETURN = 13;
const NEWLINE_BYTES = new Uint8Array([NEWLINE]);

/** Receives output regions; each is whole lines ending in "\n". */
export type Emit = (bytes: Uint8Array, lines: number) => void;

/**
 * Receives one checkpoint line with its "\n": cut out, after the data before it was emitted; in
 * place, before the region holding it is, `unemittedLines` of that region's lines preceding it.
 */
export type OnCheckpoint = (line: Uint8Array, unemittedLines: number) => void;

export class LineFramer {
  /** Lines seen so far, empty ones included (for error line numbers). */
  private seen = 0;
  private emptyCount = 0;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  /**
   * @param reusesChunks the caller overwrites a chunk after push returns (one read buffer), so a
   *   partial line is copied instead of kept as a view.
   */
  /** Set once the input speaks protocol v2: its checkpoint lines are told here. */
  onCheckpoint: OnCheckpoint | undefined;
  /**
   * Forwarded (a v2 output): a checkpoint line stays in place in the bytes emitted, told before
   * them and not counted as a line. Otherwise (v1 output) it is cut out of the data.
   */
  checkpointsInPlace = false;

  constructor(
    private readonly maxLineBytes: number,
    private readonly reusesChunks = false,
  ) {}

  get emptyLines(): number {
    return this.emptyCount;
  }

  /** Bytes held for a line whose newline has not arrived yet. */
  get pendingLength(): number {
    return this.pendingBytes;
  }

  push(chunk: Uint8Array, emit: Emit): void {
    let position = 0;
    if (this.pendingBytes > 0) {
      const newline = chunk.indexOf(NEWLINE);
      if (newline === -1) {
        this.hold(chunk);
        return;
      }
      this.completePending(chunk.subarray(0, newline + 1), emit);
      position = newline + 1;
    }
    let regionStart = position;
    let lineStart = position;
    let lines = 0;
    for (;;) {
      const newline = chunk.indexOf(NEWLINE, lineStart);
      if (newline === -1) break;
      const length = newline - lineStart;
      this.seen++;
      if (length > this.maxLineBytes && length > this.limitOf(chunk, lineStart, newline)) {
        // Lines before the bad one are delivered: nothing valid is lost.
        if (lineStart > regionStart) emit(chunk.subarray(regionStart, lineStart), lines);
        throw new LineTooLongError(this.seen, this.maxLineBytes);
      }
      if (length === 0 || (length === 1 && chunk[lineStart] === CARRIAGE_RETURN)) {
        if (lineStart > regionStart) emit(chunk.subarray(regionStart, lineStart), lines);
        lines = 0;
        regionStart = newline + 1;
        this.emptyCount++;
      } else if (this.onCheckpoint && isCheckpointLine(chunk, lineStart, newline)) {
        if (this.checkpointsInPlace) {
          this.onCheckpoint(chunk.subarray(lineStart, newline + 1), lines);
        } else {
          if (lineStart > regionStart) emit(chunk.subarray(regionStart, lineStart), lines);
          lines = 0;
          regionStart = newline + 1;
          this.onCheckpoint(chunk.subarray(lineStart, regionStart), 0);
        }
      } else {
        lines++;
      }
      lineStart = newline + 1;
    }
    if (lineStart > regionStart) emit(chunk.subarray(regionStart, lineStart), lines);
    if (lineStart < chunk.length) this.hold(chunk.subarray(lineStart));
  }

  /** Drops a partial last line (its writer was cut off mid-line); returns how many bytes it had. */
  dropPending(): number {
    const dropped = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    return dropped;
  }

  /** Delivers a last line that had no newline, with one added. */
  finish(emit: Emit): void {
    if (this.pendingBytes === 0) return;
    this.completePending(NEWLINE_BYTES, emit);
  }

  /** The longest the line starting at `start` may be: more for a checkpoint line. */
  private limitOf(bytes: Uint8Array, start: number, end: number): number {
    if (!this.onCheckpoint || !isCheckpointLine(bytes, start, end)) return this.maxLineBytes;
    return Math.max(this.maxLineBytes, CHECKPOINT_MAX_BYTES);
  }

  private hold(piece: Uint8Array): void {
    const total = this.pendingBytes + piece.length;
    const first = this.pending[0] ?? piece;
    if (total > this.maxLineBytes && total > this.limitOf(first, 0, first.length)) {
      // The line is rejected whole: nothing of it stays held, so none of it counts as in flight.
      this.pending = [];
      this.pendingBytes = 0;
      throw new LineTooLongError(this.seen + 1, this.maxLineBytes);
    }
    this.pending.push(this.reusesChunks ? piece.slice() : piece);
    this.pendingBytes += piece.length;
  }

  /** Joins the held pieces with `end` (which ends in "\n") into one line: the only copy. */
  private completePending(end: Uint8Array, emit: Emit): void {
    const line = new Uint8Array(this.pendingBytes + end.length);
    let offset = 0;
    for (const piece of this.pending) {
      line.set(piece, offset);
      offset += piece.length;
    }
    line.set(end, offset);
    this.pending = [];
    this.pendingBytes = 0;
    this.seen++;
    const length = line.length - 1;
    if (length > this.maxLineBytes && length > this.limitOf(line, 0, length)) {
      throw new LineTooLongError(this.seen, this.maxLineBytes);
    }
    if (length === 0 || (length === 1 && line[0] === CARRIAGE_RETURN)) {
      this.emptyCount++;
      return;
    }
    if (this.onCheckpoint && isCheckpointLine(line, 0, length)) {
      this.onCheckpoint(line, 0);
      if (this.checkpointsInPlace) emit(line, 0);
      return;
    }
    emit(line, 1);
  }
}
