// Replicate batches reduced to their net effect per key: one DELETE and one upsert per table.
import { describe, expect, test } from "bun:test";
import { compactRuns } from "../../../../src/providers/postgres/compact.ts";
import { planRuns, readEvents } from "../../../../src/providers/postgres/events.ts";
import type { TableInfo } from "../../../../src/providers/postgres/tables.ts";
import { Batch } from "../../../../src/sdk/index.ts";

const info: TableInfo = {
  table: { schema: "public", name: "orders" },
  columns: new Map([
    ["id", "bigint"],
    ["item", "text"],
  ]),
  primaryKey: ["id"],
};

function cdc(operation: string, data: unknown, before?: unknown, table = "public.orders"): string {
  return JSON.stringify({ data, metadata: { table, operation, ...(before ? { before } : {}) } });
}

function compact(lines: string[]): string[] | undefined {
  const bytes = lines.map((line) => new TextEncoder().encode(line));
  const events = readEvents(new Batch(bytes, 1, 0), "replicate", undefined);
  const runs = planRuns(
    events,
    () => ({ info, display: "public.orders" }),
    () => ["id"],
  );
  return compactRuns(runs, events)?.map(
    (run) => `${run.table} ${run.action}:${run.indexes.join(",")}`,
  );
}

describe("compactRuns", () => {
  test("the last change of each key wins: one delete and one upsert statement per table", () => {
    expect(
      compact([
        cdc("insert", { id: 1, item: "a" }),
        cdc("insert", { id: 2, item: "b" }),
        cdc("update", { id: 1, item: "c" }),
        cdc("delete", null, { id: 2 }),
        cdc("insert", { id: 3, item: "d" }),
        cdc("insert", { id: 9, item: "x" }, undefined, "public.other"),
      ]),
    ).toEqual(["public.orders delete:3", "public.orders upsert:2,4", "public.other upsert:5"]);
  });

  test("a key moved by an update deletes the old key; a later insert of the old key wins again", () => {
    expect(compact([cdc("update", { id: 2, item: "b" }, { id: 1 })])).toEqual([
      "public.orders delete:0",
      "public.orders upsert:0",
    ]);
    expect(
      compact([
        cdc("update", { id: 2, item: "b" }, { id: 1 }),
        cdc("insert", { id: 1, item: "a" }),
      ]),
    ).toEqual(["public.orders upsert:0,1"]);
  });

  test("a truncate cuts the batch: what came before is applied first", () => {
    expect(
      compact([
        cdc("insert", { id: 1, item: "a" }),
        cdc("truncate", null),
        cdc("insert", { id: 1, item: "b" }),
      ]),
    ).toEqual(["public.orders upsert:0", "public.orders truncate:1", "public.orders upsert:2"]);
  });

  test("not compacted: keys past a double's precision, one key with two column sets", () => {
    expect(
      compact([
        '{"data":{"id":12345678901234567890},"metadata":{"table":"public.orders","operation":"insert"}}',
      ]),
    ).toBeUndefined();
    expect(
      compact([cdc("insert", { id: 1, item: "a" }), cdc("update", { id: 1 })]),
    ).toBeUndefined();
  });
});
