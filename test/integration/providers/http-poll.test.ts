// http-poll (compiled binary) against a Bun.serve API of our own for what the registry cannot play:
// body cursors and next URLs, page/offset, cursor_field resume, ETags, 429, 500s, slow, truncated,
// HTML and endless responses, redirects, secrets.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import packageJson from "../../../package.json" with { type: "json" };
import { poll, serve, splitOutput, startHttp } from "./http-helpers.ts";

interface Seen {
  url: URL;
  headers: Headers;
  at: number;
}

let requests: Seen[] = [];
let counters = new Map<string, number>();
/** Records of the incremental API: id and updated_at, answered in ascending updated_at. */
let changes: { id: number; updated_at: string }[] = [];

function hit(name: string): number {
  const count = (counters.get(name) ?? 0) + 1;
  counters.set(name, count);
  return count;
}

const items = (from: number, count: number) =>
  Array.from({ length: count }, (_, index) => ({ id: from + index }));

let api: ReturnType<typeof serve>;
let elsewhere: ReturnType<typeof serve>;
let raw: Bun.TCPSocketListener<undefined>;
let base = "";

function route(request: Request): Response | Promise<Response> {
  const url = new URL(request.url);
  requests.push({ url, headers: request.headers, at: Date.now() });
  const param = (name: string) => url.searchParams.get(name);
  switch (url.pathname) {
    case "/next": {
      const page = Number(param("p") ?? 1);
      return Response.json({
        data: { items: items(page * 10, 2) },
        paging: { next: page < 3 ? `/next?p=${page + 1}` : null },
      });
    }
    case "/cursor": {
      const after = Number(param("after") ?? 0);
      return Response.json({
        rows: items(after + 1, 3),
        meta: { cursor: after < 6 ? String(after + 3) : "" },
      });
    }
    case "/pages": {
      const page = Number(param("page"));
      return Response.json(page <= 3 ? items(page * 100, 2) : []);
    }
    case "/offset": {
      const offset = Number(param("offset") ?? 0);
      return Response.json({ results: offset < 5 ? items(offset, Math.min(2, 5 - offset)) : [] });
    }
    case "/unsorted":
      return Response.json([{ id: 2, v: 20 }, { id: 1, v: 10 }, { id: 3 }]);
    case "/ignores-page":
      return Response.json(items(1, 2));
    case "/single":
      return Response.json({ status: "ok", version: 3 });
    case "/exact":
      return new Response(
        '{"items": [{"id": 12345678901234567890, "price": 1.50, "n": 3}, {"id": 7}], "total": 2}',
        { headers: { "content-type": "application/json" } },
      );
    case "/changes": {
      const since = param("updated_at");
      const rows = changes.filter((row) => since === null || row.updated_at >= since);
      const page = Number(param("page") ?? 1);
      return Response.json({ items: rows.slice((page - 1) * 2, page * 2) });
    }
    case "/slow-changes": {
      const page = Number(param("page") ?? 1);
      const since = param("updated_at");
      const rows = changes.filter((row) => since === null || row.updated_at >= since);
      return Bun.sleep(40).then(() =>
        Response.json({ items: rows.slice((page - 1) * 5, page * 5) }),
      );
    }
    case "/etag": {
      hit("etag");
      const headers = { etag: '"v1"', "last-modified": "Wed, 02 Dec 2026 10:00:00 GMT" };
      if (request.headers.get("if-none-match") === '"v1"')
        return new Response(null, { status: 304, headers });
      return Response.json([{ id: 1 }, { id: 2 }], { headers });
    }
    case "/throttled":
      if (hit("throttled") === 1)
        return new Response("slow down", { status: 429, headers: { "retry-after": "1" } });
      return Response.json([{ id: 1 }]);
    case "/unavailable":
      if (hit("unavailable") === 1) {
        const at = new Date(Math.ceil((Date.now() + 1500) / 1000) * 1000).toUTCString();
        return new Response("maintenance", { status: 503, headers: { "retry-after": at } });
      }
      return Response.json([{ id: 1 }]);
    case "/flaky":
      if (hit("flaky") <= 2) return new Response("oops", { status: 500 });
      return Response.json([{ id: 1 }]);
    case "/broken":
      return new Response("database on fire", { status: 500, statusText: "Internal Server Error" });
    case "/bad-gateway":
      return new Response("<html><body><h1>502 Bad Gateway</h1></body></html>", {
        status: 502,
        headers: { "content-type": "text/html" },
      });
    case "/html":
      return new Response(
        "<!doctype html><html><head><title>Login</title></head><body>Please sign in</body></html>",
        {
          headers: { "content-type": "text/html; charset=utf-8" },
        },
      );
    case "/text":
      return new Response("ok then", { headers: { "content-type": "text/plain" } });
    case "/slow":
      return Bun.sleep(hit("slow") === 1 ? 1500 : 0).then(() => Response.json([{ id: 1 }]));
    case "/endless":
      return new Response(
        new ReadableStream({
          async pull(controller) {
            await Bun.sleep(50);
            controller.enqueue(new TextEncoder().encode("[1,"));
          },
        }),
        { headers: { "content-type": "application/json" } },
      );
    case "/forbidden":
      return new Response(`{"error":"bad token ${request.headers.get("authorization")}"}`, {
        status: 401,
      });
    case "/redirect":
      return Response.redirect(`${base}/single`, 302);
    case "/away":
      return Response.redirect(`http://127.0.0.1:${elsewhere.port}/landing`, 307);
    case "/redirect-loop":
      return Response.redirect(`${base}/redirect-loop`, 302);
    case "/loop":
      return new Response(JSON.stringify([{ id: 1 }]), {
        headers: { link: `<${base}/loop>; rel="next"`, "content-type": "application/json" },
      });
    case "/echo":
      return Response.json([
        { query: Object.fromEntries(url.searchParams), method: request.method },
      ]);
    case "/post":
      return request
        .text()
        .then((body) =>
          Response.json([
            { body, type: request.headers.get("content-type"), method: request.method },
          ]),
        );
    default:
      return new Response("no such route", { status: 404 });
  }
}

