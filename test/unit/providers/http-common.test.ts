// What both HTTP providers share: secret masking, Retry-After, backoff, credentials on the target.
import { expect, test } from "bun:test";
import { bodySnippet } from "../../../src/providers/http-common/client.ts";
import { backoffDelayMs, retryAfterMs } from "../../../src/providers/http-common/retry.ts";
import { Secrets } from "../../../src/providers/http-common/secrets.ts";
import { targetOf } from "../../../src/providers/http-common/settings.ts";

test.each([
  ["http://user:p%40ss-word@h/x", "http://user:***@h/x"],
  ["http://ghp_tokenvalue@h/x", "http://***@h/x"],
  ["http://h/x?api_key=k-1234&page=2", "http://h/x?api_key=***&page=2"],
  ["http://h/x?access_token=abcd&sig=zzzz", "http://h/x?access_token=***&sig=***"],
  ["http://h/x?page=2", "http://h/x?page=2"],
])("url %s -> %s", (url, shown) => {
  expect(new Secrets([]).url(url)).toBe(shown);
});

test("scrub masks the token, URL passwords (raw and decoded), credential headers and query values", () => {
  const secrets = Secrets.of({
    auth_token: "tok-abcdef",
    urls: ["http://u:p%40ss-word@h/x?apikey=key-7777"],
    headers: { "X-Api-Key": "hdr-secret-1", Accept: "application/json" },
    query: { token: "q-secret-2" },
  });
  expect(
    secrets.scrub(
      "tok-abcdef p@ss-word p%40ss-word key-7777 hdr-secret-1 q-secret-2 application/json",
    ),
  ).toBe("*** *** *** *** *** *** application/json");
  expect(secrets.scrub(`Basic ${btoa("u:p@ss-word")}`)).toBe("Basic ***");
});

test("Retry-After: seconds or an HTTP date; anything else is no answer", () => {
  expect(retryAfterMs("7")).toBe(7000);
  expect(
    retryAfterMs("Wed, 02 Dec 2026 10:00:30 GMT", Date.parse("Wed, 02 Dec 2026 10:00:00 GMT")),
  ).toBe(30_000);
  expect(retryAfterMs("soon")).toBeUndefined();
  expect(retryAfterMs(null)).toBeUndefined();
});

test("backoff doubles up to the cap, jittered between half and all of it", () => {
  const policy = { maxRetries: 5, backoffMs: 500, maxBackoffMs: 3000 };
  expect([1, 2, 3, 4].map((retry) => backoffDelayMs(policy, retry, () => 1))).toEqual([
    500, 1000, 2000, 3000,
  ]);
  expect([1, 2, 3, 4].map((retry) => backoffDelayMs(policy, retry, () => 0))).toEqual([
    250, 500, 1000, 1500,
  ]);
});

test("credentials in a URL become Basic auth and leave the URL; auth_token wins as Bearer", () => {
  const basic = targetOf("http://u:p%40ss@h/x", { headers: { Accept: "a/b" }, auth_token: "" });
  expect(basic.url.href).toBe("http://h/x");
  expect(basic.headers).toEqual({ accept: "a/b", authorization: `Basic ${btoa("u:p@ss")}` });
  const bearer = targetOf("http://u:p@h/x", { headers: { Authorization: "x" }, auth_token: "t" });
  expect(bearer.headers.authorization).toBe("Bearer t");
});

test("a body snippet is one line of at most 200 bytes", () => {
  expect(bodySnippet(new TextEncoder().encode("a\n  b\tc"))).toBe("a b c");
  expect(bodySnippet(new Uint8Array(0))).toBe("(empty body)");
  expect(bodySnippet(new TextEncoder().encode("x".repeat(300)))).toBe(`${"x".repeat(200)}...`);
});
