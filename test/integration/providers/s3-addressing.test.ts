// addressing = "virtual" against SeaweedFS (test/services/s3.sh serves <bucket>.s3.localhost, and
// Bun resolves every *.localhost name to 127.0.0.1): init creates the bucket, the output writes and
// the input reads, each request seen by a pass-through proxy to prove the bucket was in the host.
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { launchers, startProvider } from "./helpers.ts";
import {
  admin,
  adminKeys,
  readObjects,
  type S3Server,
  s3Server,
  uniqueBucket,
  virtualHostDomain,
} from "./s3-helpers.ts";

let server: S3Server;
beforeAll(async () => {
  server = await s3Server();
}, 1_200_000);

/** Forwards every request to SeaweedFS unchanged (Host header included) and notes host and path. */
function recordingProxy(): { endpoint: string; seen: string[]; stop: () => void } {
  const seen: string[] = [];
  const proxy = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const url = new URL(request.url);
      seen.push(`${request.method} ${request.headers.get("host")} ${url.pathname}`);
      const hasBody = request.method !== "GET" && request.method !== "HEAD";
      return fetch(`${server.endpoint}${url.pathname}${url.search}`, {
        method: request.method,
        headers: request.headers,
        ...(hasBody ? { body: await request.arrayBuffer() } : {}),
        redirect: "manual",
        decompress: false,
      });
    },
  });
  return {
    endpoint: `http://${virtualHostDomain}:${proxy.port}`,
    seen,
    stop: () => proxy.stop(true),
  };
}

let stopProxy = () => {};
afterEach(() => stopProxy());

describe.each(launchers)('s3 addressing = "virtual" ($label)', (launcher) => {
  test("init creates the bucket, the output writes and the input reads, all at <bucket>.<endpoint host>", async () => {
    const bucket = uniqueBucket("virtual");
    const resolved = await Bun.dns.lookup(`${bucket}.${virtualHostDomain}`);
    expect(resolved.map((address) => address.address)).toContain("127.0.0.1");
    const proxy = recordingProxy();
    stopProxy = proxy.stop;
    const settings = { bucket, endpoint: proxy.endpoint, addressing: "virtual", prefix: "events/" };

    const init = startProvider(await launcher.command("s3"), {
      role: "output",
      firstLine: JSON.stringify({ command: "init", config: { ...settings, ...adminKeys } }),
    });
    init.end();
    const initResult = await init.finish();
    expect(JSON.parse(initResult.stdout.trim()).message).toBe(
      `created bucket ${bucket} takes writes under "events/"`,
    );

    const output = startProvider(await launcher.command("s3"), {
      role: "output",
      firstLine: JSON.stringify({ command: "run", config: { ...settings, ...admin } }),
    });
    output.write(
      [1, 2, 3]
        .map((n) => `${JSON.stringify({ data: { n }, metadata: { sequence: n } })}\n`)
        .join(""),
    );
    output.end();
    const written = await output.finish();
    expect(written.stderr).toContain("wrote 1 object(s)");
    expect(written.exitCode).toBe(0);

    // Read path-style by pyarrow: the objects are in the bucket the host named, at the keys asked.
    const objects = await readObjects(server, bucket);
    expect(objects.map((object) => [object.key, object.rows])).toEqual([
      ["events/00000000000000000001.parquet", [{ n: 1 }, { n: 2 }, { n: 3 }]],
    ]);

    const input = startProvider(await launcher.command("s3"), {
      role: "input",
      firstLine: JSON.stringify({ command: "run", config: { ...settings, ...admin } }),
    });
    input.end();
    const read = await input.finish();
    expect(read.exitCode).toBe(0);
    const events = read.stdout
      .split("\n")
      .filter((line) => line.startsWith('{"data"'))
      .map((line) => JSON.parse(line) as { data: unknown });
    expect(events.map((event) => event.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);

    // Every request (CreateBucket, probes, the upload, listings, reads) named the bucket in
    // the host and not in the path.
    const host = `${bucket}.${virtualHostDomain}:${new URL(proxy.endpoint).port}`;
    expect(proxy.seen.length).toBeGreaterThanOrEqual(6);
    for (const request of proxy.seen) {
      const [, requestHost, path] = request.split(" ");
      expect({ request, host: requestHost }).toEqual({ request, host });
      expect(path?.startsWith(`/${bucket}`)).toBe(false);
    }
    expect(proxy.seen).toContain(`PUT ${host} /`);
  }, 60_000);
});
