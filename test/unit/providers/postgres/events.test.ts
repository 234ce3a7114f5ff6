// How a batch becomes runs: one statement per table/action/columns stretch, split where a key repeats.
import { describe, expect, test } from "bun:test";
import { planRuns, readEvents } from "../../../../src/providers/postgres/events.ts";
import type { TableInfo } from "../../../../src/providers/postgres/tables.ts";
import { Batch } from "../../../../src/sdk/index.ts";

function batchOf(lines: string[]): Batch {
  const bytes = lines.map((line) => new TextEncoder().encode(line));
  return new Batch(
    bytes,
    1,
    bytes.reduce((sum, line) => sum + line.length, 0),
  );
}

function info(name: string, columns: string[], primaryKey: string[]): TableInfo {
  return {
    table: { schema: "public", name },
    columns: new Map(columns.map((column) => [column, "text"])),
    primaryKey,
    generated: new Set(),
  };
}

const tables = new Map([
  ["public.orders", info("orders", ["id", "item"], ["id"])],
  ["t", info("t", ["id", "item"], ["id"])],
]);
const tableOf = (name: string) => ({
  info: tables.get(name) as TableInfo,
  display: name.includes(".") ? name : `public.${name}`,
});
const primaryKey = (table: TableInfo) => table.primaryKey;

function cdc(operation: string, data: unknown, before?: unknown, sequence = 1): string {
  return JSON.stringify({
    data,
    metadata: { table: "public.orders", operation, sequence, ...(before ? { before } : {}) },
  });
}

describe("readEvents", () => {
  test("replicate: operation and table from metadata; insert and update become upserts", () => {
    const events = readEvents(
      batchOf([
        cdc("insert", { id: 1 }),
        cdc("update", { id: 1 }, { id: 1 }),
        cdc("delete", null, { id: 1 }),
      ]),
      "replicate",
      undefined,
    );
    expect(events.map((event) => [event.table, event.action, event.before])).toEqual([
      ["public.orders", "upsert", undefined],
      ["public.orders", "upsert", { id: 1 }],
      ["public.orders", "delete", { id: 1 }],
    ]);
  });

  test.each([
    [
      cdc("merge", { id: 1 }, undefined, 9),
      'postgres: event sequence 9: metadata.operation "merge" is not insert, update, delete or truncate',
    ],
    [
      '{"data":{"id":1},"metadata":{"operation":"insert"}}',
      "postgres: event line 1: metadata.table is missing (replicate applies postgres-cdc events)",
    ],
    [
      cdc("insert", [1, 2], undefined, 3),
      "postgres: event sequence 3: data must be an object of column values",
    ],
  ])("replicate refuses %s", (line, message) => {
    expect(() => readEvents(batchOf([line]), "replicate", undefined)).toThrow(message);
  });

  test("insert and upsert: the configured table; sequence falls back to the line number", () => {
    const events = readEvents(batchOf(['{"data":{"id":1}}']), "upsert", "t");
    expect(events[0]).toMatchObject({ table: "t", action: "upsert", sequence: "line 1" });
  });
});

