// registry's remedies, worded by the CLI with dstream's own commands and flags.
import { expect, test } from "bun:test";
import { explainRemedy } from "../../../src/cli/registry-remedies.ts";
import { DstreamError } from "../../../src/errors.ts";
import { RegistryError, type Remedy } from "../../../src/registry/index.ts";

const upgrade =
  "run again with --upgrade (or dstream providers lock --upgrade) to re-resolve the tag";

test.each<[Remedy, string]>([
  [{ kind: "re-resolve" }, `the binary is gone; ${upgrade}`],
  [
    { kind: "re-resolve", condition: "if the tag has one now" },
    `the binary is gone; if the tag has one now, ${upgrade}`,
  ],
  [
    { kind: "relock" },
    "the binary is gone (fix it, or delete the file and run dstream providers lock)",
  ],
  [
    { kind: "push-platform", platform: "linux/arm64" },
    "the binary is gone; push one with dstream providers push --platform linux/arm64=<file>",
  ],
])("%j", (remedy, message) => {
  const original = new RegistryError("CONFIG_INVALID", "the binary is gone", remedy);
  const explained = explainRemedy(original) as DstreamError;
  expect(explained).toBeInstanceOf(DstreamError);
  expect(explained.message).toBe(message);
  expect(explained.problems).toEqual([message]);
  expect(explained.exitCode).toBe(original.exitCode);
  expect(explained.cause).toBe(original);
});

test("any other error is left as it is", () => {
  const error = new DstreamError("REGISTRY", "no");
  expect(explainRemedy(error)).toBe(error);
});
