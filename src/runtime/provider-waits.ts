// Bounded waits for the session's questions about how a provider ended.
import { TIMED_OUT, waitAtMost } from "../bounded-wait.ts";
import type { ProviderExit } from "./provider-exit.ts";
import type { ProviderProcess } from "./provider-process.ts";

/** How long the relay waits at EOF to learn whether the input ended cleanly. */
const INPUT_END_WAIT_MS = 5000;
/** After a write to the output fails, how long to wait for its exit status to explain why. */
export const OUTPUT_EXIT_WAIT_MS = 1000;

/** The provider's exit, or undefined when it has not exited within `ms`. */
export async function exitWithin(
  provider: ProviderProcess,
  ms: number,
): Promise<ProviderExit | undefined> {
  const exit = await waitAtMost(provider.exitStatus(), ms);
  return exit === TIMED_OUT ? undefined : exit;
}

/**
 * Whether the input's last line without newline is whole: yes unless the input is known to have
 * been cut off (a non-zero exit within INPUT_END_WAIT_MS). One that closed its stdout but lives on
 * is taken at its word, as the relay worker does when it cannot learn the end in time.
 */
export async function lastLineIsWhole(input: ProviderProcess): Promise<boolean> {
  const exit = await exitWithin(input, INPUT_END_WAIT_MS);
  return exit === undefined || exit.exitCode === 0;
}

/** Whether `promise` settles (either way) within `ms`. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const settled = promise.then(
    () => true,
    () => true,
  );
  return (await waitAtMost(settled, ms)) !== TIMED_OUT;
}
