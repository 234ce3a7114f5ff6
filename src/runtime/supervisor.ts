// Supervision of what dstream starts, for `run` and the lifecycle commands alike: stop signals (the
// first asks to stop, a later one forces), every wait bounded, and SIGKILL at the end of each bound.
import { TIMED_OUT, waitAtMost } from "../bounded-wait.ts";
import { Session, type SessionConfig, type SessionReport } from "./session.ts";

/** Signals that stop a run in order; SIGHUP too, as when the terminal or SSH session closes. */
const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** How long to wait for a result after SIGKILLing what was supervised. */
const KILL_GRACE_MS = 3000;

/** Started providers as supervision sees them: a result to await, and two ways to end them. */
export interface Supervisable<R> {
  readonly result: Promise<R>;
  /** Asks them to end (SIGTERM): what they have done so far still counts. */
  stop(): void;
  /** SIGKILL. */
  kill(): void;
}

interface StopListener {
  stop(signal: NodeJS.Signals): void;
  force(signal: NodeJS.Signals): void;
}

/**
 * The stop signals for as long as dstream supervises anything, across one or more supervised
 * parts: a signal reaches the part supervised now, and one that came earlier reaches the next.
 */
export class StopSignals {
  /** The first stop signal, once one came. */
  stoppedBy: NodeJS.Signals | undefined;
  /** A later one: the stop was forced. */
  forcedBy: NodeJS.Signals | undefined;
  #listener: StopListener | undefined;
  readonly #onSignal = (signal: NodeJS.Signals) => {
    if (this.stoppedBy === undefined) {
      this.stoppedBy = signal;
      this.#listener?.stop(signal);
    } else {
      this.forcedBy = signal;
      this.#listener?.force(signal);
    }
  };

  constructor() {
    for (const signal of STOP_SIGNALS) process.on(signal, this.#onSignal);
  }

  /** `listener` hears the signals from now on, those that already came at once. */
  listen(listener: StopListener | undefined): void {
    this.#listener = listener;
    if (listener && this.stoppedBy) listener.stop(this.stoppedBy);
    if (listener && this.forcedBy) listener.force(this.forcedBy);
  }

  dispose(): void {
    this.#listener = undefined;
    for (const signal of STOP_SIGNALS) process.off(signal, this.#onSignal);
  }
}

export interface SuperviseBounds {
  /** From the first stop signal: how long a graceful stop may take (run's --shutdown-timeout). */
  stopTimeoutMs?: number;
  /** From the start: how long it may take at all (a lifecycle command's --timeout). */
  deadlineMs?: number;
  /** Called on the first stop signal, e.g. to tell the user what is happening. */
  onStopRequested?: (signal: string) => void;
}

export interface Supervised<R> {
  /** Undefined when it was killed and gave no result within KILL_GRACE_MS. */
  result: R | undefined;
  /** A bound ran out (the deadline, or the stop timeout after a signal) and it was killed. */
  timedOut: boolean;
}

/**
 * Awaits `part`'s result under `signals` and `bounds`: a stop signal stops it, a second one or a
 * bound that runs out kills it, and after a kill its result gets KILL_GRACE_MS, no more.
 */
export async function supervise<R>(
  part: Supervisable<R>,
  signals: StopSignals,
  bounds: SuperviseBounds = {},
): Promise<Supervised<R>> {
  let timedOut = false;
  let stopTimer: Timer | undefined;
  let killed: () => void = () => {};
  const kill = new Promise<void>((resolve) => {
    killed = resolve;
  });
  const killAndWait = () => {
    part.kill();
    killed();
  };
  const runOut = () => {
    timedOut = true;
    killAndWait();
  };
  const deadline =
    bounds.deadlineMs === undefined ? undefined : setTimeout(runOut, bounds.deadlineMs);
  signals.listen({
    stop: (signal) => {
      bounds.onStopRequested?.(signal);
      part.stop();
      if (bounds.stopTimeoutMs !== undefined)
        stopTimer ??= setTimeout(runOut, bounds.stopTimeoutMs);
    },
    force: killAndWait,
  });
  const afterKill = kill.then(() => waitAtMost(part.result, KILL_GRACE_MS));
  try {
    const result = await Promise.race([part.result, afterKill]);
    return { result: result === TIMED_OUT ? undefined : result, timedOut };
  } finally {
    clearTimeout(deadline);
    clearTimeout(stopTimer);
    signals.listen(undefined);
  }
}

export interface SuperviseOptions {
  config: SessionConfig;
  shutdownTimeoutMs: number;
  /** Called on the first stop signal, e.g. to tell the user what is happening. */
  onStopRequested?: (signal: string) => void;
}

export type SuperviseOutcome =
  | { kind: "finished"; report: SessionReport }
  /** A second signal: providers were killed at once. */
  | { kind: "forced"; signal: string; report?: SessionReport }
  /** Providers did not stop within the shutdown timeout after the first signal; they were killed. */
  | { kind: "timed-out"; report?: SessionReport };

/** A run: the first signal drains the session, the shutdown timeout or a second signal kills. */
export async function superviseSession(options: SuperviseOptions): Promise<SuperviseOutcome> {
  const session = new Session(options.config);
  const signals = new StopSignals();
  try {
    const { result: report, timedOut } = await supervise(
      { result: session.run(), stop: () => session.stop(), kill: () => session.kill() },
      signals,
      {
        stopTimeoutMs: options.shutdownTimeoutMs,
        ...(options.onStopRequested ? { onStopRequested: options.onStopRequested } : {}),
      },
    );
    const reported = report ? { report } : {};
    if (signals.forcedBy) return { kind: "forced", signal: signals.forcedBy, ...reported };
    if (timedOut || !report) return { kind: "timed-out", ...reported };
    return { kind: "finished", report };
  } finally {
    signals.dispose();
  }
}
