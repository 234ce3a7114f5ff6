// Checkpoints an input hands the SDK, and the cadence at which the SDK writes them as lines.
import { checkpointLine } from "../protocol/index.ts";

/** A position of the input's own (an LSN, offsets, a cursor): every event yielded before it is covered. */
export class Checkpoint {
  constructor(readonly value: unknown) {}
}

export interface CheckpointCadence {
  /** A checkpoint line goes out at least after this many events (default 1000)... */
  events?: number;
  /** ...or this many milliseconds after a new position was given (default 100). */
  ms?: number;
}

export const defaultCheckpointCadence: Required<CheckpointCadence> = { events: 1000, ms: 100 };

/**
 * Holds the latest position an input gave and decides when it goes out as a line: positions are
 * cumulative, so only the newest is ever written.
 */
export class CheckpointSchedule {
  readonly #cadence: Required<CheckpointCadence>;
  #latest: { value: unknown } | undefined;
  #eventsSinceLine = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    cadence: CheckpointCadence | undefined,
    /** Called when a position has waited `ms`: the pump writes it at the next line end. */
    private readonly onDue: () => void,
  ) {
    this.#cadence = { ...defaultCheckpointCadence, ...cadence };
  }

  /** An event went out; true when the cadence says a checkpoint line is due now. */
  countEvent(): boolean {
    this.#eventsSinceLine++;
    return this.#latest !== undefined && this.#eventsSinceLine >= this.#cadence.events;
  }

  /** A new position: due now if enough events went by, else within `ms`. */
  update(value: unknown): boolean {
    this.#latest = { value };
    if (this.#eventsSinceLine >= this.#cadence.events) return true;
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.onDue();
    }, this.#cadence.ms);
    return false;
  }

  /** The line for the newest position not yet written, or undefined. */
  take(): string | undefined {
    if (this.#latest === undefined) return undefined;
    const line = checkpointLine(this.#latest.value);
    this.#latest = undefined;
    this.#eventsSinceLine = 0;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return line;
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
