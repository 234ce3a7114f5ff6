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
  generated: new Set(),
};

function cdc(operation: string, data: unknown, before?: unknown, table = "public.orders"): string {
  return JSON.stringify({ data, metadata: { table, operation, ...(before ? { before } : {}) } });
}

function compact(lines: string[]): string[] {
  const bytes = lines.map((line) => new TextEncoder().encode(line));
  const events = readEvents(new Batch(bytes, 1, 0), "replicate", undefined);
  const runs = planRuns(
    events,
    () => ({ info, display: "public.orders" }),
    () => ["id"],
  );
  return compactRuns(runs, events).map(
    (run) => `${run.table} ${run.action}:${run.indexes.join(",")}`,
  );
}

describe("compactRuns", () => {
  test("the last change of each key wins within a stretch of one table: one delete, one upsert", () => {
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

  test("stretches of different tables keep their stream order (a parent before its child, a child deleted before its parent)", () => {
    expect(
      compact([
        cdc("insert", { id: 1, item: "child of 10" }, undefined, "public.child"),
        cdc("insert", { id: 10, item: "parent" }, undefined, "public.parent"),
        cdc("insert", { id: 2, item: "child of 10" }, undefined, "public.child"),
        cdc("delete", null, { id: 1 }, "public.child"),
        cdc("delete", null, { id: 2 }, "public.child"),
        cdc("delete", null, { id: 10 }, "public.parent"),
      ]),
    ).toEqual([
      "public.child upsert:0",
      "public.parent upsert:1",
      "public.child delete:3,4",
      "public.parent delete:5",
    ]);
  });

  test("a row moved to a new key leaves its stretch in stream order (the move is an UPDATE)", () => {
    expect(
      compact([
        cdc("update", { id: 2, item: "b" }, { id: 1 }),
        cdc("insert", { id: 1, item: "a" }),
        cdc("update", { id: 1, item: "c" }),
      ]),
    ).toEqual(["public.orders upsert:0", "public.orders upsert:1", "public.orders upsert:2"]);
    // An update whose before holds the same key (REPLICA IDENTITY FULL) moves nothing.
    expect(
      compact([
        cdc("update", { id: 1, item: "b" }, { id: 1, item: "a" }),
        cdc("update", { id: 1, item: "c" }, { id: 1, item: "b" }),
      ]),
    ).toEqual(["public.orders upsert:1"]);
  });

  test("a truncate cuts the batch: what came before is applied first", () => {
    expect(
      compact([
        cdc("insert", { id: 1, item: "a" }),
        cdc("update", { id: 1, item: "b" }),
        cdc("truncate", null),
        cdc("insert", { id: 1, item: "b" }),
      ]),
    ).toEqual(["public.orders upsert:1", "public.orders truncate:2", "public.orders upsert:3"]);
  });

  test("not compacted, in stream order: keys past a double's precision, one key with two column sets", () => {
    const big = (id: string) =>
      `{"data":{"id":${id}},"metadata":{"table":"public.orders","operation":"insert"}}`;
    expect(compact([big("12345678901234567890"), big("12345678901234567891")])).toEqual([
      "public.orders upsert:0",
      "public.orders upsert:1",
    ]);
    expect(compact([cdc("insert", { id: 1, item: "a" }), cdc("update", { id: 1 })])).toEqual([
      "public.orders upsert:0",
      "public.orders upsert:1",
    ]);
  });
});
