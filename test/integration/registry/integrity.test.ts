// Never run unverified bytes: tampered blobs are refused, the lock wins over a moved tag until
// --upgrade, concurrent pulls of one blob leave one verified file, and concurrent first pulls of
// different refs all keep their lock entries.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmod, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatPlatform, hostPlatform } from "../../../src/oci/index.ts";
import {
  type RunningRegistry,
  runDstream,
  startRegistry,
  storedBlobPath,
} from "../../helpers/registry.ts";

const host = formatPlatform(hostPlatform());
let registry: RunningRegistry;
let folder: string;

const digestOf = (bytes: Uint8Array) =>
  `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;

/** Pushes `bytes` as the host's binary under `reference`; answers the binary's digest. */
async function pushBytes(reference: string, bytes: Uint8Array): Promise<string> {
  const path = join(folder, `bin-${crypto.randomUUID()}`);
  await writeFile(path, bytes);
  await chmod(path, 0o755);
  const pushed = await runDstream([
    "providers",
    "push",
    reference,
    "--platform",
    `${host}=${path}`,
  ]);
  expect(pushed.stderr).toBe("");
  expect(pushed.exitCode).toBe(0);
  return digestOf(bytes);
}

async function project(reference: string) {
  const dir = await mkdtemp(join(folder, "project-"));
  await writeFile(
    join(dir, "dstream.hcl"),
    `task "t" {\n  input {\n    provider_ref = "${reference}"\n  }\n  output {\n    provider = "null"\n  }\n}\n`,
  );
  const cache = join(dir, "cache");
  const env = { DSTREAM_CACHE_DIR: cache };
  return {
    dir,
    cache,
    run: (...args: string[]) => runDstream(["providers", ...args], { cwd: dir, env }),
  };
}

const script = (text: string) => new TextEncoder().encode(`#!/bin/sh\necho ${text}\n`);

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "dstream-integrity-"));
  registry = await startRegistry();
});
afterAll(async () => {
  await registry?.stop();
  await rm(folder, { recursive: true, force: true });
});

