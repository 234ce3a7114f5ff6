// The one retry policy: four tries per request, two of them at most silent, no retry of what
// another try cannot change, and the pause before the next try.
import { describe, expect, test } from "bun:test";
import { RegistryTimeout } from "../../../../src/registry/client/progress-timeout.ts";
import {
  ATTEMPTS,
  isRetryableError,
  isRetryableStatus,
  RetryBudget,
} from "../../../../src/registry/client/retry.ts";

/** How many tries a budget allows when every one fails with `failure`. */
function triesUntilRefused(failure: unknown): number {
  const budget = new RetryBudget();
  while (budget.allowsRetry(failure));
  return budget.tries;
}

describe("RetryBudget", () => {
  test.each([
    ["a 503 or a dropped connection", undefined, ATTEMPTS],
    ["no answer within the timeout", new RegistryTimeout("answer", "r", 1000), 2],
    ["no byte of a body within the timeout", new RegistryTimeout("download", "r", 1000), 2],
    ["an upload the registry takes no byte of", new RegistryTimeout("upload", "r", 1000), ATTEMPTS],
  ])("%s: %#", (_name, failure, tries) => {
    expect(triesUntilRefused(failure)).toBe(tries);
  });

  test("one budget counts the failed tries of everything a request does", () => {
    const budget = new RetryBudget();
    expect(budget.allowsRetry(undefined)).toBe(true); // the blob's first answer: a 503
    expect(budget.allowsRetry(new Error("cut"))).toBe(true); // its body breaks off
    expect(budget.allowsRetry(new RegistryTimeout("answer", "r", 1))).toBe(true); // no answer
    expect(budget.allowsRetry(new Error("cut"))).toBe(false); // the fourth: no fifth try
    expect(budget.tries).toBe(4);
  });

  const after = (value: string) => new Response(null, { headers: { "retry-after": value } });
  test("Retry-After is honoured, up to 10 s; otherwise backoff doubles from 200 ms", () => {
    const budget = new RetryBudget();
    budget.allowsRetry(undefined);
    expect(budget.delayMs(after("0"))).toBe(0);
    expect(budget.delayMs(after("2.5"))).toBe(2_500);
    expect(budget.delayMs(after("3600"))).toBe(10_000);
    for (const [tries, base] of [
      [1, 200],
      [2, 400],
      [3, 800],
    ]) {
      while (budget.tries < (tries as number)) budget.allowsRetry(undefined);
      // A date (or nonsense) in Retry-After is backoff too; up to 100 ms of jitter on top.
      const delay = budget.delayMs(after("Wed, 21 Oct 2015 07:28:00 GMT"));
      expect(delay).toBeGreaterThanOrEqual(base as number);
      expect(delay).toBeLessThan((base as number) + 100);
    }
  });
});

describe("what is worth another try", () => {
  test.each([429, 500, 502, 503, 504])("status %d", (status) => {
    expect(isRetryableStatus(status)).toBe(true);
  });
  test.each([400, 401, 403, 404, 409])("not status %d", (status) => {
    expect(isRetryableStatus(status)).toBe(false);
  });
  test.each([
    "EPROTO",
    "DEPTH_ZERO_SELF_SIGNED_CERT",
    "SELF_SIGNED_CERT_IN_CHAIN",
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    "CERT_HAS_EXPIRED",
    "CERT_NOT_YET_VALID",
    "ERR_TLS_CERT_ALTNAME_INVALID",
  ])("never a failed TLS handshake or a refused certificate: %s", (code) => {
    expect(isRetryableError(Object.assign(new TypeError("x"), { code }))).toBe(false);
  });
  test("a refused or reset connection, a timeout; never a malformed URL", () => {
    expect(isRetryableError(Object.assign(new Error("x"), { code: "ECONNREFUSED" }))).toBe(true);
    expect(isRetryableError(new RegistryTimeout("answer", "r", 1000))).toBe(true);
    expect(isRetryableError(Object.assign(new TypeError("x"), { code: "ERR_INVALID_URL" }))).toBe(
      false,
    );
  });
});
