// Turns SIGTERM/SIGINT into an AbortSignal; a second signal, or a stop that takes too long, ends
// the process at once (exit 130, exit 1).
export interface StopSignal {
  signal: AbortSignal;
  /** Resolves after `ms`, or at once when stopped. */
  sleep(ms: number): Promise<void>;
  /** Stops the provider from within, as a signal would (a failure elsewhere, e.g. in onCommit). */
  stop(): void;
  /** Removes the signal handlers. */
  dispose(): void;
}

const signals = ["SIGTERM", "SIGINT"] as const;

/** How long a provider may take to flush and exit after a stop signal (dstream waits 10 s). */
export const stopGraceMs = 5000;

/** Past the grace period the provider exits on its own: a stop must never hang. */
function armStopDeadline(): void {
  const timer = setTimeout(() => {
    process.stderr.write(
      `error: did not finish within ${stopGraceMs} ms of the stop signal (is stdout being read?)\n`,
    );
    process.exit(1);
  }, stopGraceMs);
  // Unref'd: a provider that finishes in time exits without waiting for it.
  timer.unref();
}

export function listenForStop(): StopSignal {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    armStopDeadline();
    controller.abort();
  };
  for (const name of signals) process.on(name, onSignal);
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (controller.signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        controller.signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      controller.signal.addEventListener("abort", done);
    });
  return {
    signal: controller.signal,
    sleep,
    stop: () => controller.abort(),
    dispose() {
      for (const name of signals) process.off(name, onSignal);
    },
  };
}
