// A registry that is down: a clear error when the binary must be fetched, while a locked ref whose
// binary is cached resolves with no network I/O at all.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DstreamError } from "../../../src/errors.ts";
import {
  formatPlatform,
  hostPlatform,
  type ProviderReference,
  parseReference,
} from "../../../src/oci/index.ts";
import { resolveProviderRef } from "../../../src/registry/index.ts";
import { type RunningRegistry, runDstream, startRegistry } from "../../helpers/registry.ts";

const host = formatPlatform(hostPlatform());
let registry: RunningRegistry;
let folder: string;
let reference: string;
let binaryDigest: string;

async function project() {
  const dir = await mkdtemp(join(folder, "project-"));
  await writeFile(
    join(dir, "dstream.hcl"),
    `task "t" {\n  input {\n    provider_ref = "${reference}"\n  }\n  output {\n    provider = "null"\n  }\n}\n`,
  );
  const env = { DSTREAM_CACHE_DIR: join(dir, "cache") };
  return { dir, env, pull: () => runDstream(["providers", "pull"], { cwd: dir, env }) };
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "dstream-down-"));
  registry = await startRegistry();
  const binary = join(folder, "provider");
  await writeFile(binary, "#!/bin/sh\necho up\n");
  await chmod(binary, 0o755);
  binaryDigest = `sha256:${new Bun.CryptoHasher("sha256").update(await Bun.file(binary).bytes()).digest("hex")}`;
  reference = `${registry.host}/acme/down:v1`;
  const pushed = await runDstream([
    "providers",
    "push",
    reference,
    "--platform",
    `${host}=${binary}`,
  ]);
  expect(pushed.exitCode).toBe(0);
});
afterAll(async () => {
  await registry?.stop();
  await rm(folder, { recursive: true, force: true });
});

describe("registry down", () => {
  test("the cached, locked ref still resolves; an uncached one fails with a clear error", async () => {
    const warm = await project();
    expect((await warm.pull()).stdout).toBe(`${reference}  ${host}  ${binaryDigest}\n`);

    await registry.kill();

    const again = await warm.pull();
    expect(again.stderr).toBe("");
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toBe(`${reference}  ${host}  ${binaryDigest}\n`);

    // The runtime's entry point, called as `dstream run` calls it.
    const parsed = parseReference(reference) as ProviderReference;
    const resolved = await resolveProviderRef(parsed, {
      lockFilePath: join(warm.dir, "dstream.lock.hcl"),
      cacheDir: warm.env.DSTREAM_CACHE_DIR,
      env: {},
      onDownload: () => {
        throw new Error("a cached resolve downloads nothing");
      },
    });
    expect(resolved).toEqual({
      path: join(warm.env.DSTREAM_CACHE_DIR, "blobs", "sha256", binaryDigest.slice(7)),
      digest: binaryDigest,
    });

    const cold = await project();
    const failed = await cold.pull();
    expect(failed.stderr).toBe(
      `error: cannot reach registry ${registry.host} for ${reference}: connection refused (check the address and that the registry is up; dstream tried 4 times)\n`,
    );
    expect(failed.exitCode).toBe(1);

    const error = await resolveProviderRef(parsed, {
      lockFilePath: join(cold.dir, "dstream.lock.hcl"),
      cacheDir: cold.env.DSTREAM_CACHE_DIR,
      env: {},
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DstreamError);
    expect((error as DstreamError).code).toBe("REGISTRY");
    expect((error as DstreamError).exitCode).toBe(1);
  });
});
