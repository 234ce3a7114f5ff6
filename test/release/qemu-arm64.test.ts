// The cross-compiled linux-arm64 binary under qemu-user-static: `version` and the quick start.
import { beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { platformNamed } from "../../scripts/platforms.ts";
import { runProcess } from "../helpers/binary.ts";
import {
  quickstartCopy,
  RELEASE_BUILD_TIMEOUT_MS,
  type ReleaseBuild,
  releaseBuild,
  versionJson,
} from "./helpers/release-build.ts";

const sysroot = "/usr/aarch64-linux-gnu"; // Debian's libc6-arm64-cross
let build: ReleaseBuild;
let binary: string;

beforeAll(async () => {
  build = await releaseBuild();
  binary = join(build.dist, platformNamed("linux-arm64").binaryName);
}, RELEASE_BUILD_TIMEOUT_MS);

test("prints its version", async () => {
  const result = await runProcess([
    "qemu-aarch64-static",
    "-L",
    sysroot,
    binary,
    "version",
    "--json",
  ]);
  expect(JSON.parse(result.stdout)).toEqual(versionJson(build, "linux/arm64"));
  expect(result.exitCode).toBe(0);
}, 60_000);

test("runs the quick-start pipeline (built-in providers are the same binary, re-executed)", async () => {
  // Re-executing itself needs the kernel to hand arm64 executables to qemu (.ci/run registers it).
  if (!existsSync("/proc/sys/fs/binfmt_misc/qemu-aarch64")) {
    throw new Error("binfmt_misc has no qemu-aarch64 entry: run the qemu setup in .ci/run first");
  }
  const result = await runProcess([binary, "run", "my-pipeline", "-c", quickstartCopy()], {
    env: { QEMU_LD_PREFIX: sysroot },
    timeoutMs: 90_000,
  });
  expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({
    exitCode: 0,
    stderr: expect.any(String), // shown when the exit code is not 0
  });
  const lines = result.stdout.trimEnd().split("\n");
  expect(lines).toHaveLength(5);
  lines.forEach((line, index) => {
    const n = index + 1;
    expect(line).toMatch(
      new RegExp(`^Message #${n}: \\{"value":${n},"timestamp":"[0-9T:.-]+Z"\\}$`),
    );
  });
}, 100_000);
