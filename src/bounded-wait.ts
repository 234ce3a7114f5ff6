// The one bounded wait: a promise raced against a timer that never outlives the race.

/** What a bounded wait answers when the bound came first. */
export const TIMED_OUT: unique symbol = Symbol("timed out");

/**
 * `promise`'s value, or TIMED_OUT when it has not settled within `ms`; a rejection within the bound
 * rejects. The promise itself goes on: stopping it is the caller's business.
 */
export async function waitAtMost<T>(
  promise: Promise<T>,
  ms: number,
): Promise<T | typeof TIMED_OUT> {
  let timer: Timer | undefined;
  const bound = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, ms));
  });
  try {
    return await Promise.race([promise, bound]);
  } finally {
    clearTimeout(timer);
  }
}
