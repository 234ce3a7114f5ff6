// Turns SIGTERM/SIGINT into an AbortSignal; a second signal ends the process at once (exit 130).
export interface StopSignal {
  signal: AbortSignal;
  /** Resolves after `ms`, or at once when stopped. */
  sleep(ms: number): Promise<void>;
  /** Removes the signal handlers. */
  dispose(): void;
}

const signals = ["SIGTERM", "SIGINT"] as const;

export function listenForStop(): StopSignal {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
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
    dispose() {
      for (const name of signals) process.off(name, onSignal);
    },
  };
}
