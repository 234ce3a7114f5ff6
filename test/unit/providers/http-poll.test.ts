// http-poll's pieces: settings, Link headers, dotted paths, cursor order, positions.
import { expect, test } from "bun:test";
import * as v from "valibot";
import { Secrets } from "../../../src/providers/http-common/secrets.ts";
import { CursorTracker } from "../../../src/providers/http-poll/cursor-tracker.ts";
import { nextLink, nextPage } from "../../../src/providers/http-poll/pagination.ts";
import {
  type HttpPollPosition,
  parsePosition,
  restoredUrl,
  storedUrl,
} from "../../../src/providers/http-poll/position.ts";
import {
  compareCursors,
  cursorValueOf,
  recordsOf,
  valueAt,
} from "../../../src/providers/http-poll/records.ts";
import { httpPollConfigSchema } from "../../../src/providers/http-poll/schema.ts";
import { describeIssues } from "../../../src/sdk/index.ts";

const parse = (config: Record<string, unknown>) => v.parse(httpPollConfigSchema, config);

test("defaults: GET, a poll a minute, the body as records, Link pagination, 30 s timeout, 5 retries", () => {
  expect(parse({ endpoint: "https://api.example.com/v1/items" })).toEqual({
    endpoint: "https://api.example.com/v1/items",
    method: "GET",
    query: {},
    poll_interval: 60_000,
    records: "",
    next: "",
    cursor: "",
    cursor_param: "cursor",
    page_param: "",
    page_start: 1,
    offset_param: "",
    cursor_field: "",
    cursor_field_param: "",
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
  [
    { endpoint: "https://x", interval: 5 },
    "interval: unknown setting (allowed: endpoint, method, query, body, poll_interval, records, next, cursor, cursor_param, page_param, page_start, offset_param, cursor_field, cursor_field_param, headers, auth_token, timeout, max_retries, retry_backoff, max_backoff, rate_limit)",
  ],
  [{ endpoint: "not a url" }, "endpoint: must be an http:// or https:// URL"],
  [{ endpoint: "https://x", method: "DELETE" }, 'method: must be "GET", "POST", "PUT" or "PATCH"'],
  [{ endpoint: "https://x", headers: { a: 1 } }, "headers.a: each value must be a string"],
  [{ endpoint: "https://x", timeout: 0 }, "timeout: must be 1 or more"],
  [{ endpoint: "https://x", rate_limit: -1 }, "rate_limit: must be 0 or more"],
  [
    { endpoint: "https://x", cursor: "a", offset_param: "o" },
    "next: use one of next, cursor, page_param and offset_param (Link headers are followed when none is set)",
  ],
])("%j -> %s", (config, message) => {
  const result = v.safeParse(httpPollConfigSchema, config);
  expect(result.success ? "" : describeIssues(result.issues)).toBe(message);
});

test.each([
  ['</v2/_catalog?last=b&n=2>; rel="next"', "http://r/v2/_catalog?last=b&n=2"],
  [
    '<https://api.github.com/x?page=1>; rel="prev", <https://api.github.com/x?page=3>; rel="next", <https://api.github.com/x?page=9>; rel="last"',
    "https://api.github.com/x?page=3",
  ],
  ["<http://r/a>; rel=next", "http://r/a"],
  ['<http://r/b>; title="a, b"; rel="last next"', "http://r/b"],
  ['<http://r/c>; rel="last"', undefined],
  ["", undefined],
])("Link %j -> %s", (header, expected) => {
  expect(nextLink(header, new URL("http://r/v2/_catalog?n=2"))?.href).toBe(expected);
});

test("page and offset pagination stop at an empty page; a body cursor replaces its parameter", () => {
  const config = parse({ endpoint: "http://r/x", page_param: "page" });
  const answer = (url: string, recordCount: number, body: unknown = null) => ({
    url: new URL(url),
    headers: new Headers(),
    body,
    recordCount,
  });
  expect(nextPage(config, answer("http://r/x?page=1", 2))?.href).toBe("http://r/x?page=2");
  expect(nextPage(config, answer("http://r/x?page=2", 0))).toBeUndefined();
  const offset = parse({ endpoint: "http://r/x", offset_param: "offset" });
  expect(nextPage(offset, answer("http://r/x", 25))?.href).toBe("http://r/x?offset=25");
  const cursor = parse({ endpoint: "http://r/x", cursor: "meta.next", cursor_param: "after" });
  expect(nextPage(cursor, answer("http://r/x?after=a", 2, { meta: { next: "b" } }))?.href).toBe(
    "http://r/x?after=b",
  );
  expect(
    nextPage(cursor, answer("http://r/x?after=a", 2, { meta: { next: null } })),
  ).toBeUndefined();
  expect(() => nextPage(cursor, answer("http://r/x", 2, { meta: { next: { a: 1 } } }))).toThrow(
    '"meta.next" in the response is not a string or number (check cursor)',
  );
});

test("dotted paths reach into objects and arrays; records default to the body", () => {
  const body = { data: { items: [{ id: 1, meta: { v: 7 } }] } };
  expect(valueAt(body, "data.items.0.meta.v")).toBe(7);
  expect(valueAt(body, "data.missing.x")).toBeUndefined();
  expect(recordsOf(body, "data.items")).toEqual([{ id: 1, meta: { v: 7 } }]);
  expect(recordsOf(body, "data.none")).toEqual([]);
  expect(recordsOf([1, 2], "")).toEqual([1, 2]);
  expect(recordsOf({ one: true }, "")).toEqual([{ one: true }]);
  expect(() => recordsOf(body, "data")).toThrow(
    '"data" in the response is an object, not an array of records (check records)',
  );
});

test("cursor values: numbers as numbers, strings as strings; other types do not count", () => {
  expect(compareCursors(9, 10)).toBeLessThan(0);
  expect(compareCursors("2026-01-02T00:00:00Z", "2026-01-10T00:00:00Z")).toBeLessThan(0);
  expect(compareCursors("b", "b")).toBe(0);
  expect(cursorValueOf({ u: null }, "u")).toBeUndefined();
  expect(cursorValueOf({ u: { at: 3 } }, "u.at")).toBe(3);
});

test("positions: null starts at sequence 0; masked query values come back from the first page", () => {
  expect(parsePosition(null)).toEqual({ sequence: 0 });
  expect(() => parsePosition({ sequence: 1, page: { url: "nope", number: 1, skip: 0 } })).toThrow(
    "is not an http-poll position",
  );
  const url = restoredUrl(
    "http://r/x?api_key=***&page=3",
    new URL("http://r/x?api_key=k-123&page=1"),
  );
  expect(url.href).toBe("http://r/x?api_key=k-123&page=3");
});

test("a stored page URL masks the config's secrets only: a server's page_token survives to resume with", () => {
  const secrets = Secrets.of({ urls: ["http://r/x?api_key=k-123"], query: {} });
  const stored = storedUrl(new URL("http://r/x?api_key=k-123&page_token=abcdef"), secrets);
  expect(stored).toBe("http://r/x?api_key=***&page_token=abcdef");
  expect(restoredUrl(stored, new URL("http://r/x?api_key=k-123")).href).toBe(
    "http://r/x?api_key=k-123&page_token=abcdef",
  );
});

test("at the cursor boundary: seen records are dropped, new ones at the same value sent, older ones dropped", () => {
  const logs: string[] = [];
  const earlier = new CursorTracker("t", { sequence: 0 }, (line) => logs.push(line));
  const first = [
    { id: 1, t: 5 },
    { id: 2, t: 7 },
    { id: 3, t: 7 },
  ];
  const position: HttpPollPosition = { sequence: 3 };
  const tracker = new CursorTracker("t", position, (line) => logs.push(line));
  expect(first.map((record) => tracker.accept(record))).toEqual([true, true, true]);
  expect(position.cursor).toBe(7);
  expect(position.seen).toHaveLength(2);
  // The next poll asks for t >= 7: the two at 7 come again, with a new one at 7 and one later.
  const next = new CursorTracker("t", position, (line) => logs.push(line));
  const again = [
    { id: 0, t: 4 },
    { id: 2, t: 7 },
    { id: 3, t: 7 },
    { id: 4, t: 7 },
    { id: 5, t: 8 },
  ];
  expect(again.map((record) => next.accept(record))).toEqual([false, false, false, true, true]);
  expect(position).toMatchObject({ cursor: 8 });
  expect(position.seen).toHaveLength(1);
  expect(earlier.accept({ id: 9 })).toBe(true);
  expect(logs).toEqual([
    'records without a string or number "t" (cursor_field) are sent but do not move the checkpoint',
  ]);
});
