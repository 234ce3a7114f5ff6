// null's config schema: it takes no settings.
import { expect, test } from "bun:test";
import * as v from "valibot";
import { nullConfigSchema } from "../../../src/providers/null/index.ts";
import { describeIssues } from "../../../src/sdk/index.ts";

test("takes an empty config and refuses any key", () => {
  expect(v.parse(nullConfigSchema, {})).toEqual({});
  const result = v.safeParse(nullConfigSchema, { quiet: true });
  expect(result.success ? "" : describeIssues(result.issues)).toBe(
    "quiet: unknown setting (this provider takes none)",
  );
});
