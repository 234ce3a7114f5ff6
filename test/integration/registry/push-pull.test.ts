// Push with `dstream providers push` (layout a), then pull by tag and by digest through the binary.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmod, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatPlatform, hostPlatform } from "../../../src/oci/index.ts";
import { type RunningRegistry, runDstream, startRegistry } from "../../helpers/registry.ts";

const host = formatPlatform(hostPlatform());
const other = host === "darwin/arm64" ? "linux/amd64" : "darwin/arm64";
let registry: RunningRegistry;
let folder: string;

const sha256 = async (path: string) =>
  `sha256:${new Bun.CryptoHasher("sha256").update(await Bun.file(path).bytes()).digest("hex")}`;

async function script(name: string, body: string): Promise<string> {
  const path = join(folder, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

/** A project folder with a dstream.hcl whose task pulls `reference` as its input. */
async function project(reference: string): Promise<{ dir: string; env: Record<string, string> }> {
  const dir = await mkdtemp(join(folder, "project-"));
  await writeFile(
    join(dir, "dstream.hcl"),
    `task "pulled" {\n  input {\n    provider_ref = "${reference}"\n  }\n  output {\n    provider = "console"\n  }\n}\n`,
  );
  return { dir, env: { DSTREAM_CACHE_DIR: join(dir, "cache") } };
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "dstream-push-pull-"));
  registry = await startRegistry();
});
afterAll(async () => {
  await registry?.stop();
  await rm(folder, { recursive: true, force: true });
});

