// The SQL of each run: values read by the server from the events' JSON, bytea from base64.
import { describe, expect, test } from "bun:test";
import type { Run } from "../../../../src/providers/postgres/events.ts";
import {
  createTableStatement,
  deleteStatement,
  eventsParameter,
  moveStatement,
  rekeyStatement,
  truncateStatement,
  writeStatement,
} from "../../../../src/providers/postgres/statements.ts";
import { parseTableName, type TableInfo } from "../../../../src/providers/postgres/tables.ts";

const info: TableInfo = {
  table: { schema: "public", name: "t" },
  columns: new Map([
    ["id", "bigint"],
    ["name", "text"],
    ["raw", "bytea"],
  ]),
  primaryKey: ["id"],
  generated: new Set(),
};

function run(action: Run["action"], columns: string[]): Run {
  return { table: "t", action, columns, key: ["id"], indexes: [0], rekeys: [] };
}

const from = `FROM json_array_elements($1::json) AS e(v) CROSS JOIN LATERAL json_populate_record(NULL::"public"."t", e.v->'data') AS r`;

describe("statements", () => {
  test("insert reads each column from the event's data; bytea is decoded from base64", () => {
    expect(writeStatement(info, run("insert", ["id", "raw"]))).toBe(
      `INSERT INTO "public"."t" ("id", "raw") SELECT r."id", decode(e.v->'data'->>'raw', 'base64') ${from}`,
    );
  });

  test("upsert updates the non-key columns on conflict; with only key columns it does nothing", () => {
    expect(writeStatement(info, run("upsert", ["id", "name"]))).toBe(
      `INSERT INTO "public"."t" ("id", "name") SELECT r."id", r."name" ${from} ON CONFLICT ("id") DO UPDATE SET "name" = EXCLUDED."name"`,
    );
    expect(writeStatement(info, run("upsert", ["id"]))).toEndWith('ON CONFLICT ("id") DO NOTHING');
  });

  test("delete matches the key of metadata.before, else of data", () => {
    expect(deleteStatement(info, run("delete", []))).toBe(
      `DELETE FROM "public"."t" USING json_array_elements($1::json) AS e(v) CROSS JOIN LATERAL json_populate_record(NULL::"public"."t", (CASE WHEN json_typeof(e.v->'metadata'->'before') = 'object' THEN e.v->'metadata'->'before' ELSE e.v->'data' END)) AS b WHERE "public"."t"."id" = b."id"`,
    );
  });

  test("rekey deletes the old key only when it differs from the new one", () => {
    expect(rekeyStatement(info, run("upsert", ["id"]))).toEndWith(
      `WHERE "public"."t"."id" = b."id" AND ROW(b."id") IS DISTINCT FROM ROW(r."id")`,
    );
  });

  test("a move is an UPDATE of the old key's row, skipped when the new key is there already", () => {
    expect(moveStatement(info, run("upsert", ["id", "name"]))).toBe(
      `UPDATE "public"."t" SET "id" = r."id", "name" = r."name" FROM json_array_elements($1::json) AS e(v) CROSS JOIN LATERAL json_populate_record(NULL::"public"."t", e.v->'metadata'->'before') AS b CROSS JOIN LATERAL json_populate_record(NULL::"public"."t", e.v->'data') AS r WHERE "public"."t"."id" = b."id" AND NOT EXISTS (SELECT FROM "public"."t" AS moved WHERE moved."id" = r."id")`,
    );
  });

  test("one TRUNCATE for the tables of one source statement, with its options", () => {
    const other = { ...info, table: parseTableName("sales.lines") };
    expect(truncateStatement([info, other], { cascade: false, restartIdentity: false })).toBe(
      'TRUNCATE "public"."t", "sales"."lines"',
    );
    expect(truncateStatement([info], { cascade: true, restartIdentity: true })).toBe(
      'TRUNCATE "public"."t" RESTART IDENTITY CASCADE',
    );
  });

  test("create table: declared columns, the key as primary key, names quoted", () => {
    expect(
      createTableStatement(
        { table: parseTableName('sales."Order Lines"') },
        { id: "bigint", 'we"ird': "text[]" },
        ["id"],
      ),
    ).toBe(
      'CREATE TABLE "sales"."Order Lines" ("id" bigint, "we""ird" text[], PRIMARY KEY ("id"))',
    );
  });

  test("the events parameter is the lines as received, in a JSON array", () => {
    const lines = ['{"data":{"id":12345678901234567890}}', '{"data":{"id":2}}'].map((line) =>
      new TextEncoder().encode(line),
    );
    expect(eventsParameter(lines, [1, 0]).toString()).toBe(
      '[{"data":{"id":2}},{"data":{"id":12345678901234567890}}]',
    );
  });
});

describe("parseTableName", () => {
  test.each([
    ["orders", { schema: "public", name: "orders" }],
    ["sales.orders", { schema: "sales", name: "orders" }],
    ['"My.Schema"."Or""ders"', { schema: "My.Schema", name: 'Or"ders' }],
  ])("%s", (text, expected) => {
    expect(parseTableName(text)).toEqual(expected);
  });

  test("three parts are refused", () => {
    expect(() => parseTableName("a.b.c")).toThrow(
      '"a.b.c" is not a table name ("table" or "schema.table")',
    );
  });
});
