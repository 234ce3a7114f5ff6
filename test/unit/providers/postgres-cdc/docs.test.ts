// docs/postgres-cdc.md: the settings table names every setting of the schema, once, with its real default.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type * as v from "valibot";
import { postgresCdcConfigSchema } from "../../../../src/providers/postgres-cdc/schema.ts";
import { documentedDefault, settingsTable } from "../kafka-settings-table.ts";

const doc = readFileSync(resolve(import.meta.dir, "../../../../docs/postgres-cdc.md"), "utf8");

test("postgres-cdc input settings: every setting with its default", () => {
  const rows = settingsTable(doc, "postgres-cdc input settings");
  const entries: v.ObjectEntries = postgresCdcConfigSchema.entries;
  expect([...rows.keys()].sort()).toEqual(Object.keys(entries).sort());
  for (const [name, schema] of Object.entries(entries)) {
    expect(`${name}: ${rows.get(name)}`).toBe(
      `${name}: ${documentedDefault(schema as v.GenericSchema)}`,
    );
  }
});

test("the error table shows the exact wal_level fix the input prints", async () => {
  const { walLevelMessage } = await import("../../../../src/providers/postgres-cdc/connection.ts");
  expect(walLevelMessage("replica")).toBe(
    'postgres-cdc: wal_level is "replica", logical replication needs "logical": run ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL (the setting takes effect only at a restart)',
  );
  expect(doc).toContain(
    walLevelMessage("replica").slice(
      "postgres-cdc: ".length,
      -" (the setting takes effect only at a restart)".length,
    ),
  );
});