describe("providers push, then pull", () => {
  test("push writes an image index; pull by tag fetches and verifies only the host's binary", async () => {
    const hostBinary = await script("host-bin", "echo host");
    const otherBinary = await script("other-bin", "echo other platform");
    const reference = `${registry.host}/acme/tools/echo:v1`;
    const pushed = await runDstream([
      "providers",
      "push",
      reference,
      "--platform",
      `${host}=${hostBinary}`,
      `--platform=${other}=${otherBinary}`,
    ]);
    expect(pushed.stderr).toBe("");
    expect(pushed.exitCode).toBe(0);
    const lines = pushed.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(`${host}  ${await sha256(hostBinary)}  ${(await stat(hostBinary)).size}`);
    expect(lines[1]).toBe(
      `${other}  ${await sha256(otherBinary)}  ${(await stat(otherBinary)).size}`,
    );
    expect(lines[2]).toMatch(
      new RegExp(`^${reference.replaceAll(".", "\\.")}  sha256:[a-f0-9]{64}$`),
    );
    const indexDigest = lines[2]?.split("  ")[1] as string;

    // Layout (a) exactly: each platform manifest's config is the empty descriptor, data inline.
    const accept = { accept: "application/vnd.oci.image.index.v1+json" };
    const registryIndex = (await (
      await fetch(`http://${registry.host}/v2/acme/tools/echo/manifests/v1`, { headers: accept })
    ).json()) as { manifests: { digest: string }[] };
    for (const { digest } of registryIndex.manifests) {
      const platformManifest = (await (
        await fetch(`http://${registry.host}/v2/acme/tools/echo/manifests/${digest}`, {
          headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
        })
      ).json()) as { config: unknown };
      expect(platformManifest.config).toEqual({
        mediaType: "application/vnd.oci.empty.v1+json",
        digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
        size: 2,
        data: "e30=",
      });
    }

    const { dir, env } = await project(reference);
    const pulled = await runDstream(["providers", "pull"], { cwd: dir, env });
    expect(pulled.stderr).toBe("");
    expect(pulled.exitCode).toBe(0);
    const binaryDigest = await sha256(hostBinary);
    expect(pulled.stdout).toBe(`${reference}  ${host}  ${binaryDigest}\n`);

    const cached = join(dir, "cache", "blobs", "sha256", binaryDigest.slice(7));
    expect(await Bun.file(cached).text()).toBe(await Bun.file(hostBinary).text());
    expect((await stat(cached)).mode & 0o111).toBe(0o111);
    // Only the host's binary was downloaded; no temp file is left behind.
    expect(await readdir(join(dir, "cache", "blobs", "sha256"))).toEqual([binaryDigest.slice(7)]);
    expect(await readdir(join(dir, "cache", "tmp"))).toEqual([]);

    const lock = await Bun.file(join(dir, "dstream.lock.hcl")).text();
    expect(lock).toContain(`provider "${reference}" {\n  digest = "${indexDigest}"`);
    expect(lock).toContain(`platform "${host}" {\n    binary = "${binaryDigest}"`);
    expect(lock).toContain(`platform "${other}" {\n    binary = "${await sha256(otherBinary)}"`);

    const listed = await runDstream(["providers", "ls"], { env });
    expect(listed.exitCode).toBe(0);
    expect(listed.stdout.split("\n")[1]).toBe(
      `${reference}  ${host}  ${binaryDigest}  ${(await stat(hostBinary)).size}`,
    );
    expect(listed.stdout.split("\n")[0]).toMatch(/^REFERENCE +PLATFORM +DIGEST +SIZE$/);

    const inspected = await runDstream(["providers", "inspect", reference, "--json"]);
    expect(inspected.exitCode).toBe(0);
    const inspection = JSON.parse(inspected.stdout);
    expect(inspection.digest).toBe(indexDigest);
    expect(inspection.layout).toBe("index");
    expect(inspection.artifactType).toBe("application/vnd.dstream.provider");
    expect(inspection.platforms.map((entry: { platform: string }) => entry.platform)).toEqual(
      [host, other].sort(),
    );
  });

  test("pull by digest; a provider.json config shows in inspect", async () => {
    const binary = await script("digest-bin", "echo by digest");
    await writeFile(
      join(folder, "provider.json"),
      JSON.stringify({ name: "echo", version: "2.0.0" }),
    );
    const pushed = await runDstream([
      "providers",
      "push",
      `${registry.host}/acme/echo:v2`,
      "--platform",
      `${host}=${binary}`,
      "--config",
      join(folder, "provider.json"),
    ]);
    expect(pushed.exitCode).toBe(0);
    const indexDigest = pushed.stdout.trimEnd().split("\n").at(-1)?.split("  ")[1] as string;
    const reference = `${registry.host}/acme/echo@${indexDigest}`;
    const { dir, env } = await project(reference);
    const pulled = await runDstream(["providers", "pull", "pulled"], { cwd: dir, env });
    expect(pulled.stderr).toBe("");
    expect(pulled.stdout).toBe(`${reference}  ${host}  ${await sha256(binary)}\n`);

    const inspected = await runDstream(["providers", "inspect", reference]);
    expect(inspected.exitCode).toBe(0);
    expect(inspected.stdout).toContain(`reference  ${reference}\ndigest     ${indexDigest}\n`);
    expect(inspected.stdout).toContain(
      `provider.json\n{\n  "name": "echo",\n  "version": "2.0.0"\n}\n`,
    );
  });

  test("no binary for this platform: the error lists the platforms available", async () => {
    const binary = await script("foreign-bin", "echo foreign");
    const reference = `${registry.host}/acme/foreign:v1`;
    expect(
      (await runDstream(["providers", "push", reference, "--platform", `windows/arm64=${binary}`]))
        .exitCode,
    ).toBe(0);
    const { dir, env } = await project(reference);
    const pulled = await runDstream(["providers", "pull"], { cwd: dir, env });
    expect(pulled.stderr).toBe(
      `error: ${reference} has no binary for this machine's platform ${host} (available: windows/arm64); push one with dstream providers push --platform ${host}=<file>\n`,
    );
    expect(pulled.exitCode).toBe(1);
  });

  test("an unknown tag is a one-line 404 error naming the reference", async () => {
    const reference = `${registry.host}/acme/missing:v9`;
    const { dir, env } = await project(reference);
    const pulled = await runDstream(["providers", "pull"], { cwd: dir, env });
    expect(pulled.stderr).toBe(
      `error: the manifest of ${reference} was not found in registry ${registry.host} (404): check the repository name and the tag or digest\n`,
    );
    expect(pulled.exitCode).toBe(1);
  });

  test("a cache folder that cannot be created is a one-line error naming it", async () => {
    const binary = await script("cache-bin", "echo cache");
    const reference = `${registry.host}/acme/cache:v1`;
    expect(
      (await runDstream(["providers", "push", reference, "--platform", `${host}=${binary}`]))
        .exitCode,
    ).toBe(0);
    const { dir } = await project(reference);
    await writeFile(join(dir, "a-file"), "");
    const cache = join(dir, "a-file", "cache");
    const pulled = await runDstream(["providers", "pull"], {
      cwd: dir,
      env: { DSTREAM_CACHE_DIR: cache },
    });
    expect(pulled.stderr).toBe(
      `error: cannot use the cache folder ${cache} for ${reference}: ENOTDIR: not a directory, mkdir '${cache}/blobs/sha256' (set DSTREAM_CACHE_DIR to a writable folder)\n`,
    );
    expect(pulled.exitCode).toBe(1);
  });

  test("a config without provider_ref: nothing to pull or lock, and no lock file", async () => {
    const dir = await mkdtemp(join(folder, "builtin-"));
    await writeFile(
      join(dir, "dstream.hcl"),
      'task "t" {\n  input {\n    provider = "counter"\n  }\n  output {\n    provider = "null"\n  }\n}\n',
    );
    const locked = await runDstream(["providers", "lock"], { cwd: dir });
    expect([locked.exitCode, locked.stdout, locked.stderr]).toEqual([
      0,
      "",
      "ℹ no task uses provider_ref: nothing to lock\n",
    ]);
    const pulled = await runDstream(["providers", "pull"], { cwd: dir });
    expect([pulled.exitCode, pulled.stdout, pulled.stderr]).toEqual([
      0,
      "",
      "ℹ no task uses provider_ref: nothing to pull\n",
    ]);
    expect(await Bun.file(join(dir, "dstream.lock.hcl")).exists()).toBe(false);
  });

  test("pull <task> needs only that task's env vars, not other tasks' provider_ref templates", async () => {
    const hostBinary = await script("named-bin", "echo named");
    const reference = `${registry.host}/acme/named:v1`;
    const pushed = await runDstream([
      "providers",
      "push",
      reference,
      "--platform",
      `${host}=${hostBinary}`,
    ]);
    expect(pushed.exitCode).toBe(0);
    const { dir, env } = await project(reference);
    const other = `task "other" {\n  input {\n    provider_ref = "${registry.host}/acme/other:{{ env \\"OTHER_TAG\\" }}"\n  }\n  output {\n    provider = "null"\n  }\n}\n`;
    await writeFile(join(dir, "dstream.hcl"), other, { flag: "a" });
    const pulled = await runDstream(["providers", "pull", "pulled"], { cwd: dir, env });
    expect({ exitCode: pulled.exitCode, stderr: pulled.stderr }).toEqual({
      exitCode: 0,
      stderr: "",
    });
    expect(pulled.stdout).toStartWith(`${reference}  ${host}  sha256:`);
    // All tasks: the other one's tag must then render.
    const all = await runDstream(["providers", "pull"], { cwd: dir, env });
    expect(all.exitCode).toBe(2);
    expect(all.stderr).toContain("environment variable OTHER_TAG is not set");
  });

  test("an unknown task name is a usage error", async () => {
    const { dir, env } = await project(`${registry.host}/acme/echo:v1`);
    const pulled = await runDstream(["providers", "pull", "nope"], { cwd: dir, env });
    expect(pulled.stderr).toBe('error: task "nope" is not in dstream.hcl (tasks: pulled)\n');
    expect(pulled.exitCode).toBe(2);
  });

  test.each([
    [
      ["providers", "push", "127.0.0.1:1/a:v1"],
      "error: push needs at least one --platform os/arch=./file\n",
    ],
    [
      ["providers", "push", "127.0.0.1:1/a:v1", "--platform", "linux/x86=./a"],
      'error: --platform "linux/x86=./a": expected os/arch=path with os linux, darwin or windows and arch amd64 or arm64\n',
    ],
    [
      ["providers", "push", "127.0.0.1:1/a:v1", "--platform", "linux/amd64=./does-not-exist"],
      "error: --platform: file ./does-not-exist not found\n",
    ],
    [
      ["providers", "push", "127.0.0.1:1/A:v1", "--platform", "linux/amd64=./a"],
      "error: invalid OCI reference \"127.0.0.1:1/A:v1\": repository component \"A\" must be lowercase letters and digits, separated by '.', '_', '__' or '-'\n",
    ],
  ])("push usage error %j", async (args, stderr) => {
    const result = await runDstream(args, { cwd: folder });
    expect(result.stderr).toBe(stderr);
    expect(result.exitCode).toBe(2);
  });
});
