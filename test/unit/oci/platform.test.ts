// Platform names in Go/OCI form, as provider artifacts name them: each release platform's Node
// names mapped, and this host named as its own kernel reports it.
import { describe, expect, test } from "bun:test";
import { releasePlatforms } from "../../../scripts/platforms.ts";
import { formatPlatform, goPlatform, hostPlatform } from "../../../src/oci/platform.ts";

describe("platforms", () => {
  test.each([
    ["linux", "x64", "linux/amd64"],
    ["linux", "arm64", "linux/arm64"],
    ["darwin", "x64", "darwin/amd64"],
    ["darwin", "arm64", "darwin/arm64"],
    ["win32", "x64", "windows/amd64"],
    ["win32", "arm64", "windows/arm64"],
    // Not a platform dstream ships for: named as Node names it, so an error can show it.
    ["freebsd", "ia32", "freebsd/ia32"],
  ])("%s %s is %s", (os, arch, name) => {
    expect(formatPlatform(goPlatform(os, arch))).toBe(name);
  });

  test("every platform dstream is built for has a Go name", () => {
    for (const { os, arch } of releasePlatforms) {
      expect(formatPlatform(goPlatform(os, arch))).toMatch(
        /^(linux|darwin|windows)\/(amd64|arm64)$/,
      );
    }
  });

  test.skipIf(process.platform === "win32")("the host is named as uname names it", () => {
    const uname = (flag: string) => Bun.spawnSync(["uname", flag]).stdout.toString().trim();
    const os = { Linux: "linux", Darwin: "darwin" }[uname("-s")];
    const architecture = { x86_64: "amd64", aarch64: "arm64", arm64: "arm64" }[uname("-m")];
    expect(hostPlatform()).toEqual({ os, architecture } as { os: string; architecture: string });
  });
});
