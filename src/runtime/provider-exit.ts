// How a provider process ended, and that in words: shared by the run's judgement and lifecycle
// commands, and free of process code so it can be judged without one.

export interface ProviderExit {
  exitCode: number | null;
  signal: string | null;
  stderrTail: string[];
}

/** "exited with code 3", "was killed by SIGKILL" */
export function describeExit(exit: Pick<ProviderExit, "exitCode" | "signal">): string {
  if (exit.signal) return `was killed by ${exit.signal}`;
  return `exited with code ${exit.exitCode}`;
}
