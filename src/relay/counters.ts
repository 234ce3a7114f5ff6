// The relay's live counters in a SharedArrayBuffer: the relay writes (the worker thread, or the
// stream pump on the main thread), the display reads with Atomics, no message per line. Each slot
// has exactly one writer; INPUT_END is the one the main thread writes for the relay to read.

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
} as const;
const SLOT_COUNT = 8;

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
  };
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
