// counter's config schema: defaults and the messages a user sees.
import { expect, test } from "bun:test";
import * as v from "valibot";
import { counterConfigSchema } from "../../../src/providers/counter/index.ts";
import { describeIssues } from "../../../src/sdk/index.ts";

test("defaults: one message a second, forever", () => {
  expect(v.parse(counterConfigSchema, {})).toEqual({ interval: 1000, maxCount: 0 });
});

test.each([
  [{ interval: "1s" }, "interval: must be a number"],
  [{ maxCount: -1 }, "maxCount: must be 0 or more"],
  [{ interval: 0.5 }, "interval: must be a whole number"],
  [{ count: 5 }, "count: unknown setting (allowed: interval, maxCount)"],
])("%j -> %s", (config, message) => {
  const result = v.safeParse(counterConfigSchema, config);
  expect(result.success ? "" : describeIssues(result.issues)).toBe(message);
});
