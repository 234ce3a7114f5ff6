// `build:all`: a binary per platform in its OS's format for its CPU, SHA256SUMS, the version stamp.
import { beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { releasePlatforms } from "../../scripts/platforms.ts";
import { runProcess } from "../helpers/binary.ts";
import { executableFormat } from "./helpers/binary-format.ts";
import {
  hostGoPlatform,
  RELEASE_BUILD_TIMEOUT_MS,
  type ReleaseBuild,
  releaseBuild,
  versionJson,
} from "./helpers/release-build.ts";

let build: ReleaseBuild;
beforeAll(async () => {
  build = await releaseBuild();
}, RELEASE_BUILD_TIMEOUT_MS);

test("writes one binary per platform, each in its OS's format for its CPU", () => {
  for (const platform of releasePlatforms) {
    const format = executableFormat(join(build.dist, platform.binaryName));
    const expected = { linux: "elf", darwin: "macho", win32: "pe" }[platform.os];
    expect({
      name: platform.name,
      format: format.format as string,
      arch: format.arch as string,
    }).toEqual({
      name: platform.name,
      format: expected,
      arch: platform.arch,
    });
    if (platform.os === "linux") {
      const loader = platform.libc === "musl" ? /^\/lib\/ld-musl-/ : /^\/lib(64)?\/ld-linux-/;
      expect(format.interpreter).toMatch(loader);
    }
    if (platform.os === "darwin") expect(format.codeSigned).toBe(true);
  }
});

test("writes SHA256SUMS listing every binary, accepted by sha256sum -c", async () => {
  const listed = readFileSync(join(build.dist, "SHA256SUMS"), "utf8")
    .trimEnd()
    .split("\n")
    .map((line) => line.split("  ")[1]);
  expect(listed).toEqual(releasePlatforms.map((platform) => platform.binaryName));
  const check = await runProcess(["sha256sum", "-c", "SHA256SUMS"], { cwd: build.dist });
  expect(check.stdout).toBe(
    releasePlatforms.map((platform) => `${platform.binaryName}: OK\n`).join(""),
  );
  expect(check.exitCode).toBe(0);
}, 60_000);

test("the host's binary prints its version, commit, Bun version and platform", async () => {
  const result = await runProcess([build.hostBinary, "version", "--json"]);
  expect(JSON.parse(result.stdout)).toEqual(versionJson(build, hostGoPlatform(build)));
  expect(result.exitCode).toBe(0);
}, 30_000);
