// docs/nats.md: each settings table names every setting of its schema, once, with its real default.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type * as v from "valibot";
import {
  natsInputConfigSchema,
  natsOutputConfigSchema,
} from "../../../src/providers/nats/schema.ts";
import { documentedDefault, settingsTable } from "./kafka-settings-table.ts";

const doc = readFileSync(resolve(import.meta.dir, "../../../docs/nats.md"), "utf8");

test.each([
  ["nats output settings", natsOutputConfigSchema.pipe[0].entries],
  ["nats input settings", natsInputConfigSchema.entries],
] as [string, v.ObjectEntries][])("%s: every setting with its default", (heading, entries) => {
  const rows = settingsTable(doc, heading);
  expect([...rows.keys()].sort()).toEqual(Object.keys(entries).sort());
  for (const [name, schema] of Object.entries(entries)) {
    expect(`${name}: ${rows.get(name)}`).toBe(
      `${name}: ${documentedDefault(schema as v.GenericSchema)}`,
    );
  }
});
