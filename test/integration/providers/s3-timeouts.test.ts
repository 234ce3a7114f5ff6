// s3 requests never hang: an endpoint that accepts connections and never answers fails `dstream
// run` within request_timeout (exit 1, one line), an upload that gets no answer likewise, and a
// host name that does not resolve is one line with the fix.
import { afterEach, beforeAll, beforeEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dstreamBinary, runDstream } from "../../helpers/binary.ts";
import { launchers, startProvider } from "./helpers.ts";

beforeAll(async () => {
  await dstreamBinary();
}, 1_200_000);

let folder = "";
const cleanups: (() => void)[] = [];
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), "dstream-s3-timeouts-"));
});
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  rmSync(folder, { recursive: true, force: true });
});

const keys = { access_key_id: "k", secret_access_key: "s3cr3t-value" };
const compiled = launchers.find((launcher) => launcher.label === "compiled binary");

/** A TCP listener that accepts every connection and never sends a byte. */
function silentListener(): number {
  const held: Bun.Socket[] = [];
  const listener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: { open: (socket) => void held.push(socket), data: () => {} },
  });
  cleanups.push(() => {
    for (const socket of held) socket.end();
    listener.stop(true);
  });
  return listener.port;
}

test("an endpoint that accepts and never answers: dstream run ends within request_timeout, exit 1, one line", async () => {
  const port = silentListener();
  const config = join(folder, "dstream.hcl");
  writeFileSync(
    config,
    `task "to-silence" {
  type = "providers"
  input {
    provider = "counter"
    config {
      interval = 10
    }
  }
  output {
    provider = "s3"
    config {
      bucket = "quiet"
      endpoint = "http://127.0.0.1:${port}"
      access_key_id = "k"
      secret_access_key = "s3cr3t-value"
      request_timeout = "1s"
    }
  }
}
`,
  );
  const started = Date.now();
  const result = await runDstream(["run", "to-silence", "-c", config], {
    cwd: folder,
    timeoutMs: 30_000,
  });
  expect(Date.now() - started).toBeLessThan(15_000);
  expect(result.exitCode).toBe(1);
  expect(result.stderr).toContain(
    `error: s3: listing in bucket quiet at http://127.0.0.1:${port} failed: no answer within 1s (request_timeout); check endpoint and the network, or raise request_timeout\n`,
  );
  expect(result.stderr).not.toContain("s3cr3t-value");
}, 60_000);

test("an upload that gets no answer fails within request_timeout, naming the object", async () => {
  if (!compiled) throw new Error("no compiled-binary launcher");
  // Listings answer (an empty bucket); every other request is held open, never answered.
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    fetch(request) {
      if (request.method === "GET")
        return new Response(
          '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>held</Name><Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>',
          { headers: { "content-type": "application/xml" } },
        );
      return new Promise<Response>(() => {});
    },
  });
  cleanups.push(() => server.stop(true));
  const endpoint = `http://127.0.0.1:${server.port}`;
  const provider = startProvider(await compiled.command("s3"), {
    role: "output",
    firstLine: JSON.stringify({
      command: "run",
      config: { bucket: "held", endpoint, ...keys, request_timeout: "1s" },
      protocol: 2,
      checkpoint: null,
    }),
  });
  provider.write('{"data":{"n":1},"metadata":{"sequence":1}}\n');
  provider.end();
  const started = Date.now();
  const result = await provider.finish(20_000);
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(result.exitCode).toBe(1);
  expect(result.stderr).toBe(
    `error: s3: completing 00000000000000000001.parquet in bucket held at ${endpoint} failed: no answer within 1s (request_timeout); check endpoint and the network, or raise request_timeout\n`,
  );
}, 60_000);

test("a host name that does not resolve is one line with the fix", async () => {
  if (!compiled) throw new Error("no compiled-binary launcher");
  const provider = startProvider(await compiled.command("s3"), {
    role: "output",
    firstLine: JSON.stringify({
      command: "run",
      config: { bucket: "b", endpoint: "http://s3.dstream-test.invalid:9000", ...keys },
      protocol: 2,
      checkpoint: null,
    }),
  });
  provider.end();
  const result = await provider.finish(30_000);
  expect(result.exitCode).toBe(1);
  expect(result.stderr).toBe(
    "error: s3: listing in bucket b at http://s3.dstream-test.invalid:9000 failed: the endpoint's host name does not resolve (DNSResolveFailed); check endpoint (or region, for AWS) and DNS\n",
  );
}, 60_000);
