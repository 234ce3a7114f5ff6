// docs/http.md's settings tables name every setting of each schema, once, with its real default.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import * as v from "valibot";
import { httpOutputConfigSchema } from "../../../src/providers/http/schema.ts";
import { httpPollConfigSchema } from "../../../src/providers/http-poll/schema.ts";

const doc = readFileSync(resolve(import.meta.dir, "../../../docs/http.md"), "utf8");

/** `setting -> default cell` of the table under `## <heading>`. */
function table(heading: string): Map<string, string> {
  const section = doc.split(`## ${heading}\n`)[1]?.split("\n## ")[0] ?? "";
  const rows = new Map<string, string>();
  for (const match of section.matchAll(/^\| `([a-z_]+)` \| ([^|]+) \|/gm)) {
    expect(rows.has(match[1] ?? "")).toBe(false);
    rows.set(match[1] ?? "", (match[2] ?? "").trim());
  }
  return rows;
}

function documentedDefault(schema: v.GenericSchema): string {
  if (schema.type !== "optional") return "required";
  const value = v.getDefault(schema as v.OptionalSchema<v.GenericSchema, unknown>);
  return value === undefined ? "none" : `\`${JSON.stringify(value)}\``;
}

test.each([
  ["http-poll settings", httpPollConfigSchema.pipe[0].entries],
  ["http settings", httpOutputConfigSchema.entries],
] as [string, v.ObjectEntries][])("%s: every setting with its default", (heading, entries) => {
  const rows = table(heading);
  expect([...rows.keys()].sort()).toEqual(Object.keys(entries).sort());
  for (const [name, schema] of Object.entries(entries)) {
    expect(`${name}: ${rows.get(name)}`).toBe(
      `${name}: ${documentedDefault(schema as v.GenericSchema)}`,
    );
  }
});
