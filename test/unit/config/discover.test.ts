// Which config file dstream reads: --config, else DSTREAM_CONFIG, else ./dstream.hcl.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findConfigFile } from "../../../src/config/index.ts";
import { DstreamError } from "../../../src/errors.ts";

const folder = mkdtempSync(join(tmpdir(), "dstream-discover-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
writeFileSync(join(folder, "dstream.hcl"), "");
writeFileSync(join(folder, "flag.hcl"), "");
writeFileSync(join(folder, "env.hcl"), "");
mkdirSync(join(folder, "sub"));
mkdirSync(join(folder, "a-folder.hcl"));

function failure(run: () => unknown): DstreamError {
  try {
    run();
  } catch (error) {
    if (error instanceof DstreamError) return error;
    throw error;
  }
  throw new Error("expected a DstreamError");
}

describe("findConfigFile", () => {
  test.each([
    ["--config wins over DSTREAM_CONFIG", "flag.hcl", "env.hcl", "flag.hcl"],
    ["DSTREAM_CONFIG when no flag", undefined, "env.hcl", "env.hcl"],
    ["./dstream.hcl when neither", undefined, undefined, "dstream.hcl"],
    ["an empty DSTREAM_CONFIG counts as unset", undefined, "", "dstream.hcl"],
  ])("%s", (_name, flag, envValue, expected) => {
    const env = envValue === undefined ? {} : { DSTREAM_CONFIG: envValue };
    const location = findConfigFile({ flag, env, cwd: folder });
    expect(location).toEqual({ path: join(folder, expected), display: expected });
  });

  test("a relative path resolves against the working directory, an absolute one is kept", () => {
    expect(findConfigFile({ flag: "../flag.hcl", env: {}, cwd: join(folder, "sub") })).toEqual({
      path: join(folder, "flag.hcl"),
      display: "../flag.hcl",
    });
    const absolute = join(folder, "env.hcl");
    expect(findConfigFile({ flag: absolute, env: {}, cwd: "/" }).path).toBe(absolute);
  });

  test.each([
    [
      "missing --config file",
      { flag: "nope.hcl", env: { DSTREAM_CONFIG: "env.hcl" } },
      "config file not found: tried nope.hcl (from --config)",
    ],
    [
      "missing DSTREAM_CONFIG file",
      { env: { DSTREAM_CONFIG: "gone/x.hcl" } },
      "config file not found: tried gone/x.hcl (from DSTREAM_CONFIG)",
    ],
    [
      "missing default file",
      { env: {}, cwd: join(folder, "sub") },
      "config file not found: tried dstream.hcl (the default; set --config or DSTREAM_CONFIG)",
    ],
    [
      "an empty --config (no fallback to another file)",
      { flag: "", env: { DSTREAM_CONFIG: "env.hcl" } },
      "--config is empty: give the config file's path",
    ],
    [
      "a directory",
      { flag: "a-folder.hcl", env: {} },
      "config file a-folder.hcl is not a file (from --config)",
    ],
  ])("%s is a one-line usage error naming the path", (_name, options, message) => {
    const error = failure(() => findConfigFile({ cwd: folder, ...options }));
    expect(["CONFIG_NOT_FOUND", "USAGE"]).toContain(error.code);
    expect(error.exitCode).toBe(2);
    expect(error.problems).toEqual([message]);
  });

  // Windows needs a privilege to make symbolic links.
  test.skipIf(process.platform === "win32").each([
    [
      "a symbolic link loop",
      { flag: "loop-a.hcl", env: {} },
      "config file loop-a.hcl is a loop of symbolic links, or a chain too long to follow (from --config)",
    ],
    [
      "a symbolic link to a missing file",
      { env: { DSTREAM_CONFIG: "dangling.hcl" } },
      "config file not found: dangling.hcl is a symbolic link to gone.hcl, which does not exist (from DSTREAM_CONFIG)",
    ],
  ])("%s is a one-line usage error that says so", (_name, options, message) => {
    symlinkSync("loop-b.hcl", join(folder, "loop-a.hcl"));
    symlinkSync("loop-a.hcl", join(folder, "loop-b.hcl"));
    symlinkSync("gone.hcl", join(folder, "dangling.hcl"));
    try {
      const error = failure(() => findConfigFile({ cwd: folder, ...options }));
      expect(error.exitCode).toBe(2);
      expect(error.problems).toEqual([message]);
    } finally {
      for (const name of ["loop-a.hcl", "loop-b.hcl", "dangling.hcl"]) rmSync(join(folder, name));
    }
  });
});
