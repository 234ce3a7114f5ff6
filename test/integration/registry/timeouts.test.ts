// Waits bounded by progress, not by size (DSTREAM_REGISTRY_TIMEOUT): a registry that never answers
// fails fast with a clear message; uploads and downloads slower than the timeout go on while they
// move, and fail once they stall. Paced and stalled through TCP proxies in front of the registry.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatPlatform, hostPlatform } from "../../../src/oci/index.ts";
import { type RunningRegistry, runDstream, startRegistry } from "../../helpers/registry.ts";
import { type FaultProxy, silentServer, tcpProxy } from "./proxies.ts";

const host = formatPlatform(hostPlatform());
/** Large enough that the kernel's socket buffers hold well under half of it. */
const SIZE = 24 * 1024 * 1024;
/** Bytes per second: SIZE takes about 8 s, eight times the timeout below. */
const RATE = 3_000_000;
const timeout = { DSTREAM_REGISTRY_TIMEOUT: "1" };
let registry: RunningRegistry;
let folder: string;
let binary: string;
let binaryDigest: string;
const proxies: FaultProxy[] = [];

async function project(reference: string) {
  const dir = await mkdtemp(join(folder, "project-"));
  await writeFile(
    join(dir, "dstream.hcl"),
    `task "t" {\n  input {\n    provider_ref = "${reference}"\n  }\n  output {\n    provider = "null"\n  }\n}\n`,
  );
  return dir;
}

async function timed<T>(run: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await run();
  return [result, performance.now() - started];
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "dstream-timeouts-"));
  registry = await startRegistry();
  const bytes = new Uint8Array(SIZE);
  crypto.getRandomValues(bytes.subarray(0, 65536));
  bytes.set(new TextEncoder().encode("#!/bin/sh\nexit 0\n"));
  for (let offset = 65536; offset < SIZE; offset += 65536) bytes.copyWithin(offset, 0, 65536);
  binary = join(folder, "large");
  await writeFile(binary, bytes);
  await chmod(binary, 0o755);
  binaryDigest = `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;
  const pushed = await runDstream([
    "providers",
    "push",
    `${registry.host}/acme/large:v1`,
    "--platform",
    `${host}=${binary}`,
  ]);
  expect(pushed.exitCode).toBe(0);
});
afterAll(async () => {
  for (const proxy of proxies) proxy.stop();
  await registry?.stop();
  await rm(folder, { recursive: true, force: true });
});

describe("timeouts", () => {
  test("a registry that accepts connections and never answers: no answer within N s, two tries", async () => {
    const silent = silentServer();
    proxies.push(silent);
    const reference = `${silent.host}/acme/x:v1`;
    const [result, elapsed] = await timed(() =>
      runDstream(["providers", "inspect", reference], { env: { DSTREAM_REGISTRY_TIMEOUT: "0.5" } }),
    );
    expect(result.stderr).toBe(
      `error: no answer from registry ${silent.host} within 0.5 s for ${reference} (check that the registry is up and not overloaded, or raise DSTREAM_REGISTRY_TIMEOUT from 0.5 s; dstream tried 2 times)\n`,
    );
    expect(result.exitCode).toBe(1);
    expect(elapsed).toBeLessThan(5_000);
  });

  test("DSTREAM_REGISTRY_TIMEOUT must be a number of seconds above 0 (exit 2)", async () => {
    const result = await runDstream(["providers", "inspect", `${registry.host}/acme/large:v1`], {
      env: { DSTREAM_REGISTRY_TIMEOUT: "soon" },
    });
    expect(result.stderr).toBe(
      'error: DSTREAM_REGISTRY_TIMEOUT="soon" is not a number of seconds above 0 (for example 30 or 2.5)\n',
    );
    expect(result.exitCode).toBe(2);
  });

  test("an upload slower than the timeout goes on while it moves; a stalled one fails", async () => {
    const slow = await tcpProxy(registry.host, { upRate: RATE });
    proxies.push(slow);
    // A repository each: the registry would skip a blob the repository has already.
    const push = (proxyHost: string, name: string) =>
      runDstream(
        ["providers", "push", `${proxyHost}/acme/${name}:v1`, "--platform", `${host}=${binary}`],
        { env: timeout },
      );
    const [pushed, elapsed] = await timed(() => push(slow.host, "slow-upload"));
    expect(pushed.stderr).toBe("");
    expect(pushed.exitCode).toBe(0);
    expect(elapsed).toBeGreaterThan(4_000);

    const stalled = await tcpProxy(registry.host, { stallUpAfter: 2_000_000 });
    proxies.push(stalled);
    const failed = await push(stalled.host, "stalled-upload");
    expect(failed.stderr).toBe(
      `error: the upload of ${stalled.host}/acme/stalled-upload:v1 to registry ${stalled.host} made no progress for 1 s (check the network, or raise DSTREAM_REGISTRY_TIMEOUT from 1 s; dstream tried 4 times)\n`,
    );
    expect(failed.exitCode).toBe(1);
  });

  test("a download slower than the timeout goes on while it moves; a stalled one fails", async () => {
    const slow = await tcpProxy(registry.host, { downRate: RATE });
    proxies.push(slow);
    const pull = async (proxyHost: string) => {
      const reference = `${proxyHost}/acme/large:v1`;
      const dir = await project(reference);
      const env = { ...timeout, DSTREAM_CACHE_DIR: join(dir, "cache") };
      return { reference, ...(await runDstream(["providers", "pull"], { cwd: dir, env })) };
    };
    const [pulled, elapsed] = await timed(() => pull(slow.host));
    expect(pulled.stderr).toBe("");
    expect(pulled.stdout).toBe(`${pulled.reference}  ${host}  ${binaryDigest}\n`);
    expect(elapsed).toBeGreaterThan(4_000);

    const stalled = await tcpProxy(registry.host, { stallDownAfter: 2_000_000 });
    proxies.push(stalled);
    const failed = await pull(stalled.host);
    expect(failed.stderr).toBe(
      `error: the download of ${failed.reference} (${host}) from registry ${stalled.host} broke off 2 times: no data from registry ${stalled.host} for 1 s\n`,
    );
    expect(failed.exitCode).toBe(1);
  });
});