describe("verification", () => {
  test("a tampered blob is refused with both digests and never reaches the cache", async () => {
    const reference = `${registry.host}/acme/tampered:v1`;
    const digest = await pushBytes(reference, script("genuine"));
    const evil = script("evil!!!");
    await writeFile(storedBlobPath(registry.storageDir, digest), evil);
    const { dir, cache, run } = await project(reference);
    const pulled = await run("pull");
    expect(pulled.stderr).toBe(
      `error: the ${host} binary of ${reference} does not match its digest: expected ${digest}, got ${digestOf(evil)}; it was discarded and not run\n`,
    );
    expect(pulled.exitCode).toBe(1);
    expect(await readdir(join(cache, "blobs", "sha256"))).toEqual([]);
    expect(await readdir(join(cache, "tmp"))).toEqual([]);
    // Nothing is pinned by a resolution that failed.
    expect(await Bun.file(join(dir, "dstream.lock.hcl")).exists()).toBe(false);
  });

  test("a moved tag: the lock wins until --upgrade", async () => {
    const reference = `${registry.host}/acme/moving:v1`;
    const first = await pushBytes(reference, script("first"));
    const { dir, cache, run } = await project(reference);
    expect((await run("pull")).stdout).toBe(`${reference}  ${host}  ${first}\n`);
    const lockedBefore = await Bun.file(join(dir, "dstream.lock.hcl")).text();

    const second = await pushBytes(reference, script("second"));
    expect((await run("pull")).stdout).toBe(`${reference}  ${host}  ${first}\n`);
    // Even with an empty cache, the pinned digest is fetched, not the tag.
    await rm(cache, { recursive: true });
    expect((await run("pull")).stdout).toBe(`${reference}  ${host}  ${first}\n`);
    expect(await Bun.file(join(dir, "dstream.lock.hcl")).text()).toBe(lockedBefore);

    const locked = await run("lock");
    expect(locked.exitCode).toBe(0);
    expect(locked.stdout).toMatch(
      new RegExp(`^unchanged ${reference.replaceAll(".", "\\.")}  sha256:[a-f0-9]{64}  ${host}\n$`),
    );

    const upgraded = await run("pull", "--upgrade");
    expect(upgraded.stderr).toBe("");
    expect(upgraded.stdout).toBe(`${reference}  ${host}  ${second}\n`);
    const lockedAfter = await Bun.file(join(dir, "dstream.lock.hcl")).text();
    expect(lockedAfter).toContain(`binary = "${second}"`);
    expect(lockedAfter).not.toContain(first);
    expect((await run("pull")).stdout).toBe(`${reference}  ${host}  ${second}\n`);
  });

  test("providers lock pins without downloading, --upgrade re-resolves, unused refs are dropped", async () => {
    const reference = `${registry.host}/acme/locked:v1`;
    const first = await pushBytes(reference, script("one"));
    const { dir, cache, run } = await project(reference);
    const lockPath = join(dir, "dstream.lock.hcl");
    await writeFile(
      lockPath,
      `provider "${registry.host}/acme/gone:v1" {\n  digest = "sha256:${"0".repeat(64)}"\n}\n`,
    );
    const added = await run("lock");
    expect(added.stderr).toBe("");
    expect(added.stdout).toMatch(/^added {5}\S+ {2}sha256:[a-f0-9]{64} {2}\S+\n$/);
    expect(await Bun.file(cache).exists()).toBe(false);
    const text = await Bun.file(lockPath).text();
    expect(text).toContain(`binary = "${first}"`);
    expect(text).not.toContain("acme/gone");

    const second = await pushBytes(reference, script("two"));
    const updated = await run("lock", "--upgrade");
    expect(updated.stdout.startsWith(`updated   ${reference}  `)).toBe(true);
    expect(await Bun.file(lockPath).text()).toContain(`binary = "${second}"`);
  });

  test("two pulls at once share the cache and leave one verified file", async () => {
    const reference = `${registry.host}/acme/big:v1`;
    const bytes = new Uint8Array(24 * 1024 * 1024);
    crypto.getRandomValues(bytes.subarray(0, 65536));
    bytes.set(script("big"), 0);
    for (let offset = 65536; offset < bytes.length; offset += 65536)
      bytes.copyWithin(offset, 0, 65536);
    const digest = await pushBytes(reference, bytes);
    const { cache, run } = await project(reference);
    const [one, two] = await Promise.all([run("pull"), run("pull")]);
    for (const result of [one, two]) {
      expect(result.stderr).toBe("");
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toBe(`${reference}  ${host}  ${digest}\n`);
    }
    expect(await readdir(join(cache, "blobs", "sha256"))).toEqual([digest.slice(7)]);
    expect(await readdir(join(cache, "tmp"))).toEqual([]);
    expect(digestOf(await Bun.file(join(cache, "blobs", "sha256", digest.slice(7))).bytes())).toBe(
      digest,
    );
  });

  test("first pulls of different refs at once all keep their lock entries", async () => {
    const references = await Promise.all(
      Array.from({ length: 10 }, async (_, n) => {
        const reference = `${registry.host}/acme/many-${n}:v1`;
        await pushBytes(reference, script(`many-${n}`));
        return reference;
      }),
    );
    const dir = await mkdtemp(join(folder, "project-"));
    await writeFile(
      join(dir, "dstream.hcl"),
      references
        .map(
          (reference, n) =>
            `task "t${n}" {\n  input {\n    provider_ref = "${reference}"\n  }\n  output {\n    provider = "null"\n  }\n}\n`,
        )
        .join("\n"),
    );
    const env = { DSTREAM_CACHE_DIR: join(dir, "cache") };
    const pulls = await Promise.all(
      references.map((_, n) => runDstream(["providers", "pull", `t${n}`], { cwd: dir, env })),
    );
    for (const pulled of pulls) expect([pulled.exitCode, pulled.stderr]).toEqual([0, ""]);
    const lock = await Bun.file(join(dir, "dstream.lock.hcl")).text();
    for (const reference of references) expect(lock).toContain(`provider "${reference}" {`);
    expect((await readdir(dir)).sort()).toEqual(["cache", "dstream.hcl", "dstream.lock.hcl"]);
  });
});
