import { describe, expect, test } from "bun:test";
import { platformFromTitle } from "../../../../src/registry/artifact/artifact.ts";

describe("platformFromTitle (layout b layer names)", () => {
  test.each([
    ["plugin.linux_amd64", "linux/amd64"],
    ["plugin.linux_arm64", "linux/arm64"],
    ["plugin.darwin_arm64", "darwin/arm64"],
    ["plugin.windows_amd64.exe", "windows/amd64"],
    ["provider.linux-x64", "linux/amd64"],
    ["provider.darwin-arm64", "darwin/arm64"],
    ["provider.windows-x64.exe", "windows/amd64"],
    ["provider.json", undefined],
    ["plugin.linux-amd64", undefined],
    ["plugin.freebsd_amd64", undefined],
    ["README.md", undefined],
  ])("%s -> %s", (title, platform) => {
    expect(platformFromTitle(title)).toBe(platform);
  });
});
