// http output (compiled binary) against a Bun.serve receiver: bodies and batching, the idempotency
// key, checkpoints acknowledged only after every request before them got a 2xx, retries, errors.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { serve, startHttp } from "./http-helpers.ts";

interface Received {
  method: string;
  path: string;
  headers: Headers;
  body: string;
}

let received: Received[] = [];
let failuresLeft = 0;
let throttleOnce = false;
let held: (() => void) | undefined;
let hold = false;
let receiver: ReturnType<typeof serve>;
let base = "";

beforeAll(() => {
  receiver = serve(async (request) => {
    const url = new URL(request.url);
    const body = await request.text();
    received.push({ method: request.method, path: url.pathname, headers: request.headers, body });
    if (url.pathname === "/not-modified") return new Response(null, { status: 304 });
    if (url.pathname === "/echo-token") {
      return new Response(`denied: ${request.headers.get("authorization")}`, { status: 403 });
    }
    if (url.pathname === "/reject")
      return new Response('{"error":"schema mismatch"}', { status: 400 });
    if (throttleOnce) {
      throttleOnce = false;
      return new Response("busy", { status: 429, headers: { "retry-after": "1" } });
    }
    if (failuresLeft > 0) {
      failuresLeft--;
      return new Response("try again", { status: 500 });
    }
    if (hold) await new Promise<void>((resolve) => (held = resolve));
    return new Response(null, { status: 204 });
  });
  base = `http://127.0.0.1:${receiver.port}`;
});

afterAll(() => receiver?.stop(true));

function reset(): void {
  received = [];
  failuresLeft = 0;
  throttleOnce = false;
  hold = false;
  held = undefined;
}

const event = (sequence: number) =>
  JSON.stringify({ data: { n: sequence }, metadata: { sequence } });
const events = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, index) => `${event(from + index)}\n`).join("");
const checkpoint = (value: number) => `{"checkpoint":{"sequence":${value}}}\n`;

/** Every event the receiver accepted (a 2xx), in order, from NDJSON bodies. */
function sequencesIn(bodies: Received[]): number[] {
  return bodies.flatMap((request) =>
    request.body
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line).metadata.sequence as number),
  );
}

async function runOutput(config: Record<string, unknown>, input: string) {
  const provider = await startHttp("http", { url: `${base}/ingest`, ...config });
  provider.write(input);
  provider.end();
  return provider.finish();
}

test("NDJSON requests of at most `batch` events, each with the idempotency key of its first and last sequence", async () => {
  reset();
  const result = await runOutput({ batch: 3 }, events(1, 7) + checkpoint(7));
  expect(result.stderr).toBe("sent 7 events in 3 requests\n");
  expect(result.exitCode).toBe(0);
  expect(result.stdout).toBe(`{"status":"ready","protocol":2}\n${checkpoint(7)}`);
  expect(received.map((request) => request.headers.get("idempotency-key"))).toEqual([
    "test:1-3",
    "test:4-6",
    "test:7-7",
  ]);
  expect(received.map((request) => request.body)).toEqual([
    events(1, 3),
    events(4, 6),
    events(7, 7),
  ]);
  expect(received[0]?.headers.get("content-type")).toBe("application/x-ndjson");
  expect(received[0]?.method).toBe("POST");
  expect(received[0]?.headers.get("user-agent")).toMatch(/^dstream\/\d+\.\d+\.\d+ \(http\)$/);
});

test("format json: one array per request; batch 1: one request per event", async () => {
  reset();
  const result = await runOutput({ format: "json", batch: 1, method: "PUT" }, events(1, 2));
  expect(result.exitCode).toBe(0);
  expect(received.map((request) => request.body)).toEqual([`[${event(1)}]`, `[${event(2)}]`]);
  expect(received.map((request) => request.method)).toEqual(["PUT", "PUT"]);
  expect(received[0]?.headers.get("content-type")).toBe("application/json");
  reset();
  await runOutput({ format: "json" }, events(1, 3));
  expect(received.map((request) => JSON.parse(request.body))).toEqual([
    [1, 2, 3].map((n) => ({ data: { n }, metadata: { sequence: n } })),
  ]);
});