describe("planRuns", () => {
  const plan = (lines: string[], mode: "insert" | "upsert" | "replicate" = "replicate") =>
    planRuns(
      readEvents(batchOf(lines), mode, mode === "replicate" ? undefined : "t"),
      tableOf,
      primaryKey,
    ).map(
      (run) =>
        `${run.action}:${run.indexes.join(",")}${run.rekeys.length > 0 ? `/rekey:${run.rekeys.join(",")}` : ""}`,
    );

  test("consecutive upserts of distinct keys share a run; a repeated key starts a new one", () => {
    expect(
      plan([
        cdc("insert", { id: 1 }),
        cdc("insert", { id: 2 }),
        cdc("update", { id: 1 }),
        cdc("insert", { id: 3 }),
      ]),
    ).toEqual(["upsert:0,1", "upsert:2,3"]);
  });

  test("deletes share a run; truncate is a run alone; a change of column set splits", () => {
    expect(
      plan([
        cdc("delete", null, { id: 1 }),
        cdc("delete", null, { id: 2 }),
        cdc("truncate", null),
        cdc("truncate", null),
        cdc("insert", { id: 1, item: "a" }),
        cdc("insert", { id: 2 }),
      ]),
    ).toEqual(["delete:0,1", "truncate:2", "truncate:3", "upsert:4", "upsert:5"]);
  });

  test("the truncates of one source TRUNCATE (same lsn and options) are one run naming every table", () => {
    const truncate = (table: string, lsn: string, cascade = true) =>
      JSON.stringify({
        data: null,
        metadata: { table, operation: "truncate", lsn, cascade, restart_identity: false },
      });
    const runs = planRuns(
      readEvents(
        batchOf([
          truncate("public.orders", "0/10"),
          truncate("t", "0/10"),
          truncate("t", "0/20"),
          truncate("public.orders", "0/20", false),
        ]),
        "replicate",
        undefined,
      ),
      tableOf,
      primaryKey,
    );
    expect(runs.map((run) => [run.indexes, run.truncate])).toEqual([
      [
        [0, 1],
        { lsn: "0/10", cascade: true, restartIdentity: false, tables: ["public.orders", "t"] },
      ],
      [[2], { lsn: "0/20", cascade: true, restartIdentity: false, tables: ["t"] }],
      [[3], { lsn: "0/20", cascade: false, restartIdentity: false, tables: ["public.orders"] }],
    ]);
  });

  test("an update with the old key: rekeyed first; its old key seen earlier in the run splits it", () => {
    expect(plan([cdc("update", { id: 2 }, { id: 1 }), cdc("insert", { id: 3 })])).toEqual([
      "upsert:0,1/rekey:0",
    ]);
    // A row moved away from a key, then a new row under that key: two statements.
    expect(plan([cdc("update", { id: 2 }, { id: 1 }), cdc("insert", { id: 1 })])).toEqual([
      "upsert:0/rekey:0",
      "upsert:1",
    ]);
    expect(plan([cdc("insert", { id: 1 }), cdc("update", { id: 2 }, { id: 1 })])).toEqual([
      "upsert:0",
      "upsert:1/rekey:1",
    ]);
  });

  test("a key change without a column the source left out (unchanged TOAST) is refused, never written with NULL", () => {
    const moved = JSON.stringify({
      data: { id: 2 },
      metadata: {
        table: "public.orders",
        operation: "update",
        sequence: 7,
        before: { id: 1 },
        unchanged_toast: ["item"],
      },
    });
    expect(() => plan([moved])).toThrow(
      'postgres: table public.orders, column "item", event sequence 7: the update changes the row\'s key but the event does not carry this unchanged (TOASTed) column, so the moved row cannot be written whole; set REPLICA IDENTITY FULL on the source table (postgres-cdc then fills it from the old row)',
    );
    // The same update without a key change keeps the replica's value: fine.
    const kept = moved.replace('"data":{"id":2}', '"data":{"id":1}');
    expect(plan([kept])).toEqual(["upsert:0"]);
  });

  test("insert mode never splits on keys: duplicates are the table's to refuse", () => {
    expect(plan(['{"data":{"id":1}}', '{"data":{"id":1}}'], "insert")).toEqual(["insert:0,1"]);
  });

  test("a column the table lacks, or a key value missing, is named with the event", () => {
    expect(() =>
      plan(['{"data":{"id":1,"colour":"red"},"metadata":{"sequence":4}}'], "upsert"),
    ).toThrow(
      'postgres: table public.t, column "colour", event sequence 4: the table has no such column',
    );
    expect(() => plan(['{"data":{"item":"x"},"metadata":{"sequence":5}}'], "upsert")).toThrow(
      'postgres: table public.t, column "id", event sequence 5: the event has no value for this key column',
    );
  });
});
