// Retries with backoff: the real registry behind proxies that answer 503 and 429, drop connections
// before answering, and cut a blob off halfway; the pull still ends with the verified binary. When
// the retries run out, the error says how often dstream tried and what to do.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatPlatform, hostPlatform } from "../../../src/oci/index.ts";
import { type RunningRegistry, runDstream, startRegistry } from "../../helpers/registry.ts";
import { forward, httpProxy } from "./proxies.ts";

const host = formatPlatform(hostPlatform());
let registry: RunningRegistry;
let folder: string;
let binaryDigest: string;
const servers: { stop(force?: boolean): void }[] = [];

async function pull(proxyHost: string) {
  const dir = await mkdtemp(join(folder, "project-"));
  await writeFile(
    join(dir, "dstream.hcl"),
    `task "t" {\n  input {\n    provider_ref = "${proxyHost}/acme/flaky:v1"\n  }\n  output {\n    provider = "null"\n  }\n}\n`,
  );
  return runDstream(["providers", "pull"], {
    cwd: dir,
    env: { DSTREAM_CACHE_DIR: join(dir, "cache") },
  });
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "dstream-retries-"));
  registry = await startRegistry();
  const binary = join(folder, "flaky");
  const bytes = new Uint8Array(2 * 1024 * 1024).fill(65);
  bytes.set(new TextEncoder().encode("#!/bin/sh\nexit 0\n"));
  await writeFile(binary, bytes);
  await chmod(binary, 0o755);
  binaryDigest = `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;
  const pushed = await runDstream([
    "providers",
    "push",
    `${registry.host}/acme/flaky:v1`,
    "--platform",
    `${host}=${binary}`,
  ]);
  expect(pushed.exitCode).toBe(0);
});
afterAll(async () => {
  for (const server of servers) server.stop(true);
  await registry?.stop();
  await rm(folder, { recursive: true, force: true });
});

describe("retries", () => {
  test("503 then 429 on every request, and a blob cut off halfway; Accept headers on every try", async () => {
    const seen = new Map<string, number>();
    let blobCutOff = false;
    const accepts: string[] = [];
    const proxy = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(request) {
        const key = `${request.method} ${new URL(request.url).pathname}`;
        if (key.includes("/manifests/")) accepts.push(request.headers.get("accept") ?? "");
        const count = (seen.get(key) ?? 0) + 1;
        seen.set(key, count);
        if (count === 1) return new Response("busy", { status: 503 });
        if (count === 2)
          return new Response("slow down", { status: 429, headers: { "retry-after": "0" } });
        const response = await forward(registry.host, request);
        if (!key.includes("/blobs/") || blobCutOff) return response;
        blobCutOff = true;
        const reader = (response.body as ReadableStream<Uint8Array>).getReader();
        let sent = 0;
        const half = new ReadableStream<Uint8Array>({
          async pull(controller) {
            const { value, done } = await reader.read();
            if (done || sent > 1024 * 1024) {
              // Ends early while Content-Length promises the whole blob: a dropped connection.
              await reader.cancel();
              controller.close();
              return;
            }
            sent += value.byteLength;
            controller.enqueue(value);
          },
        });
        return new Response(half, { status: 200, headers: response.headers });
      },
    });
    servers.push(proxy);
    const pulled = await pull(`127.0.0.1:${proxy.port}`);
    expect(pulled.stderr).toBe("");
    expect(pulled.exitCode).toBe(0);
    expect(pulled.stdout).toBe(`127.0.0.1:${proxy.port}/acme/flaky:v1  ${host}  ${binaryDigest}\n`);
    expect(blobCutOff).toBe(true);
    expect(Math.min(...seen.values())).toBeGreaterThanOrEqual(3);
    // Every manifest request, retries included, says which manifest types dstream reads.
    expect(accepts.length).toBeGreaterThanOrEqual(6);
    for (const accept of accepts) {
      expect(accept).toBe(
        "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json",
      );
    }
  });

  test("connections closed before any answer are retried", async () => {
    let dropped = 0;
    const proxy = Bun.listen<{
      upstream?: Awaited<ReturnType<typeof Bun.connect>>;
      pending: Uint8Array[];
    }>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        async open(socket) {
          socket.data = { pending: [] };
          if (dropped < 2) {
            dropped++;
            socket.end();
            return;
          }
          const [registryHost, registryPort] = registry.host.split(":");
          socket.data.upstream = await Bun.connect({
            hostname: registryHost as string,
            port: Number(registryPort),
            socket: {
              data: (_upstream, chunk) => {
                socket.write(chunk);
              },
              close: () => {
                socket.end();
              },
            },
          });
          for (const chunk of socket.data.pending) socket.data.upstream.write(chunk);
        },
        data(socket, chunk) {
          if (socket.data.upstream) socket.data.upstream.write(chunk);
          else socket.data.pending.push(new Uint8Array(chunk));
        },
        close(socket) {
          socket.data.upstream?.end();
        },
      },
    });
    servers.push(proxy);
    const port = proxy.port;
    const pulled = await pull(`127.0.0.1:${port}`);
    expect(pulled.stderr).toBe("");
    expect(pulled.exitCode).toBe(0);
    expect(pulled.stdout).toBe(`127.0.0.1:${port}/acme/flaky:v1  ${host}  ${binaryDigest}\n`);
    expect(dropped).toBe(2);
  });

  test.each([
    [
      503,
      (proxy: string, reference: string) =>
        `error: registry ${proxy} kept failing on the manifest of ${reference} with 503 Service Unavailable after 4 attempts: the registry (or a proxy in front of it) is in trouble; try again later\n`,
    ],
    [
      429,
      (proxy: string, reference: string) =>
        `error: registry ${proxy} kept refusing the manifest of ${reference} with 429 Too Many Requests after 4 attempts: it is rate-limiting; wait a few minutes and try again (logged-in clients usually get higher limits: docker login ${proxy})\n`,
    ],
  ])(
    "a registry that keeps answering %d: the error counts the attempts and says what to do",
    async (status, message) => {
      let requests = 0;
      const proxy = httpProxy(registry.host, () => {
        requests++;
        return new Response("no", { status, headers: { "retry-after": "0" } });
      });
      servers.push(proxy);
      const pulled = await pull(proxy.host);
      expect(pulled.stderr).toBe(message(proxy.host, `${proxy.host}/acme/flaky:v1`));
      expect(pulled.exitCode).toBe(1);
      expect(requests).toBe(4);
    },
  );
});
