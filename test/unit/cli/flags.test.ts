// Strict flags: every unknown flag or extra argument is a one-line usage error (exit 2).
import { describe, expect, test } from "bun:test";
import type { ArgsDef } from "citty";
import { configArgs, globalArgs, jsonArgs } from "../../../src/cli/args.ts";
import { checkFlags } from "../../../src/cli/flags.ts";
import { DstreamError } from "../../../src/errors.ts";

const listArgs: ArgsDef = { ...configArgs, ...jsonArgs, ...globalArgs };
const runArgs: ArgsDef = { task: { type: "positional" }, ...configArgs };

function problem(args: ArgsDef, argv: string[], variadic = false): string | undefined {
  try {
    checkFlags("list", args, argv, variadic);
    return undefined;
  } catch (error) {
    if (!(error instanceof DstreamError)) throw error;
    expect(error.exitCode).toBe(2);
    return error.message;
  }
}

describe("checkFlags", () => {
  test.each([
    ["nothing", []],
    ["a long flag with a value", ["--config", "x.hcl"]],
    ["a long flag with =", ["--config=x.hcl"]],
    ["the alias", ["-c", "x.hcl"]],
    ["a boolean", ["--json"]],
    ["a negated boolean", ["--no-json"]],
    ["help", ["--help"]],
    ["-h", ["-h"]],
    ["global flags", ["--log-level", "debug", "--log-format=json"]],
    ["camelCase spelling", ["--logLevel", "warn"]],
    ["a value that looks like a flag is a value", ["--config", "--json"]],
    ["anything after --", ["--", "--nope", "extra"]],
  ])("accepts %s", (_name, argv) => {
    expect(problem(listArgs, argv)).toBeUndefined();
  });

  test.each([
    [
      "an unknown flag",
      ["--nope"],
      "unknown flag --nope for dstream list (see dstream list --help)",
    ],
    [
      "an unknown flag with a value",
      ["--nope=1"],
      "unknown flag --nope for dstream list (see dstream list --help)",
    ],
    ["an unknown short flag", ["-x"], "unknown flag -x for dstream list (see dstream list --help)"],
    [
      "--no- of a value flag",
      ["--no-config"],
      "unknown flag --no-config for dstream list (see dstream list --help)",
    ],
    ["a missing value", ["-c"], "flag -c needs a value (see dstream list --help)"],
    [
      "a positional",
      ["extra"],
      'unexpected argument "extra" for dstream list (see dstream list --help)',
    ],
  ])("rejects %s", (_name, argv, message) => {
    expect(problem(listArgs, argv)).toBe(message);
  });

  test("positionals up to their number, more only when variadic", () => {
    expect(problem(runArgs, ["a"])).toBeUndefined();
    expect(problem(runArgs, ["a", "b"])).toBe(
      'unexpected argument "b" for dstream list (see dstream list --help)',
    );
    expect(problem(runArgs, ["a", "b", "c"], true)).toBeUndefined();
  });
});
