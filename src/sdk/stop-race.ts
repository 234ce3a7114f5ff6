// Races each step of a loop against the stop signal without leaking: one abort listener for the
// whole loop (racing a long-lived promise would retain one reaction per step until it settles).

export const STOPPED = Symbol("stopped");

export class StopRace {
  #wake: ((value: typeof STOPPED) => void) | undefined;
  readonly #signal: AbortSignal;
  readonly #onAbort = () => this.#wake?.(STOPPED);

  constructor(signal: AbortSignal) {
    this.#signal = signal;
    signal.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** The step's value, or STOPPED when the signal fires first (the step keeps running). */
  race<T>(step: Promise<T>): Promise<T | typeof STOPPED> {
    if (this.#signal.aborted) return Promise.resolve(STOPPED);
    return new Promise((resolve, reject) => {
      this.#wake = resolve;
      step.then(resolve, reject);
    });
  }

  dispose(): void {
    this.#wake = undefined;
    this.#signal.removeEventListener("abort", this.#onAbort);
  }
}
