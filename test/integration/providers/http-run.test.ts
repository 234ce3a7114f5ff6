// http-poll -> http through `dstream run` (the compiled binary): every record arrives, and the
// token and URL password appear neither on stderr, in --stats-json nor in `dstream plan`.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runDstream } from "../../helpers/binary.ts";
import { serve } from "./http-helpers.ts";

const token = "tok-e2e-5a4b3c2d1e";
const password = "pw-e2e-0f9e8d7c";
const apiKey = "key-e2e-13579bdf";
let api: ReturnType<typeof serve>;
let sink: ReturnType<typeof serve>;
let received: string[] = [];
let folder = "";

beforeAll(() => {
  api = serve((request) => {
    if (request.headers.get("authorization") !== `Bearer ${token}`) {
      return new Response(`{"error":"unknown token ${request.headers.get("authorization")}"}`, {
        status: 401,
      });
    }
    const page = Number(new URL(request.url).searchParams.get("page"));
    return Response.json({ items: page <= 4 ? [{ id: page * 2 - 1 }, { id: page * 2 }] : [] });
  });
  sink = serve(async (request) => {
    received.push(await request.text());
    return new Response(null, { status: 202 });
  });
  folder = mkdtempSync(join(tmpdir(), "dstream-http-run-"));
  writeFileSync(
    join(folder, "dstream.hcl"),
    `task "api-to-http" {
  input {
    provider = "http-poll"
    config {
      endpoint      = "http://reader:${password}@127.0.0.1:${api.port}/items?api_key=${apiKey}"
      auth_token    = "{{ env \\"API_TOKEN\\" }}"
      records       = "items"
      page_param    = "page"
      poll_interval = 0
    }
  }
  output {
    provider = "http"
    config {
      url        = "http://127.0.0.1:${sink.port}/ingest"
      auth_token = "{{ env \\"API_TOKEN\\" }}"
      batch      = 3
    }
  }
}
`,
  );
});

afterAll(() => {
  api?.stop(true);
  sink?.stop(true);
  rmSync(folder, { recursive: true, force: true });
});

test("every record of every page reaches the receiver; the stats file holds no secret", async () => {
  received = [];
  const stats = join(folder, "stats.json");
  const result = await runDstream(
    ["run", "api-to-http", "-c", join(folder, "dstream.hcl"), "--stats-json", stats],
    {
      env: { API_TOKEN: token },
      timeoutMs: 30_000,
    },
  );
  expect(result.exitCode).toBe(0);
  const ids = received.flatMap((body) =>
    body
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line).data.id),
  );
  expect(ids).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  const saved = readFileSync(stats, "utf8");
  // The run's last checkpoint is in the stats file (protocol v2): with the key masked.
  expect(saved).toContain('"sequence": 8');
  const everything = result.stdout + result.stderr + saved;
  expect(everything).not.toContain(token);
  expect(everything).not.toContain(password);
  expect(everything).not.toContain(apiKey);
});

test("a refused token fails the run with one line naming the URL and status; no secret anywhere", async () => {
  const stats = join(folder, "failed.json");
  const result = await runDstream(
    ["run", "api-to-http", "-c", join(folder, "dstream.hcl"), "--stats-json", stats],
    {
      env: { API_TOKEN: "tok-wrong-99887766" },
      timeoutMs: 30_000,
    },
  );
  expect(result.exitCode).toBe(1);
  const saved = JSON.parse(readFileSync(stats, "utf8")) as { ok: boolean; error: string };
  expect(saved.ok).toBe(false);
  expect(saved.error).toContain(
    `GET http://127.0.0.1:${api.port}/items?api_key=***&page=1: 401 Unauthorized (check auth_token): {"error":"unknown token Bearer ***"}`,
  );
  const everything = result.stdout + result.stderr + JSON.stringify(saved);
  expect(everything).not.toContain("tok-wrong-99887766");
  expect(everything).not.toContain(password);
});

test("dstream plan shows both ends without credentials", async () => {
  const result = await runDstream(
    ["plan", "api-to-http", "-c", join(folder, "dstream.hcl"), "--provider", "both"],
    {
      env: { API_TOKEN: token },
    },
  );
  expect(result.exitCode).toBe(0);
  expect(result.stdout).toContain(
    `input (http-poll): Success - would poll GET http://127.0.0.1:${api.port}/items?api_key=***&page=1 once, page pagination`,
  );
  expect(result.stdout).toContain(
    `output (http): Success - would POST ndjson to http://127.0.0.1:${sink.port}/ingest, up to 3 events per request`,
  );
  expect(result.stdout + result.stderr).not.toContain(token);
  expect(result.stdout + result.stderr).not.toContain(password);
  expect(result.stdout + result.stderr).not.toContain(apiKey);
});

test("dstream status asks the API for its first page; a refused token is Failed, without the token", async () => {
  const config = join(folder, "dstream.hcl");
  const ok = await runDstream(["status", "api-to-http", "-c", config, "--provider", "input"], {
    env: { API_TOKEN: token },
  });
  expect(ok.exitCode).toBe(0);
  expect(ok.stdout).toBe(
    `input (http-poll): Success - GET http://127.0.0.1:${api.port}/items?api_key=***&page=1: 200 OK, 2 records on the first page\n`,
  );
  // The provider's Failed line is in --json; the text form names only its exit (runtime's choice).
  const refused = await runDstream(
    ["status", "api-to-http", "-c", config, "--provider", "input", "--json"],
    {
      env: { API_TOKEN: "tok-wrong-99887766" },
    },
  );
  expect(refused.exitCode).toBe(1);
  const [outcome] = JSON.parse(refused.stdout) as {
    result?: { status: string; message: string };
  }[];
  expect(outcome?.result).toEqual({
    status: "Failed",
    message: `GET http://127.0.0.1:${api.port}/items?api_key=***&page=1: 401 Unauthorized (check auth_token): {"error":"unknown token Bearer ***"}`,
    resources: [],
  } as never);
  expect(refused.stdout + refused.stderr).not.toContain("tok-wrong-99887766");
});
