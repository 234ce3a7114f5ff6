// Waits with a bound, for the session's questions about how a provider ended.
import type { ProviderExit } from "./provider-exit.ts";
import type { ProviderProcess } from "./provider-process.ts";

/** How long the relay waits at EOF to learn whether the input ended cleanly. */
const INPUT_END_WAIT_MS = 5000;
/** After a write to the output fails, how long to wait for its exit status to explain why. */
export const OUTPUT_EXIT_WAIT_MS = 1000;

export async function exitWithin(
  provider: ProviderProcess,
  ms: number,
): Promise<ProviderExit | undefined> {
  let timer: Timer | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    return await Promise.race([provider.exited(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether the input exited 0; one that closed stdout but lives on counts as clean after a while. */
export async function endedCleanly(input: ProviderProcess): Promise<boolean> {
  const clean = input.exited().then((exit) => exit.exitCode === 0);
  return (await settlesWithin(clean, INPUT_END_WAIT_MS)) ? clean : true;
}

/** Whether `promise` settles (either way) within `ms`. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: Timer | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = promise.then(
    () => true,
    () => true,
  );
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
