// install.sh against a loopback server shaped like GitHub's release downloads, serving build:all's
// output: it installs the right file, verified, and refuses a mismatch or a missing release.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sha256File } from "../../scripts/build.ts";
import { platformNamed } from "../../scripts/platforms.ts";
import { runProcess } from "../helpers/binary.ts";
import { executableFormat } from "./helpers/binary-format.ts";
import { runInstallScript } from "./helpers/install-script.ts";
import {
  hostGoPlatform,
  RELEASE_BUILD_TIMEOUT_MS,
  type ReleaseBuild,
  releaseBuild,
  versionJson,
} from "./helpers/release-build.ts";
import { type ReleaseServer, startReleaseServer } from "./helpers/release-server.ts";

const repo = "acme/dstream";
let build: ReleaseBuild;
let server: ReleaseServer;

beforeAll(async () => {
  build = await releaseBuild();
  // v0.0.9 serves the real binary with a SHA256SUMS that does not match it.
  const tampered = join(build.work, "tampered");
  mkdirSync(tampered);
  symlinkSync(build.hostBinary, join(tampered, build.host.binaryName));
  writeFileSync(join(tampered, "SHA256SUMS"), `${"0".repeat(64)}  ${build.host.binaryName}\n`);
  server = startReleaseServer(repo, { "v0.1.0": build.dist, "v0.0.9": tampered }, "v0.1.0");
}, RELEASE_BUILD_TIMEOUT_MS);

afterAll(() => server?.stop());

function env(extra: Record<string, string> = {}) {
  return { DSTREAM_GITHUB_URL: server.url, DSTREAM_REPO: repo, ...extra };
}

test("installs the tagged release into --prefix, verified, and it runs", async () => {
  const prefix = join(build.work, "sh-prefix");
  const asset = build.host.binaryName;
  server.requests.length = 0;
  const result = await runInstallScript({
    shell: "dash",
    args: ["--version", "v0.1.0", "--prefix", prefix],
    env: env({ PATH: `${prefix}/bin:${process.env.PATH}` }),
  });
  const sha = await sha256File(build.hostBinary);
  expect(result.stderr).toBe(
    `downloading ${server.url}/${repo}/releases/download/v0.1.0/${asset}\ninstalled ${prefix}/bin/dstream (${asset}, sha256 ${sha})\n`,
  );
  expect(result.exitCode).toBe(0);
  expect(server.requests).toEqual([
    `/${repo}/releases/download/v0.1.0/SHA256SUMS`,
    `/${repo}/releases/download/v0.1.0/${asset}`,
  ]);
  const version = await runProcess([join(prefix, "bin/dstream"), "version", "--json"]);
  expect(JSON.parse(version.stdout)).toEqual(versionJson(build, hostGoPlatform(build)));
}, 60_000);

test("installs the latest release into ~/.local/bin by default and says when it is not on PATH", async () => {
  const home = join(build.work, "home");
  mkdirSync(home);
  const result = await runInstallScript({ shell: "sh", env: env({ HOME: home }) });
  expect(result.exitCode).toBe(0);
  expect(result.stderr.split("\n").at(-2)).toBe(
    `note: ${home}/.local/bin is not on your PATH; add it, e.g. export PATH="${home}/.local/bin:$PATH"`,
  );
  expect(await sha256File(join(home, ".local/bin/dstream"))).toBe(
    await sha256File(build.hostBinary),
  );
}, 60_000);

test("picks the binary for the machine uname reports (macOS on Apple silicon)", async () => {
  const prefix = join(build.work, "darwin-prefix");
  const result = await runInstallScript({
    shell: "dash",
    machine: ["Darwin", "arm64"],
    args: ["--prefix", prefix],
    env: env(),
  });
  expect(result.exitCode).toBe(0);
  expect(executableFormat(join(prefix, "bin/dstream"))).toEqual({
    format: "macho",
    arch: "arm64",
    codeSigned: true,
  });
  expect(await sha256File(join(prefix, "bin/dstream"))).toBe(
    await sha256File(join(build.dist, platformNamed("darwin-arm64").binaryName)),
  );
}, 60_000);

test("refuses a binary whose checksum does not match and installs nothing", async () => {
  const prefix = join(build.work, "tampered-prefix");
  const result = await runInstallScript({
    shell: "dash",
    args: ["--version", "v0.0.9", "--prefix", prefix],
    env: env(),
  });
  const sha = await sha256File(build.hostBinary);
  expect(result.stderr.split("\n").at(-2)).toBe(
    `error: checksum mismatch for ${build.host.binaryName}: expected ${"0".repeat(64)}, got ${sha}`,
  );
  expect(result.exitCode).toBe(1);
  expect(existsSync(join(prefix, "bin/dstream"))).toBe(false);
}, 60_000);

test("a release that does not exist is a download error naming the URL", async () => {
  const result = await runInstallScript({
    shell: "dash",
    args: ["--version", "v9.9.9", "--prefix", join(build.work, "none")],
    env: env(),
  });
  expect(result.stderr.split("\n").at(-2)).toBe(
    `error: download failed: ${server.url}/${repo}/releases/download/v9.9.9/SHA256SUMS`,
  );
  expect(result.exitCode).toBe(1);
}, 60_000);
