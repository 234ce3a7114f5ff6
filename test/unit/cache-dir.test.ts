import { describe, expect, test } from "bun:test";
import { defaultCacheDir } from "../../src/cache-dir.ts";

describe("cache folder", () => {
  test("DSTREAM_CACHE_DIR wins", () => {
    expect(defaultCacheDir({ DSTREAM_CACHE_DIR: "/srv/cache", HOME: "/home/u" })).toBe(
      "/srv/cache",
    );
  });

  test("else the platform's cache folder", () => {
    const expected = {
      linux: "/home/u/.cache/dstream",
      darwin: "/home/u/Library/Caches/dstream",
      win32: "C:\\Users\\u\\AppData\\Local\\dstream",
    }[process.platform as "linux" | "darwin" | "win32"];
    expect(defaultCacheDir({ HOME: "/home/u", LOCALAPPDATA: "C:\\Users\\u\\AppData\\Local" })).toBe(
      expected,
    );
  });

  test.if(process.platform === "linux")("XDG_CACHE_HOME is honoured on Linux", () => {
    expect(defaultCacheDir({ HOME: "/home/u", XDG_CACHE_HOME: "/xdg" })).toBe("/xdg/dstream");
  });
});
