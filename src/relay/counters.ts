// The relay's live counters in a SharedArrayBuffer: the relay writes (the worker thread, or the
// stream pump on the main thread), the display reads with Atomics, no message per line. Each slot
// has exactly one writer; INPUT_END and OUTPUT_PROTOCOL are written by the main thread for the relay
// to read, ACKED_LINES and COMMITTED_AT by the main thread for the display.

export const Slot = {
  /** Lines delivered to the output. */
  LINES: 0,
  /** Bytes delivered to the output. */
  BYTES: 1,
  /** Empty lines dropped. */
  EMPTY_LINES: 2,
  /** Writes that had to wait for the output (backpressure events). */
  WAITS: 3,
  /** Milliseconds spent waiting for the output. */
  WAIT_MS: 4,
  /** Bytes read from the input and not yet handed to the output's pipe. */
  BUFFERED: 5,
  /** Highest BUFFERED seen. */
  BUFFERED_MAX: 6,
  /** How the input ended, written by the main thread (InputEnd); read by the relay at EOF. */
  INPUT_END: 7,
  /** Checkpoint lines the relay passed (forwarded or dropped). */
  CHECKPOINTS: 8,
  /** The output's protocol (0 unknown, 1, 2), written by the main thread; read by the relay. */
  OUTPUT_PROTOCOL: 9,
  /** Events covered by the last committed checkpoint, written by the main thread. */
  ACKED_LINES: 10,
  /** When the last checkpoint was committed (epoch ms, 0 never), written by the main thread. */
  COMMITTED_AT: 11,
} as const;
const SLOT_COUNT = 12;

export const InputEnd = {
  UNKNOWN: 0n,
  /** Exited 0: a last line without newline is whole and gets one. */
  CLEAN: 1n,
  /** Crashed or killed: a last line without newline was cut off and is dropped. */
  CUT: 2n,
} as const;

export interface CounterSnapshot {
  lines: number;
  bytes: number;
  emptyLines: number;
  waits: number;
  waitMs: number;
  buffered: number;
  bufferedMax: number;
  checkpoints: number;
  ackedLines: number;
  /** Epoch ms of the last commit, 0 when none. */
  committedAt: number;
}

export function createCounterBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(SLOT_COUNT * BigInt64Array.BYTES_PER_ELEMENT);
}

/** Writer side, used only by the relay. */
export class CounterWriter {
  private readonly slots: BigInt64Array;

  constructor(buffer: SharedArrayBuffer) {
    this.slots = new BigInt64Array(buffer);
  }

  add(slot: number, amount: number): void {
    if (amount !== 0) Atomics.add(this.slots, slot, BigInt(amount));
  }

  set(slot: number, value: number | bigint): void {
    Atomics.store(this.slots, slot, BigInt(value));
  }

  /** Records the current buffered bytes and raises BUFFERED_MAX when exceeded. */
  setBuffered(bytes: number): void {
    const value = BigInt(bytes);
    Atomics.store(this.slots, Slot.BUFFERED, value);
    if (value > Atomics.load(this.slots, Slot.BUFFERED_MAX)) {
      Atomics.store(this.slots, Slot.BUFFERED_MAX, value);
    }
  }
}

/** Reader side: never blocks the writer. */
export function readCounters(buffer: SharedArrayBuffer): CounterSnapshot {
  const slots = new BigInt64Array(buffer);
  const read = (slot: number) => Number(Atomics.load(slots, slot));
  return {
    lines: read(Slot.LINES),
    bytes: read(Slot.BYTES),
    emptyLines: read(Slot.EMPTY_LINES),
    waits: read(Slot.WAITS),
    waitMs: read(Slot.WAIT_MS),
    buffered: read(Slot.BUFFERED),
    bufferedMax: read(Slot.BUFFERED_MAX),
    checkpoints: read(Slot.CHECKPOINTS),
    ackedLines: read(Slot.ACKED_LINES),
    committedAt: read(Slot.COMMITTED_AT),
  };
}

/** Main thread: the output's protocol is known (1 or 2), once; the relay reads it per chunk. */
export function markOutputProtocol(buffer: SharedArrayBuffer, protocol: 1 | 2): void {
  Atomics.compareExchange(new BigInt64Array(buffer), Slot.OUTPUT_PROTOCOL, 0n, BigInt(protocol));
}

/** The output's protocol as decided (0 while unknown). */
export function outputProtocolOf(buffer: SharedArrayBuffer): number {
  return Number(Atomics.load(new BigInt64Array(buffer), Slot.OUTPUT_PROTOCOL));
}

/** Main thread: a checkpoint covering `lines` events was committed now. */
export function markCommitted(buffer: SharedArrayBuffer, lines: number, at: number): void {
  const slots = new BigInt64Array(buffer);
  Atomics.store(slots, Slot.ACKED_LINES, BigInt(lines));
  Atomics.store(slots, Slot.COMMITTED_AT, BigInt(at));
}

/** Main thread: records how the input process ended, and wakes a relay waiting at EOF. */
export function markInputEnd(buffer: SharedArrayBuffer, clean: boolean): void {
  const slots = new BigInt64Array(buffer);
  Atomics.store(slots, Slot.INPUT_END, clean ? InputEnd.CLEAN : InputEnd.CUT);
  Atomics.notify(slots, Slot.INPUT_END);
}

/** Relay worker: waits (bounded) for the input's end to be known; UNKNOWN after the timeout. */
export function waitInputEnd(buffer: SharedArrayBuffer, timeoutMs: number): bigint {
  const slots = new BigInt64Array(buffer);
  Atomics.wait(slots, Slot.INPUT_END, InputEnd.UNKNOWN, timeoutMs);
  return Atomics.load(slots, Slot.INPUT_END);
}
