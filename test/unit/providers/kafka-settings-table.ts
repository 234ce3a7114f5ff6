// Reads a docs page's settings table and words a schema entry's default the way the table does.
import { expect } from "bun:test";
import * as v from "valibot";

/** `setting -> default cell` of the table under `## <heading>`. */
export function settingsTable(text: string, heading: string): Map<string, string> {
  const section = text.split(`## ${heading}\n`)[1]?.split("\n## ")[0] ?? "";
  const rows = new Map<string, string>();
  for (const match of section.matchAll(/^\| `([a-z_]+)` \| ([^|]+) \|/gm)) {
    expect(rows.has(match[1] ?? "")).toBe(false);
    rows.set(match[1] ?? "", (match[2] ?? "").trim());
  }
  return rows;
}

export function documentedDefault(schema: v.GenericSchema): string {
  if (schema.type !== "optional") return "required";
  const value = v.getDefault(schema as v.OptionalSchema<v.GenericSchema, unknown>);
  return value === undefined ? "none" : `\`${JSON.stringify(value)}\``;
}
