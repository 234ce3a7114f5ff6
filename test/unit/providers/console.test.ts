// console's config schema: simple by default, three formats.
import { expect, test } from "bun:test";
import * as v from "valibot";
import { consoleConfigSchema } from "../../../src/providers/console/index.ts";
import { describeIssues } from "../../../src/sdk/index.ts";

test("defaults to simple", () => {
  expect(v.parse(consoleConfigSchema, {})).toEqual({ outputFormat: "simple" });
});

test.each(["simple", "structured", "json"])("accepts %s", (outputFormat) => {
  expect(v.parse(consoleConfigSchema, { outputFormat })).toEqual({ outputFormat });
});

test("names the formats when given another", () => {
  const result = v.safeParse(consoleConfigSchema, { outputFormat: "table" });
  expect(result.success ? "" : describeIssues(result.issues)).toBe(
    'outputFormat: must be "simple", "structured" or "json"',
  );
});
