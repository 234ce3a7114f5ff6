// Platform names in Go/OCI form for this host, as provider artifacts name them.
import { describe, expect, test } from "bun:test";
import { formatPlatform, hostPlatform } from "../../../src/oci/platform.ts";

describe("platforms", () => {
  test("the host is named the Go way", () => {
    const expected = {
      os: { linux: "linux", darwin: "darwin", win32: "windows" }[process.platform as string],
      architecture: { x64: "amd64", arm64: "arm64" }[process.arch as string],
    };
    expect(hostPlatform()).toEqual(expected as { os: string; architecture: string });
  });

  test.each([
    [{ os: "linux", architecture: "amd64" }, "linux/amd64"],
    [{ os: "darwin", architecture: "arm64" }, "darwin/arm64"],
    [{ os: "windows", architecture: "amd64" }, "windows/amd64"],
  ])("formatPlatform(%j) is %s", (platform, text) => {
    expect(formatPlatform(platform)).toBe(text);
  });
});
