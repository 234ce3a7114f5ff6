// Flag values with units: sizes and durations, and the one-line usage errors for bad ones.
import { describe, expect, test } from "bun:test";
import { parseDuration, parseSize } from "../../../src/cli/units.ts";
import { DstreamError } from "../../../src/errors.ts";

function usageError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof DstreamError && error.exitCode === 2) return error.message;
    throw error;
  }
  throw new Error("expected a usage error");
}

describe("parseSize", () => {
  test.each([
    ["1048576", 1048576],
    ["8MiB", 8 * 1024 ** 2],
    ["512k", 512 * 1024],
    ["1.5KB", 1500],
    ["2GiB", 2 * 1024 ** 3],
    ["1TiB", 1024 ** 4],
    ["1TB", 1000 ** 4],
  ])("%s is %d bytes", (text, bytes) => {
    expect(parseSize("--buffer-bytes", text)).toBe(bytes);
  });

  test.each([
    ["lots", '--buffer-bytes: "lots" is not a size (e.g. 8MiB, 512KiB, 1048576)'],
    ["12q", '--buffer-bytes: "12q" is not a size (e.g. 8MiB, 512KiB, 1048576)'],
    ["0", "--buffer-bytes: must be at least 1 byte"],
    ["99999999TiB", '--buffer-bytes: "99999999TiB" is too large (at most 1TiB)'],
    ["1025GiB", '--buffer-bytes: "1025GiB" is too large (at most 1TiB)'],
    [`1${"0".repeat(400)}`, `--buffer-bytes: "1${"0".repeat(400)}" is too large (at most 1TiB)`],
  ])("%s is refused", (text, message) => {
    expect(usageError(() => parseSize("--buffer-bytes", text))).toBe(message);
  });
});

describe("parseDuration", () => {
  test.each([
    ["10s", 10_000],
    ["500ms", 500],
    ["2m", 120_000],
    ["3", 3000],
  ])("%s is %d ms", (text, ms) => {
    expect(parseDuration("--timeout", text)).toBe(ms);
  });

  test.each([
    ["soon", '--timeout: "soon" is not a duration (e.g. 10s, 500ms, 2m)'],
    ["0s", "--timeout: must be at least 1 ms"],
    ["25000000s", "--timeout: must be at most 24 days"],
  ])("%s is refused", (text, message) => {
    expect(usageError(() => parseDuration("--timeout", text))).toBe(message);
  });
});
