import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { blobPath } from "../../../../src/registry/store/cache.ts";

describe("cache folder", () => {
  test("blobs are keyed by digest (with .exe on Windows, which runs nothing else)", () => {
    const name = `${"f".repeat(64)}${process.platform === "win32" ? ".exe" : ""}`;
    expect(blobPath("/c", `sha256:${"f".repeat(64)}`)).toBe(join("/c", "blobs", "sha256", name));
  });
});
