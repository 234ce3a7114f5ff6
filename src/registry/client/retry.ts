// The one retry policy of every registry request: which failures are worth another try, the pause
// before it, and one budget per request that its answer, its body and its upload session share.
import { errorCode } from "../../errors.ts";
import { RegistryTimeout } from "./progress-timeout.ts";

/** Tries per request: the first and three retries. */
export const ATTEMPTS = 4;
/** Each try without a byte from the registry costs a whole timeout: one silent twice is down. */
const SILENT_ATTEMPTS = 2;
const FIRST_BACKOFF_MS = 200;
const MAX_RETRY_AFTER_MS = 10_000;

const retryStatuses = new Set([429, 500, 502, 503, 504]);

export function isRetryableStatus(status: number): boolean {
  return retryStatuses.has(status);
}

/**
 * fetch's errors that another try cannot change: a malformed URL, a server that does not speak TLS
 * (EPROTO), and a certificate refused (self-signed or unknown CA, expired, for another host).
 */
const permanentCodes = new Set(["ERR_INVALID_URL", "EPROTO"]);

/** The codes Bun gives a certificate it refuses, e.g. DEPTH_ZERO_SELF_SIGNED_CERT, CERT_HAS_EXPIRED. */
const certificateCode =
  /^(CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED|SELF_SIGNED_CERT|ERR_TLS_CERT_|HOSTNAME_MISMATCH)/;

export function isCertificateError(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && certificateCode.test(code);
}

export function isRetryableError(error: unknown): boolean {
  const code = errorCode(error);
  if (code === undefined) return true;
  return !permanentCodes.has(code) && !certificateCode.test(code);
}

/** The registry sent nothing for a whole timeout: no answer, or no byte of a body. */
export function isSilence(error: unknown): boolean {
  return error instanceof RegistryTimeout && error.waiting !== "upload";
}

/**
 * The failed tries of one request, counted across everything the request does: a download's
 * re-fetches after its body broke off, an upload's new sessions. Hops that went well (an answered
 * auth challenge, a redirect to blob storage, an upload session opened) cost nothing.
 */
export class RetryBudget {
  /** Tries that failed so far. */
  tries = 0;
  private silent = 0;

  /** Counts a failed try (`failure`: its error, if it threw); answers whether another may follow. */
  allowsRetry(failure: unknown): boolean {
    this.tries++;
    if (isSilence(failure)) this.silent++;
    return this.tries < ATTEMPTS && this.silent < SILENT_ATTEMPTS;
  }

  /** The wait before the next try: the registry's Retry-After (capped), else exponential backoff. */
  delayMs(response?: Response): number {
    const header = response?.headers.get("retry-after");
    const seconds = header ? Number(header) : Number.NaN;
    if (Number.isFinite(seconds) && seconds >= 0)
      return Math.min(seconds * 1000, MAX_RETRY_AFTER_MS);
    return FIRST_BACKOFF_MS * 2 ** (this.tries - 1) + Math.random() * 100;
  }

  pause(response?: Response): Promise<void> {
    return Bun.sleep(this.delayMs(response));
  }
}
