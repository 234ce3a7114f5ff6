// The cache over time: `providers ls` records every ref that resolved (cached binary or not, and
// after an --upgrade), `providers pull` re-hashes cached binaries and replaces corrupt ones, and a
// pull sweeps the temp files that interrupted pulls left behind.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmod, mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatPlatform, hostPlatform } from "../../../src/oci/index.ts";
import {
  dstreamBinary,
  type RunningRegistry,
  runDstream,
  startRegistry,
} from "../../helpers/registry.ts";
import { tcpProxy } from "./proxies.ts";

const host = formatPlatform(hostPlatform());
let registry: RunningRegistry;
let folder: string;

const digestOf = (bytes: Uint8Array) =>
  `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;

async function push(reference: string, bytes: Uint8Array, ...extra: string[]): Promise<string> {
  const path = join(folder, `bin-${crypto.randomUUID()}`);
  await writeFile(path, bytes);
  await chmod(path, 0o755);
  const pushed = await runDstream(
    ["providers", "push", reference, "--platform", `${host}=${path}`, ...extra],
    {},
  );
  expect(pushed.stderr).toBe("");
  return pushed.stdout.trimEnd().split("\n").at(-1)?.split("  ")[1] as string;
}

/** A project whose tasks pull `references` as inputs, one task each. */
async function project(...references: string[]) {
  const dir = await mkdtemp(join(folder, "project-"));
  const tasks = references.map(
    (reference, index) =>
      `task "t${index}" {\n  input {\n    provider_ref = "${reference}"\n  }\n  output {\n    provider = "null"\n  }\n}\n`,
  );
  await writeFile(join(dir, "dstream.hcl"), tasks.join("\n"));
  const cache = join(dir, "cache");
  const env = { DSTREAM_CACHE_DIR: cache };
  return {
    dir,
    cache,
    env,
    run: (...args: string[]) => runDstream(["providers", ...args], { cwd: dir, env }),
    listed: async () =>
      JSON.parse((await runDstream(["providers", "ls", "--json"], { env })).stdout) as {
        reference: string;
        artifactDigest: string;
        digest: string;
      }[],
  };
}

const script = (text: string) => new TextEncoder().encode(`#!/bin/sh\necho ${text}\n`);

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "dstream-cache-"));
  registry = await startRegistry();
});
afterAll(async () => {
  await registry?.stop();
  await rm(folder, { recursive: true, force: true });
});

describe("providers ls records", () => {
  test("a ref whose binary another ref had cached is listed too", async () => {
    const bytes = script("shared");
    const first = `${registry.host}/acme/first:v1`;
    const second = `${registry.host}/acme/second:v1`;
    await push(first, bytes);
    await push(second, bytes);
    const { run, listed } = await project(first, second);
    expect((await run("pull")).exitCode).toBe(0);
    expect((await listed()).map((record) => [record.reference, record.digest])).toEqual([
      [first, digestOf(bytes)],
      [second, digestOf(bytes)],
    ]);
  });

  test("an --upgrade that keeps the binary updates the artifact digest", async () => {
    const bytes = script("kept");
    const reference = `${registry.host}/acme/kept:v1`;
    const before = await push(reference, bytes);
    const { run, listed } = await project(reference);
    expect((await run("pull")).exitCode).toBe(0);
    expect((await listed())[0]?.artifactDigest).toBe(before);

    const providerJson = join(folder, "provider.json");
    await writeFile(providerJson, JSON.stringify({ name: "kept", version: "2" }));
    const after = await push(reference, bytes, "--config", providerJson);
    expect(after).not.toBe(before);
    expect((await run("pull", "--upgrade")).exitCode).toBe(0);
    expect((await listed())[0]?.artifactDigest).toBe(after);
  });
});

describe("cache integrity", () => {
  test("providers pull re-hashes a cached binary and replaces a corrupt one", async () => {
    const bytes = script("intact");
    const reference = `${registry.host}/acme/intact:v1`;
    await push(reference, bytes);
    const { cache, run } = await project(reference);
    expect((await run("pull")).exitCode).toBe(0);
    const cached = join(cache, "blobs", "sha256", digestOf(bytes).slice(7));
    await writeFile(cached, script("flipped"));

    const repaired = await run("pull");
    expect(repaired.stderr).toBe(
      `⚠ the cached ${host} binary of ${reference} no longer matched ${digestOf(bytes)}: it was downloaded again\n`,
    );
    expect(repaired.stdout).toBe(`${reference}  ${host}  ${digestOf(bytes)}\n`);
    expect(repaired.exitCode).toBe(0);
    expect(digestOf(await Bun.file(cached).bytes())).toBe(digestOf(bytes));
    expect((await run("pull")).stderr).toBe("");
  });

  test("a pull sweeps temp files of pulls that died, and keeps those of live ones", async () => {
    const large = new Uint8Array(8 * 1024 * 1024).fill(7);
    large.set(script("large"));
    await push(`${registry.host}/acme/interrupted:v1`, large);
    const slow = await tcpProxy(registry.host, { downRate: 1_000_000 });
    const { cache, dir, env } = await project(`${slow.host}/acme/interrupted:v1`);
    const tmp = join(cache, "tmp");
    const child = Bun.spawn([dstreamBinary, "providers", "pull"], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdout: "ignore",
      stderr: "ignore",
    });
    while ((await readdir(tmp).catch(() => [])).length === 0) await Bun.sleep(20);
    child.kill("SIGKILL");
    await child.exited;
    slow.stop();
    const [orphan] = await readdir(tmp);
    // The sweep leaves a dead owner's file a minute, in case it writes from another PID namespace.
    const minutesAgo = new Date(Date.now() - 2 * 60_000);
    await utimes(join(tmp, orphan as string), minutesAgo, minutesAgo);
    const live = `sha256-${"a".repeat(64)}.${process.pid}-${crypto.randomUUID()}`;
    const ancient = `sha256-${"b".repeat(64)}.${process.pid}-${crypto.randomUUID()}`;
    await mkdir(tmp, { recursive: true });
    for (const [name, age] of [
      [live, 2 * 60 * 60_000],
      [ancient, 2 * 24 * 60 * 60_000],
    ] as const) {
      await writeFile(join(tmp, name), "partial");
      const then = new Date(Date.now() - age);
      await utimes(join(tmp, name), then, then);
    }

    const reference = `${registry.host}/acme/after:v1`;
    await push(reference, script("after"));
    await writeFile(
      join(dir, "dstream.hcl"),
      `task "t" {\n  input {\n    provider_ref = "${reference}"\n  }\n  output {\n    provider = "null"\n  }\n}\n`,
    );
    const pulled = await runDstream(["providers", "pull"], { cwd: dir, env });
    expect(pulled.stderr).toBe("");
    expect(pulled.exitCode).toBe(0);
    expect(await readdir(tmp)).toEqual([live]);
  });
});
