// docs/postgres.md: the settings table names every setting of the schema, once, with its real default.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type * as v from "valibot";
import { postgresOutputConfigSchema } from "../../../../src/providers/postgres/schema.ts";
import { documentedDefault, settingsTable } from "../kafka-settings-table.ts";

const doc = readFileSync(resolve(import.meta.dir, "../../../../docs/postgres.md"), "utf8");

test("postgres output settings: every setting with its default", () => {
  const entries: v.ObjectEntries = postgresOutputConfigSchema.pipe[0].entries;
  const rows = settingsTable(doc, "postgres output settings");
  expect([...rows.keys()].sort()).toEqual(Object.keys(entries).sort());
  for (const [name, schema] of Object.entries(entries)) {
    expect(`${name}: ${rows.get(name)}`).toBe(
      `${name}: ${documentedDefault(schema as v.GenericSchema)}`,
    );
  }
});
