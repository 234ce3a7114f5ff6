// http output's pieces: settings, cutting batches into requests, bodies, idempotency keys.
import { expect, test } from "bun:test";
import * as v from "valibot";
import { idempotencyKey } from "../../../src/providers/http/idempotency.ts";
import { bodyOf, requestsOf } from "../../../src/providers/http/output.ts";
import { httpOutputConfigSchema } from "../../../src/providers/http/schema.ts";
import { Batch, describeIssues } from "../../../src/sdk/index.ts";

const encoder = new TextEncoder();
const config = (settings: Record<string, unknown>) =>
  v.parse(httpOutputConfigSchema, { url: "http://h/in", ...settings });
const lines = (...texts: string[]) => texts.map((text) => encoder.encode(text));

test("defaults: POST NDJSON, 1000 events or 1 MiB a request, Idempotency-Key", () => {
  expect(config({})).toEqual({
    url: "http://h/in",
    method: "POST",
    format: "ndjson",
    batch: 1000,
    batch_bytes: 1024 * 1024,
    idempotency_header: "Idempotency-Key",
    headers: {},
    auth_token: "",
    timeout: 30_000,
    max_retries: 5,
    retry_backoff: 500,
    max_backoff: 30_000,
    rate_limit: 0,
  });
});

test.each([
  [{ batch: 0 }, "batch: must be 1 or more"],
  [{ batch: 20_000 }, "batch: must be 10000 or less"],
  [{ format: "csv" }, 'format: must be "ndjson" or "json"'],
  [{ url: "h/in" }, "url: must be an http:// or https:// URL"],
])("%j -> %s", (settings, message) => {
  const result = v.safeParse(httpOutputConfigSchema, { url: "http://h/in", ...settings });
  expect(result.success ? "" : describeIssues(result.issues)).toBe(message);
});

test("requests hold at most `batch` events and `batch_bytes` bytes; a longer event goes alone", () => {
  const five = lines("aaaa", "bbbb", "cccc", "dddd", "eeee");
  expect(requestsOf(five, config({ batch: 2 }))).toEqual([
    [0, 2],
    [2, 4],
    [4, 5],
  ]);
  expect(requestsOf(five, config({ batch_bytes: 10 }))).toEqual([
    [0, 2],
    [2, 4],
    [4, 5],
  ]);
  expect(requestsOf(lines("a", "x".repeat(50), "b"), config({ batch_bytes: 10 }))).toEqual([
    [0, 1],
    [1, 2],
    [2, 3],
  ]);
});

test("bodies: NDJSON lines or one JSON array, bytes as received", () => {
  const two = lines('{"data":1}', '{"data":2}');
  expect(new TextDecoder().decode(bodyOf(two, "ndjson"))).toBe('{"data":1}\n{"data":2}\n');
  expect(new TextDecoder().decode(bodyOf(two, "json"))).toBe('[{"data":1},{"data":2}]');
});

test("idempotency keys: the task and first and last sequence; a digest without sequences", () => {
  const batch = new Batch(
    lines('{"data":1,"metadata":{"sequence":41}}', '{"data":2,"metadata":{"sequence":42}}', "{}"),
    1,
    0,
  );
  expect(idempotencyKey(batch, 0, 2, "orders")).toBe("orders:41-42");
  expect(idempotencyKey(batch, 1, 3, "orders")).toMatch(/^orders:sha256-[0-9a-f]{32}$/);
  expect(idempotencyKey(batch, 1, 3, "orders")).toBe(idempotencyKey(batch, 1, 3, "orders"));
});
