// Config validation: "<path>: <problem>" for every issue, unknown keys named, defaults applied.
import { expect, test } from "bun:test";
import * as v from "valibot";
import { ConfigError, configObject, parseConfig } from "../../../src/sdk/config.ts";

const schema = configObject({
  name: v.string("must be a string"),
  retries: v.optional(v.number("must be a number"), 3),
  lock: v.optional(
    configObject({ type: v.picklist(["none", "file"], 'must be "none" or "file"') }),
  ),
});

test("applies defaults", () => {
  expect(parseConfig(schema, { name: "x" })).toEqual({ name: "x", retries: 3 });
});

test.each([
  [{}, "name: is required"],
  [{ name: 1, retries: "2" }, "name: must be a string; retries: must be a number"],
  [{ name: "x", retry: 2 }, "retry: unknown setting (allowed: name, retries, lock)"],
  [{ name: "x", lock: { type: "redis" } }, 'lock.type: must be "none" or "file"'],
  ["text", 'config: must be an object, got "text"'],
])("%j -> %s", (config, message) => {
  expect(() => parseConfig(schema, config)).toThrow(new ConfigError(message));
});
