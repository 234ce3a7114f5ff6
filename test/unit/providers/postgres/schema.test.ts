// postgres output settings: defaults, and the cross-setting rules worded for the user.
import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { postgresOutputConfigSchema } from "../../../../src/providers/postgres/schema.ts";
import { describeIssues } from "../../../../src/sdk/index.ts";

function problems(config: unknown): string {
  const result = v.safeParse(postgresOutputConfigSchema, config);
  return result.success ? "" : describeIssues(result.issues);
}

describe("postgres output settings", () => {
  test("defaults", () => {
    expect(v.parse(postgresOutputConfigSchema, { table: "t" })).toEqual({
      table: "t",
      mode: "insert",
      batch_rows: 20_000,
      batch_bytes: 4 * 1024 * 1024,
      batch_wait_ms: 20,
      connect_timeout_ms: 10_000,
    });
  });

  test.each([
    [{}, 'config: table: is required in "insert" and "upsert" modes'],
    [
      { mode: "replicate", table: "t" },
      'config: table: not used in "replicate" mode (events name their tables in metadata.table)',
    ],
    [{ table: "t", key: ["id"] }, 'config: key: only used in "upsert" mode'],
    [{ table: "t", mode: "merge" }, 'mode: must be "insert", "upsert" or "replicate"'],
    [
      { table: "t", connection_string: "host=x" },
      'connection_string: must be a "postgres://user:password@host:port/db" URL',
    ],
    [
      { table: "t", columns: { id: "bigint; DROP TABLE x" } },
      'columns.id: must be a PostgreSQL type such as "bigint" or "text[]"',
    ],
    [
      { mode: "replicate", session_replication_role: "slave" },
      'session_replication_role: must be "origin" or "replica"',
    ],
    [
      { table: "t", tabel: "t" },
      "tabel: unknown setting (allowed: connection_string, mode, table, key, columns, batch_rows, batch_bytes, batch_wait_ms, connect_timeout_ms, session_replication_role)",
    ],
  ])("%j", (config, message) => {
    expect(problems(config)).toBe(message);
  });
});
