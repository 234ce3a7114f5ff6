// The one owner of a session's timers: each has a name, so a reader sees every wait the run can be
// in, and dispose() clears them all, so no timer outlives its run.

/** Every timed wait of a run. */
export type SessionTimerName =
  /** After the first failure: providers still running then are killed. */
  | "kill"
  /** After the relay ended: an input that closed its stdout but lives on fails the run. */
  | "linger"
  /** After the output's EOF: a notice that it takes long to exit. */
  | "slow-output"
  /** After the start: an input silent this long is v1, and its stdin is closed. */
  | "input-first-line"
  /** After a v2 input's handshake: an output silent this long is v1. */
  | "output-handshake";

/** The little of a timer this owner needs; the system's, or a test's fake. */
export interface ClockTimer {
  unref(): unknown;
}

export interface Clock {
  setTimeout(action: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer): void;
}

const systemClock: Clock = {
  setTimeout: (action, ms) => setTimeout(action, ms),
  clearTimeout: (timer) => clearTimeout(timer as Timer),
};

export interface TimerOptions {
  /** Never what keeps dstream alive (a wait that only matters while providers still run). */
  unref?: boolean;
}

export class SessionTimers {
  private readonly pending = new Map<SessionTimerName, ClockTimer>();
  private disposed = false;

  constructor(private readonly clock: Clock = systemClock) {}

  /** Runs `action` once after `ms`; one timer per name, so setting a pending one is a bug. */
  after(name: SessionTimerName, ms: number, action: () => void, options: TimerOptions = {}): void {
    if (this.disposed) throw new Error(`session timer "${name}" set after the run ended`);
    if (this.pending.has(name)) throw new Error(`session timer "${name}" is already set`);
    const timer = this.clock.setTimeout(() => {
      this.pending.delete(name);
      action();
    }, ms);
    if (options.unref) timer.unref();
    this.pending.set(name, timer);
  }

  /** Clears the named timer; one that fired or was never set is not an error. */
  cancel(name: SessionTimerName): void {
    const timer = this.pending.get(name);
    if (!timer) return;
    this.clock.clearTimeout(timer);
    this.pending.delete(name);
  }

  /** Clears every timer; later `after` calls are refused. Safe to call more than once. */
  dispose(): void {
    for (const timer of this.pending.values()) this.clock.clearTimeout(timer);
    this.pending.clear();
    this.disposed = true;
  }
}