beforeAll(() => {
  api = serve(route);
  base = `http://127.0.0.1:${api.port}`;
  elsewhere = serve((request) => {
    requests.push({ url: new URL(request.url), headers: request.headers, at: Date.now() });
    return Response.json([{ landed: true, authorization: request.headers.get("authorization") }]);
  });
  // Announces 1000 bytes, sends 20, closes: the first time only.
  let truncatedCalls = 0;
  raw = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(socket) {
        truncatedCalls++;
        if (truncatedCalls === 1) {
          socket.write(
            'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n[{"id":1},{"id":2},',
          );
          socket.end();
          return;
        }
        const body = '[{"id":1},{"id":2}]';
        socket.write(
          `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
        );
        socket.end();
      },
    },
  });
});

afterAll(() => {
  api?.stop(true);
  elsewhere?.stop(true);
  raw?.stop(true);
});

function reset(): void {
  requests = [];
  counters = new Map();
}

const ids = (result: { events: { data: unknown }[] }) =>
  result.events.map((event) => (event.data as { id: number }).id);

describe("pagination", () => {
  test("a next URL in the body (relative), until it is null", async () => {
    const result = await poll({
      endpoint: `${base}/next`,
      records: "data.items",
      next: "paging.next",
    });
    expect(result.exitCode).toBe(0);
    expect(ids(result)).toEqual([10, 11, 20, 21, 30, 31]);
    expect(result.events.map((event) => event.metadata.page)).toEqual([1, 1, 2, 2, 3, 3]);
  });

  test("a cursor in the body sent as cursor_param, until it is empty", async () => {
    reset();
    const result = await poll({
      endpoint: `${base}/cursor`,
      records: "rows",
      cursor: "meta.cursor",
      cursor_param: "after",
    });
    expect(result.exitCode).toBe(0);
    expect(ids(result)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(requests.map((seen) => seen.url.search)).toEqual(["", "?after=3", "?after=6"]);
  });

  test("page numbers from page_start until an empty page", async () => {
    reset();
    const result = await poll({ endpoint: `${base}/pages`, page_param: "page", page_start: 1 });
    expect(result.exitCode).toBe(0);
    expect(ids(result)).toEqual([100, 101, 200, 201, 300, 301]);
    expect(requests.map((seen) => seen.url.search)).toEqual([
      "?page=1",
      "?page=2",
      "?page=3",
      "?page=4",
    ]);
  });

  test("an offset advanced by each page's record count until an empty page", async () => {
    reset();
    const result = await poll({
      endpoint: `${base}/offset`,
      records: "results",
      offset_param: "offset",
    });
    expect(ids(result)).toEqual([0, 1, 2, 3, 4]);
    expect(requests.map((seen) => seen.url.search)).toEqual([
      "",
      "?offset=2",
      "?offset=4",
      "?offset=5",
    ]);
  });

  test("an API that ignores page_param is caught instead of read forever", async () => {
    const result = await poll({ endpoint: `${base}/ignores-page`, page_param: "p" });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      `error: GET ${base}/ignores-page?p=2: page 2 holds the same records as page 1 (does the API take page pagination as configured?)\n`,
    );
  });

  test("a Link that points back to a page already read fails instead of looping", async () => {
    const result = await poll({ endpoint: `${base}/loop` });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(`error: GET ${base}/loop: pagination loops back to ${base}/loop\n`);
  });

  test("a number no double holds keeps every digit it was sent with", async () => {
    const provider = await startHttp("http-poll", {
      endpoint: `${base}/exact`,
      records: "items",
      poll_interval: 0,
    });
    const result = await provider.finish(20_000);
    expect(result.exitCode).toBe(0);
    const data = result.stdout
      .split("\n")
      .filter((line) => line.startsWith('{"data":'))
      .map((line) => line.slice(0, line.indexOf(',"metadata"')));
    expect(data).toEqual([
      '{"data":{"id":12345678901234567890,"price":1.50,"n":3}',
      '{"data":{"id":7}',
    ]);
  });

  test("an object body is one record; query, method and a JSON body are sent", async () => {
    const single = await poll({ endpoint: `${base}/single` });
    expect(single.events.map((event) => event.data)).toEqual([{ status: "ok", version: 3 }]);
    const echo = await poll({ endpoint: `${base}/echo?a=1`, query: { b: "two" } });
    expect(echo.events[0]?.data).toEqual({ query: { a: "1", b: "two" }, method: "GET" });
    const posted = await poll({ endpoint: `${base}/post`, method: "POST", body: { since: 5 } });
    expect(posted.events[0]?.data).toEqual({
      body: '{"since":5}',
      type: "application/json",
      method: "POST",
    });
  });
});

describe("incremental: cursor_field", () => {
  const config = { records: "items", page_param: "page", cursor_field: "updated_at" };

  test("the highest value is the checkpoint, sent on the next run; records at the boundary are not sent twice", async () => {
    changes = [
      { id: 1, updated_at: "2026-01-01T00:00:00Z" },
      { id: 2, updated_at: "2026-01-02T00:00:00Z" },
      { id: 3, updated_at: "2026-01-03T00:00:00Z" },
    ];
    const first = await poll({ endpoint: `${base}/changes`, ...config });
    expect(first.exitCode).toBe(0);
    expect(ids(first)).toEqual([1, 2, 3]);
    const checkpoint = first.checkpoints.at(-1) as { cursor: string; sequence: number };
    expect(checkpoint.cursor).toBe("2026-01-03T00:00:00Z");
    expect(checkpoint.sequence).toBe(3);
    // A record updated at the same moment as the last one, and a later one.
    changes.push(
      { id: 4, updated_at: "2026-01-03T00:00:00Z" },
      { id: 5, updated_at: "2026-01-04T00:00:00Z" },
    );
    reset();
    const second = await poll({ endpoint: `${base}/changes`, ...config }, checkpoint);
    expect(second.exitCode).toBe(0);
    expect(ids(second)).toEqual([4, 5]);
    expect(second.events.map((event) => event.metadata.sequence)).toEqual([4, 5]);
    expect(requests[0]?.url.searchParams.get("updated_at")).toBe("2026-01-03T00:00:00Z");
    const third = await poll({ endpoint: `${base}/changes`, ...config }, second.checkpoints.at(-1));
    expect(ids(third)).toEqual([]);
  });

  test("records out of order, or without the field, are sent, each with one warning", async () => {
    const result = await poll({ endpoint: `${base}/unsorted`, cursor_field: "v" });
    expect(result.exitCode).toBe(0);
    expect(ids(result)).toEqual([2, 1, 3]);
    expect(result.checkpoints.at(-1)).toMatchObject({ sequence: 3, cursor: 20 });
    expect(result.stderr).toBe(
      [
        'records are not in ascending "v" order: a restart in the middle of a poll may miss some (sort the API\'s answer by it)',
        'records without a string or number "v" (cursor_field) are sent but do not move the checkpoint',
        "",
      ].join("\n"),
    );
  });

  test("kill -9 in the middle and a restart from the last checkpoint line: nothing missed", async () => {
    changes = Array.from({ length: 200 }, (_, index) => ({
      id: index + 1,
      updated_at: `2026-02-01T00:${String(Math.floor(index / 4)).padStart(2, "0")}:00Z`,
    }));
    const endpoint = `${base}/slow-changes`;
    const provider = await startHttp("http-poll", { endpoint, ...config, poll_interval: 0 });
    await provider.waitForLines(60);
    await Bun.sleep(300);
    provider.child.kill("SIGKILL");
    await provider.child.exited;
    await Bun.sleep(100); // what was in the pipe is read
    const before = splitOutput(provider.stdout);
    const lastCheckpoint = before.checkpoints.at(-1) as { sequence: number };
    expect(lastCheckpoint.sequence).toBeLessThan(200);
    // What the checkpoint covers is what dstream would have committed; the rest comes again.
    const covered = before.events.slice(0, lastCheckpoint.sequence);
    const after = await poll({ endpoint, ...config }, lastCheckpoint);
    expect(after.exitCode).toBe(0);
    const all = [...ids({ events: covered }), ...ids(after)];
    expect(all).toEqual(changes.map((row) => row.id));
    expect(after.events[0]?.metadata.sequence).toBe(lastCheckpoint.sequence + 1);
  }, 30_000);
});

describe("conditional requests", () => {
  test("ETag and Last-Modified are sent back; a 304 is an unchanged list: no events", async () => {
    reset();
    const provider = await startHttp("http-poll", { endpoint: `${base}/etag`, poll_interval: 100 });
    const deadline = Date.now() + 10_000;
    while ((counters.get("etag") ?? 0) < 3 && Date.now() < deadline) await Bun.sleep(20);
    provider.child.kill("SIGTERM");
    const finished = await provider.finish();
    expect(finished.exitCode).toBe(0);
    const written = splitOutput(finished.stdout);
    expect(ids(written)).toEqual([1, 2]);
    expect(requests[0]?.headers.get("if-none-match")).toBeNull();
    expect(requests[1]?.headers.get("if-none-match")).toBe('"v1"');
    expect(requests[1]?.headers.get("if-modified-since")).toBe("Wed, 02 Dec 2026 10:00:00 GMT");
    expect(written.checkpoints.at(-1)).toEqual({
      sequence: 2,
      validator: {
        url: `${base}/etag`,
        etag: '"v1"',
        last_modified: "Wed, 02 Dec 2026 10:00:00 GMT",
      },
    });
  });

  test("a restart with the validator in its checkpoint sends nothing again", async () => {
    const checkpoint = { sequence: 2, validator: { url: `${base}/etag`, etag: '"v1"' } };
    const result = await poll({ endpoint: `${base}/etag` }, checkpoint);
    expect(result.exitCode).toBe(0);
    expect(result.events).toEqual([]);
  });
});

describe("being a good client", () => {
  test("the User-Agent names dstream and its version", async () => {
    reset();
    await poll({ endpoint: `${base}/single` });
    expect(requests[0]?.headers.get("user-agent")).toBe(
      `dstream/${packageJson.version} (http-poll)`,
    );
    expect(requests[0]?.headers.get("accept")).toBe("application/json");
  });

  test("429 waits as Retry-After says, then goes on", async () => {
    reset();
    const result = await poll({ endpoint: `${base}/throttled` });
    expect(result.exitCode).toBe(0);
    expect(ids(result)).toEqual([1]);
    expect((requests[1]?.at ?? 0) - (requests[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(result.stderr).toBe(
      `GET ${base}/throttled: 429 Too Many Requests: slow down; retry 1 of 5 in 1.0 s as Retry-After asks\n`,
    );
  });

  test("503 with Retry-After as an HTTP date waits until then", async () => {
    reset();
    const result = await poll({ endpoint: `${base}/unavailable` });
    expect(result.exitCode).toBe(0);
    expect(ids(result)).toEqual([1]);
    // The date is the next whole second at least 1.5 s ahead; the wait ends at or after it.
    expect((requests[1]?.at ?? 0) - (requests[0]?.at ?? 0)).toBeGreaterThanOrEqual(1000);
    expect(result.stderr).toMatch(
      /: 503 Service Unavailable: maintenance; retry 1 of 5 in \d\.\d s as Retry-After asks\n$/,
    );
  });

  test("500s are retried with backoff, then it goes on", async () => {
    reset();
    const result = await poll({ endpoint: `${base}/flaky`, retry_backoff: 100 });
    expect(result.exitCode).toBe(0);
    expect(ids(result)).toEqual([1]);
    expect(requests).toHaveLength(3);
    const second = (requests[2]?.at ?? 0) - (requests[1]?.at ?? 0);
    expect(second).toBeGreaterThanOrEqual(95); // 100-200 ms on the second retry
  });

  test("a 500 that stays fails after max_retries with one line", async () => {
    reset();
    const result = await poll({ endpoint: `${base}/broken`, max_retries: 2, retry_backoff: 10 });
    expect(result.exitCode).toBe(1);
    expect(requests).toHaveLength(3);
    expect(result.stderr.split("\n").at(-2)).toBe(
      `error: GET ${base}/broken: 500 Internal Server Error: database on fire (after 3 attempts)`,
    );
  });

  test("an HTML error page from a proxy is retried, then named in one line", async () => {
    const result = await poll({
      endpoint: `${base}/bad-gateway`,
      max_retries: 1,
      retry_backoff: 10,
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr.split("\n").at(-2)).toBe(
      `error: GET ${base}/bad-gateway: 502 Bad Gateway: <html><body><h1>502 Bad Gateway</h1></body></html> (after 2 attempts)`,
    );
  });

  test("HTML or text where JSON was expected is one line, no stack trace", async () => {
    const html = await poll({ endpoint: `${base}/html` });
    expect(html.exitCode).toBe(1);
    expect(html.stderr).toBe(
      `error: GET ${base}/html: expected JSON, got text/html: <!doctype html><html><head><title>Login</title></head><body>Please sign in</body></html>\n`,
    );
    const text = await poll({ endpoint: `${base}/text` });
    expect(text.stderr).toBe(`error: GET ${base}/text: expected JSON, got text/plain: ok then\n`);
  });

  test("a response slower than timeout is abandoned and retried", async () => {
    reset();
    const result = await poll({ endpoint: `${base}/slow`, timeout: 500, retry_backoff: 10 });
    expect(result.exitCode).toBe(0);
    expect(ids(result)).toEqual([1]);
    expect(result.stderr).toStartWith(
      `GET ${base}/slow: no complete response within 500 ms (timeout); retry 1 of 5 in`,
    );
  });

  test("a response that never ends fails within timeout x attempts", async () => {
    const started = Date.now();
    const result = await poll({
      endpoint: `${base}/endless`,
      timeout: 300,
      max_retries: 1,
      retry_backoff: 10,
    });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result.exitCode).toBe(1);
    expect(result.stderr.split("\n").at(-2)).toBe(
      `error: GET ${base}/endless: no complete response within 300 ms (timeout) (after 2 attempts)`,
    );
  });

  test("SIGTERM in the middle of a response: the request is abandoned, exit 0 at once", async () => {
    const provider = await startHttp("http-poll", { endpoint: `${base}/endless`, timeout: 60_000 });
    await Bun.sleep(300);
    const stoppedAt = Date.now();
    provider.child.kill("SIGTERM");
    const finished = await provider.finish(10_000);
    expect(Date.now() - stoppedAt).toBeLessThan(2000);
    expect(finished.exitCode).toBe(0);
    expect(finished.stderr).toBe("");
    expect(splitOutput(finished.stdout).events).toEqual([]);
  });

  test("a truncated body (connection closed early) is retried", async () => {
    const result = await poll({ endpoint: `http://127.0.0.1:${raw.port}/`, retry_backoff: 10 });
    expect(result.exitCode).toBe(0);
    expect(ids(result)).toEqual([1, 2]);
    expect(result.stderr).toContain("retry 1 of 5");
  });

  test("redirects are followed; credentials never go to another origin", async () => {
    const same = await poll({ endpoint: `${base}/redirect` });
    expect(same.events.map((event) => event.data)).toEqual([{ status: "ok", version: 3 }]);
    const away = await poll({ endpoint: `${base}/away`, auth_token: "s3cret-token-value" });
    expect(away.events.map((event) => event.data)).toEqual([{ landed: true, authorization: null }]);
    const loop = await poll({ endpoint: `${base}/redirect-loop` });
    expect(loop.stderr).toBe(
      `error: GET ${base}/redirect-loop: more than 10 redirects (last to ${base}/redirect-loop)\n`,
    );
  });

  test("rate_limit spaces requests out", async () => {
    reset();
    await poll({ endpoint: `${base}/pages`, page_param: "page", rate_limit: 10 });
    expect(requests).toHaveLength(4);
    for (let index = 1; index < requests.length; index++) {
      expect((requests[index]?.at ?? 0) - (requests[index - 1]?.at ?? 0)).toBeGreaterThanOrEqual(
        90,
      );
    }
  });

  test("a refused connection is retried, then one line", async () => {
    const port = raw.port + 1 === api.port ? raw.port + 2 : raw.port + 1;
    const result = await poll({
      endpoint: `http://127.0.0.1:${port}/x`,
      max_retries: 1,
      retry_backoff: 10,
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr.split("\n").at(-2)).toMatch(
      new RegExp(
        `^error: GET http://127\\.0\\.0\\.1:${port}/x: connection refused( \\(\\w+\\))? \\(after 2 attempts\\)$`,
      ),
    );
  });
});

describe("TLS", () => {
  const tls = {
    cert: Bun.file(join(import.meta.dir, "http-tls/cert.pem")),
    key: Bun.file(join(import.meta.dir, "http-tls/key.pem")),
  };

  test("an untrusted certificate fails at once with the fix; trusted through NODE_EXTRA_CA_CERTS it is read", async () => {
    const secure = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      tls,
      fetch: () => Response.json([{ id: 1 }]),
    });
    try {
      const endpoint = `https://127.0.0.1:${secure.port}/x`;
      const refused = await poll({ endpoint });
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toBe(
        `error: GET ${endpoint}: self signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT): the server's certificate is not trusted (add its CA with NODE_EXTRA_CA_CERTS=<file>)\n`,
      );
      const provider = await startHttp("http-poll", { endpoint, poll_interval: 0 }, null, {
        NODE_EXTRA_CA_CERTS: join(import.meta.dir, "http-tls/cert.pem"),
      });
      const trusted = await provider.finish();
      expect(trusted.exitCode).toBe(0);
      expect(ids(splitOutput(trusted.stdout))).toEqual([1]);
    } finally {
      secure.stop(true);
    }
  });
});

