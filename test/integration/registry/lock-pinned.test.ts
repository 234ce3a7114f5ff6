// What the lock file pins: a failed resolution writes no entry, and when a pinned digest has no
// binary for this machine, or the registry no longer has it, the error names the pin and --upgrade.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatPlatform, hostPlatform } from "../../../src/oci/index.ts";
import { type RunningRegistry, runDstream, startRegistry } from "../../helpers/registry.ts";

const host = formatPlatform(hostPlatform());
const foreign = host === "windows/arm64" ? "linux/arm64" : "windows/arm64";
const upgrade =
  "run again with --upgrade (or dstream providers lock --upgrade) to re-resolve the tag";
let registry: RunningRegistry;
let folder: string;

async function script(text: string): Promise<string> {
  const path = join(folder, `bin-${crypto.randomUUID()}`);
  await writeFile(path, `#!/bin/sh\necho ${text}\n`);
  await chmod(path, 0o755);
  return path;
}

const sha256 = async (path: string) =>
  `sha256:${new Bun.CryptoHasher("sha256").update(await Bun.file(path).bytes()).digest("hex")}`;

async function push(reference: string, platforms: string[]): Promise<void> {
  const args = ["providers", "push", reference];
  for (const platform of platforms)
    args.push("--platform", `${platform}=${await script(platform)}`);
  const pushed = await runDstream(args);
  expect(pushed.stderr).toBe("");
}

async function project(reference: string) {
  const dir = await mkdtemp(join(folder, "project-"));
  await writeFile(
    join(dir, "dstream.hcl"),
    `task "t" {\n  input {\n    provider_ref = "${reference}"\n  }\n  output {\n    provider = "null"\n  }\n}\n`,
  );
  const env = { DSTREAM_CACHE_DIR: join(dir, "cache") };
  return {
    lockPath: join(dir, "dstream.lock.hcl"),
    cache: env.DSTREAM_CACHE_DIR,
    run: (...args: string[]) => runDstream(["providers", ...args], { cwd: dir, env }),
  };
}

const lockedDigest = async (lockPath: string) =>
  /digest = "(sha256:[a-f0-9]{64})"/.exec(await Bun.file(lockPath).text())?.[1];

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "dstream-lock-pinned-"));
  registry = await startRegistry();
});
afterAll(async () => {
  await registry?.stop();
  await rm(folder, { recursive: true, force: true });
});

describe("what the lock file pins", () => {
  test("a failed resolution writes no lock entry: pushing the host's binary then fixes the pull", async () => {
    const reference = `${registry.host}/acme/later:v1`;
    await push(reference, [foreign]);
    const { lockPath, run } = await project(reference);
    const failed = await run("pull");
    expect(failed.stderr).toBe(
      `error: ${reference} has no binary for this machine's platform ${host} (available: ${foreign}); push one with dstream providers push --platform ${host}=<file>\n`,
    );
    expect(failed.exitCode).toBe(1);
    expect(await Bun.file(lockPath).exists()).toBe(false);

    await push(reference, [host, foreign]);
    const pulled = await run("pull");
    expect(pulled.stderr).toBe("");
    expect(pulled.exitCode).toBe(0);
    expect(await Bun.file(lockPath).text()).toContain(`platform "${host}"`);
  });

  test("a pinned digest without this machine's platform names the lock and --upgrade", async () => {
    const reference = `${registry.host}/acme/pinned-foreign:v1`;
    await push(reference, [foreign]);
    const { lockPath, run } = await project(reference);
    expect((await run("lock")).exitCode).toBe(0);
    const pinned = await lockedDigest(lockPath);
    const message = `error: ${reference}: dstream.lock.hcl pins ${pinned}, which has no binary for this machine's platform ${host} (available: ${foreign}); if the tag has one now, ${upgrade}\n`;
    const failed = await run("pull");
    expect(failed.stderr).toBe(message);
    expect(failed.exitCode).toBe(1);

    // The tag gets the host's binary; the lock still wins, until --upgrade.
    await push(reference, [host, foreign]);
    expect((await run("pull")).stderr).toBe(message);
    const upgraded = await run("pull", "--upgrade");
    expect(upgraded.stderr).toBe("");
    expect(upgraded.exitCode).toBe(0);
  });

  test("a pinned binary the registry no longer has names the lock and --upgrade", async () => {
    const reference = `${registry.host}/acme/deleted:v1`;
    const binary = await script("deleted");
    expect(
      (await runDstream(["providers", "push", reference, "--platform", `${host}=${binary}`]))
        .exitCode,
    ).toBe(0);
    const digest = await sha256(binary);
    const { cache, run } = await project(reference);
    expect((await run("pull")).exitCode).toBe(0);
    const deleted = await fetch(`http://${registry.host}/v2/acme/deleted/blobs/${digest}`, {
      method: "DELETE",
    });
    expect(deleted.status).toBe(202);
    await rm(cache, { recursive: true });

    const failed = await run("pull");
    expect(failed.stderr).toBe(
      `error: the ${host} binary ${digest} that dstream.lock.hcl pins for ${reference} is not in registry ${registry.host} (404): the artifact was deleted or the tag re-pushed; ${upgrade}\n`,
    );
    expect(failed.exitCode).toBe(1);

    await push(reference, [host]);
    const upgraded = await run("pull", "--upgrade");
    expect(upgraded.stderr).toBe("");
    expect(upgraded.exitCode).toBe(0);
  });
});
