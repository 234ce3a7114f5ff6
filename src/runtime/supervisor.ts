// Turns stop signals into an ordered stop of a running session and bounds every wait: the first
// SIGINT/SIGTERM drains, the shutdown timeout or a second signal kills.
import { Session, type SessionConfig, type SessionReport } from "./session.ts";

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

/** Signals that stop a run in order; SIGHUP too, as when the terminal or SSH session closes. */
export const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** How long to wait for the session's report after SIGKILLing the providers. */
const KILL_GRACE_MS = 3000;

export async function superviseSession(options: SuperviseOptions): Promise<SuperviseOutcome> {
  const session = new Session(options.config);
  let stopSignals = 0;
  let forcedBy: string | undefined;
  let timedOut = false;
  let shutdownTimer: Timer | undefined;
  let graceTimer: Timer | undefined;
  let giveUp: () => void = () => {};
  const gaveUp = new Promise<undefined>((resolve) => {
    giveUp = () => resolve(undefined);
  });
  const killAndWait = () => {
    session.kill();
    graceTimer ??= setTimeout(giveUp, KILL_GRACE_MS);
  };

  const onSignal = (signal: NodeJS.Signals) => {
    stopSignals++;
    if (stopSignals === 1) {
      options.onStopRequested?.(signal);
      session.stop();
      shutdownTimer = setTimeout(() => {
        timedOut = true;
        killAndWait();
      }, options.shutdownTimeoutMs);
      return;
    }
    forcedBy = signal;
    killAndWait();
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  try {
    const report = await Promise.race([session.run(), gaveUp]);
    if (forcedBy) return { kind: "forced", signal: forcedBy, ...(report ? { report } : {}) };
    if (timedOut || !report) return { kind: "timed-out", ...(report ? { report } : {}) };
    return { kind: "finished", report };
  } finally {
    clearTimeout(shutdownTimer);
    clearTimeout(graceTimer);
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  }
}