test("a receiver that fails twice then accepts gets every event; the checkpoint is acknowledged after", async () => {
  reset();
  failuresLeft = 2;
  const result = await runOutput({ retry_backoff: 20 }, events(1, 5) + checkpoint(5));
  expect(result.exitCode).toBe(0);
  expect(received).toHaveLength(3);
  expect(sequencesIn(received.slice(2))).toEqual([1, 2, 3, 4, 5]);
  expect(result.stdout).toBe(`{"status":"ready","protocol":2}\n${checkpoint(5)}`);
  expect(result.stderr).toContain(
    `POST ${base}/ingest: 500 Internal Server Error: try again; retry 1 of 5 in`,
  );
});

test("no checkpoint is acknowledged before the 2xx of every request before it", async () => {
  reset();
  hold = true;
  const provider = await startHttp("http", { url: `${base}/ingest` });
  provider.write(events(1, 3) + checkpoint(3));
  const deadline = Date.now() + 5000;
  while (received.length === 0 && Date.now() < deadline) await Bun.sleep(10);
  expect(received).toHaveLength(1);
  await Bun.sleep(300);
  expect(provider.stdout).toBe('{"status":"ready","protocol":2}\n');
  held?.();
  await provider.waitForLines(2);
  expect(provider.stdout).toBe(`{"status":"ready","protocol":2}\n${checkpoint(3)}`);
  provider.end();
  expect((await provider.finish()).exitCode).toBe(0);
});

test("429 waits as Retry-After says", async () => {
  reset();
  throttleOnce = true;
  const started = Date.now();
  const result = await runOutput({}, events(1, 1));
  expect(result.exitCode).toBe(0);
  expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  expect(received).toHaveLength(2);
});

test("a 4xx fails at once with one line: method, URL, status, the body's start; no token", async () => {
  reset();
  const token = "sk-live-abcdef123456";
  const provider = await startHttp("http", { url: `${base}/reject`, auth_token: token });
  provider.write(events(1, 2));
  provider.end();
  const result = await provider.finish();
  expect(result.exitCode).toBe(1);
  expect(received).toHaveLength(1);
  expect(received[0]?.headers.get("authorization")).toBe(`Bearer ${token}`);
  expect(result.stderr).toBe(
    `error: POST ${base}/reject: 400 Bad Request: {"error":"schema mismatch"}\n`,
  );
});

test("events without a sequence get a digest key; idempotency_header renames or removes it", async () => {
  reset();
  await runOutput({ idempotency_header: "X-Batch" }, '{"data":1}\n{"data":2}\n');
  expect(received[0]?.headers.get("x-batch")).toMatch(/^test:sha256-[0-9a-f]{32}$/);
  expect(received[0]?.headers.get("idempotency-key")).toBeNull();
  reset();
  await runOutput({ idempotency_header: "" }, events(1, 1));
  expect(received[0]?.headers.get("idempotency-key")).toBeNull();
});

test("an unreachable receiver fails with one line after its retries", async () => {
  const provider = await startHttp("http", {
    url: "http://127.0.0.1:9/x",
    max_retries: 1,
    retry_backoff: 10,
  });
  provider.write(events(1, 1));
  provider.end();
  const result = await provider.finish();
  expect(result.exitCode).toBe(1);
  expect(result.stderr.split("\n").at(-2)).toMatch(
    /^error: POST http:\/\/127\.0\.0\.1:9\/x: connection refused( \(\w+\))? \(after 2 attempts\)$/,
  );
});

test("a 304 is no acceptance: the output fails instead of acknowledging", async () => {
  const provider = await startHttp("http", { url: `${base}/not-modified` });
  provider.write(events(1, 1) + checkpoint(1));
  provider.end();
  const result = await provider.finish();
  expect(result.exitCode).toBe(1);
  expect(result.stdout).toBe('{"status":"ready","protocol":2}\n');
  expect(result.stderr).toBe(
    `error: POST ${base}/not-modified: 304 Not Modified is not an acceptance (the receiver must answer 2xx)\n`,
  );
});

test("a receiver that echoes the token back in its error body: the token is masked", async () => {
  const token = "sk-echo-0a1b2c3d4e";
  const provider = await startHttp("http", { url: `${base}/echo-token`, auth_token: token });
  provider.write(events(1, 1));
  provider.end();
  const result = await provider.finish();
  expect(result.exitCode).toBe(1);
  expect(result.stderr).toBe(
    `error: POST ${base}/echo-token: 403 Forbidden (check auth_token): denied: Bearer ***\n`,
  );
});
