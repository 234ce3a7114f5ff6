// A cache on a full disk (a 4 MiB tmpfs): a one-line error naming the cache, no partial file left,
// for the inline writer (small blobs) and the worker writer (large blobs) alike.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatPlatform, hostPlatform } from "../../../src/oci/index.ts";
import { type RunningRegistry, runDstream, startRegistry } from "../../helpers/registry.ts";

const host = formatPlatform(hostPlatform());
const isRoot = process.getuid?.() === 0;
let registry: RunningRegistry;
let folder: string;
let smallDisk: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "dstream-disk-full-"));
  registry = await startRegistry();
  smallDisk = join(folder, "small-disk");
  await mkdir(smallDisk);
  if (isRoot) {
    const mounted = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", smallDisk], {
      stderr: "pipe",
      timeout: 10_000,
    });
    if (mounted.exitCode !== 0) throw new Error(`mount tmpfs failed: ${mounted.stderr}`);
  }
});
afterAll(async () => {
  if (isRoot) Bun.spawnSync(["umount", smallDisk], { timeout: 10_000 });
  await registry?.stop();
  await rm(folder, { recursive: true, force: true });
});

async function pushSized(name: string, size: number): Promise<string> {
  const path = join(folder, name);
  const bytes = new Uint8Array(size).fill(66);
  bytes.set(new TextEncoder().encode("#!/bin/sh\nexit 0\n"));
  await writeFile(path, bytes);
  await chmod(path, 0o755);
  const reference = `${registry.host}/acme/${name}:v1`;
  expect(
    (await runDstream(["providers", "push", reference, "--platform", `${host}=${path}`])).exitCode,
  ).toBe(0);
  return reference;
}

describe("cache on a full disk", () => {
  test.skipIf(!isRoot).each([
    ["small", 8 * 1024 * 1024],
    ["large", 20 * 1024 * 1024],
  ])("%s blob: a clear error and nothing left in the cache", async (name, size) => {
    const reference = await pushSized(name, size);
    const dir = await mkdtemp(join(folder, "project-"));
    await writeFile(
      join(dir, "dstream.hcl"),
      `task "t" {\n  input {\n    provider_ref = "${reference}"\n  }\n  output {\n    provider = "null"\n  }\n}\n`,
    );
    const cache = join(smallDisk, name);
    const pulled = await runDstream(["providers", "pull"], {
      cwd: dir,
      env: { DSTREAM_CACHE_DIR: cache },
    });
    expect(pulled.stderr).toBe(
      `error: cannot write the ${host} binary of ${reference} into the cache ${cache}: ENOSPC: no space left on device, write\n`,
    );
    expect(pulled.exitCode).toBe(1);
    expect(await readdir(join(cache, "tmp"))).toEqual([]);
    expect(await readdir(join(cache, "blobs", "sha256"))).toEqual([]);
  });
});
