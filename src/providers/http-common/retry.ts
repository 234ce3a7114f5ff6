// When to try an HTTP request again and how long to wait: Retry-After for 429/503, exponential
// backoff with jitter for other 5xx and network errors, both bounded.

export interface RetryPolicy {
  /** Retries after the first attempt (0 = fail at the first problem). */
  maxRetries: number;
  /** The first backoff; each next one doubles, up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
}

/** A Retry-After longer than this is not waited for: the request fails saying what was asked. */
export const MAX_RETRY_AFTER_MS = 15 * 60 * 1000;

/** Statuses that say "come back later" and may carry Retry-After. */
export function isThrottle(status: number): boolean {
  return status === 429 || status === 503;
}

export function isRetryableStatus(status: number): boolean {
  return isThrottle(status) || (status >= 500 && status <= 599);
}

/** Milliseconds a Retry-After header asks for (delay-seconds or an HTTP date), or undefined. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** The wait before retry number `retry` (1-based): half to all of the doubled backoff ("equal jitter"). */
export function backoffDelayMs(policy: RetryPolicy, retry: number, random = Math.random): number {
  const ceiling = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** (retry - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
