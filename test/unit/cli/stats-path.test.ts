// --stats-json is checked before a run starts: every path it could not be written to is a usage
// error, and the check leaves no file behind.
import { afterAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkStatsJsonPath } from "../../../src/cli/stats-path.ts";
import { DstreamError } from "../../../src/errors.ts";

const folder = mkdtempSync(join(tmpdir(), "dstream-stats-path-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
writeFileSync(join(folder, "a-file"), "kept\n");
mkdirSync(join(folder, "a-folder"));

function usageError(value: string): string {
  try {
    checkStatsJsonPath(value, folder);
  } catch (error) {
    if (error instanceof DstreamError && error.exitCode === 2) return error.message;
    throw error;
  }
  throw new Error("expected a usage error");
}

describe("checkStatsJsonPath", () => {
  test("not given: nothing to check", () => {
    expect(checkStatsJsonPath(undefined, folder)).toBeUndefined();
  });

  test("a new file: accepted, and not left behind by the check", () => {
    expect(checkStatsJsonPath("stats.json", folder)).toBe("stats.json");
    expect(existsSync(join(folder, "stats.json"))).toBe(false);
  });

  test("an existing file: accepted, its content untouched until the run writes it", () => {
    expect(checkStatsJsonPath("a-file", folder)).toBe("a-file");
    expect(readFileSync(join(folder, "a-file"), "utf8")).toBe("kept\n");
  });

  test.each([
    ["", "--stats-json is empty: give the file to write the counters to"],
    ["a-folder", "--stats-json a-folder: is a folder, not a file"],
    [
      "no/such/dir/stats.json",
      "--stats-json no/such/dir/stats.json: the folder no/such/dir does not exist",
    ],
    ["a-file/stats.json", "--stats-json a-file/stats.json: a part of the path is not a folder"],
  ])("%j is refused", (value, message) => {
    expect(usageError(value)).toBe(message);
  });

  // Root may write in any folder whatever its mode: as root, /sys (where no one creates files).
  const asRoot = process.getuid?.() === 0;
  test.skipIf(process.platform === "win32" || (asRoot && process.platform !== "linux"))(
    "a folder that is not writable is refused",
    () => {
      if (asRoot) {
        expect(usageError("/sys/stats.json")).toBe(
          "--stats-json /sys/stats.json: permission denied",
        );
        return;
      }
      mkdirSync(join(folder, "locked"));
      chmodSync(join(folder, "locked"), 0o500);
      try {
        expect(usageError("locked/stats.json")).toBe(
          "--stats-json locked/stats.json: permission denied",
        );
      } finally {
        chmodSync(join(folder, "locked"), 0o700);
      }
    },
  );
});