describe("secrets", () => {
  const token = "tok-9f8e7d6c5b4a";
  const password = "pa55-w0rd-xyz";
  const apiKey = "key-0123456789";

  test("a token echoed back in a 401 body, a URL password and an api_key query value appear nowhere", async () => {
    reset();
    const result = await poll({
      endpoint: `http://reader:${password}@127.0.0.1:${api.port}/forbidden?api_key=${apiKey}`,
      auth_token: token,
    });
    expect(result.exitCode).toBe(1);
    expect(requests[0]?.headers.get("authorization")).toBe(`Bearer ${token}`);
    expect(result.stderr).toBe(
      `error: GET ${base}/forbidden?api_key=***: 401 Unauthorized (check auth_token): {"error":"bad token Bearer ***"}\n`,
    );
  });

  test("a URL's user and password go as Basic auth, and events show the URL without them", async () => {
    reset();
    const result = await poll({
      endpoint: `http://reader:${password}@127.0.0.1:${api.port}/echo?api_key=${apiKey}`,
    });
    expect(requests[0]?.headers.get("authorization")).toBe(`Basic ${btoa(`reader:${password}`)}`);
    expect(result.events[0]?.metadata.url).toBe(`${base}/echo?api_key=***`);
    expect(JSON.stringify(result)).not.toContain(password);
    expect(JSON.stringify(result.events.map((event) => event.metadata))).not.toContain(apiKey);
  });
});

describe("bad settings", () => {
  test.each([
    [{}, "endpoint: is required"],
    [{ endpoint: "ftp://x" }, "endpoint: must be an http:// or https:// URL"],
    [
      { endpoint: "http://x", page_param: "p", next: "a.b" },
      "next: use one of next, cursor, page_param and offset_param (Link headers are followed when none is set)",
    ],
    [{ endpoint: "http://x", poll_interval: "5s" }, "poll_interval: must be a number"],
  ])("%j: one line", async (config, message) => {
    const provider = await startHttp("http-poll", config);
    const finished = await provider.finish();
    expect(finished.exitCode).toBe(1);
    expect(finished.stderr).toBe(`error: invalid config: ${message}\n`);
  });

  test("a checkpoint of another provider is refused with the fix", async () => {
    const result = await poll({ endpoint: `${base}/single` }, { value: 3 });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      'error: checkpoint {"value":3} is not an http-poll position ({"sequence": n, ...}); reset it with dstream state reset\n',
    );
  });
});
