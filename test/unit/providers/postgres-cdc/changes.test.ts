// The change assembler: event lines in commit order, positions at transaction ends and inside one,
// skipping what a checkpoint covers, heartbeats only outside transactions.
import { describe, expect, test } from "bun:test";
import { ChangeAssembler } from "../../../../src/providers/postgres-cdc/changes.ts";
import type { CdcPosition } from "../../../../src/providers/postgres-cdc/checkpoint.ts";
import { decodeReplication } from "../../../../src/providers/postgres-cdc/pgoutput.ts";
import { TypeCatalog } from "../../../../src/providers/postgres-cdc/values.ts";
import { begin, commitMessage, insert, keepalive, relation, Wire, xlog } from "./wire.ts";

type Resume = Extract<CdcPosition, { phase: "stream" }>;

function assembler(resume: Resume = { phase: "stream", lsn: 0n, sequence: 0 }) {
  return new ChangeAssembler({
    catalog: new TypeCatalog(),
    keyColumns: new Map([[7, ["id"]]]),
    resume,
  });
}

const orders = relation(7, "public", "orders", [
  { name: "id", type: 20, key: true },
  { name: "note", type: 25 },
  { name: "body", type: 25 },
]);

/** One transaction of inserts with ids `ids`, committing at `commitLsn` and ending at commitLsn + 0x30. */
function transaction(commitLsn: bigint, xid: number, ids: number[]): Buffer[] {
  return [
    xlog(commitLsn - 0x100n, begin(commitLsn, xid)),
    xlog(commitLsn - 0x100n, orders),
    ...ids.map((id, index) =>
      xlog(commitLsn - 0x100n + BigInt(index * 8), insert(7, [String(id), "n", null])),
    ),
    xlog(commitLsn, commitMessage(commitLsn, commitLsn + 0x30n)),
  ];
}

function feed(target: ChangeAssembler, messages: Buffer[]) {
  for (const message of messages) target.push(decodeReplication(message));
}

const events = (text: string) =>
  text
    .split("\n")
    .filter((line) => line !== "")
    .map(
      (line) =>
        JSON.parse(line) as {
          data: { id: number } & Record<string, unknown>;
          metadata: Record<string, unknown>;
        },
    );

describe("ChangeAssembler", () => {
  test("events carry table, operation, lsns, sequence, txid, commit time, key; the position is the commit's end", () => {
    const target = assembler();
    feed(target, transaction(0x1000n, 500, [1, 2]));
    const lines = events(target.take());
    expect(lines.map((line) => line.data)).toEqual([
      { id: 1, note: "n", body: null },
      { id: 2, note: "n", body: null },
    ]);
    expect(lines[1]?.metadata).toEqual({
      table: "public.orders",
      operation: "insert",
      lsn: "0/F08",
      commit_lsn: "0/1000",
      sequence: 2,
      txid: 500,
      commit_time: "2000-01-01T00:00:00.000000Z",
      source: "postgres-cdc",
      key: ["id"],
    });
    expect(target.takePositionChange()).toBe(true);
    expect(target.position).toEqual({ phase: "stream", lsn: 0x1030n, sequence: 2 });
  });

  test("transactions that commit before the resume LSN are skipped whole", () => {
    const target = assembler({ phase: "stream", lsn: 0x1030n, sequence: 2 });
    feed(target, [...transaction(0x1000n, 500, [1, 2]), ...transaction(0x2000n, 501, [3])]);
    const lines = events(target.take());
    expect(lines.map((line) => [line.data.id, line.metadata.sequence])).toEqual([[3, 3]]);
    expect(target.position).toEqual({ phase: "stream", lsn: 0x2030n, sequence: 3 });
  });

  test("inside a transaction the position names it and counts its delivered changes; a resume skips them", () => {
    const first = assembler({ phase: "stream", lsn: 0x500n, sequence: 10 });
    const messages = transaction(0x1000n, 500, [1, 2, 3]);
    feed(first, messages.slice(0, 4));
    expect(events(first.take()).map((line) => line.data.id)).toEqual([1, 2]);
    const cut = first.position;
    expect(cut).toEqual({
      phase: "stream",
      lsn: 0x500n,
      sequence: 12,
      tx: { commitLsn: 0x1000n, done: 2 },
    });
    const second = assembler(cut as Resume);
    feed(second, messages);
    expect(events(second.take()).map((line) => [line.data.id, line.metadata.sequence])).toEqual([
      [3, 13],
    ]);
    expect(second.position).toEqual({ phase: "stream", lsn: 0x1030n, sequence: 13 });
  });

  test("unchanged TOAST is left out and named; old keys and rows become before", () => {
    const target = assembler();
    feed(target, [
      xlog(0x10n, begin(0x100n, 9)),
      xlog(0x10n, orders),
      xlog(
        0x20n,
        new Wire()
          .char("U")
          .int32(7)
          .char("K")
          .tuple(["1", null, null])
          .char("N")
          .tuple(["2", "x", { toast: true }])
          .bytes(),
      ),
      xlog(0x30n, new Wire().char("D").int32(7).char("O").tuple(["2", "x", "big"]).bytes()),
      xlog(0x100n, commitMessage(0x100n, 0x130n)),
    ]);
    const [update, remove] = events(target.take());
    expect(update?.data).toEqual({ id: 2, note: "x" });
    expect(update?.metadata).toMatchObject({
      operation: "update",
      before: { id: 1 },
      unchanged_toast: ["body"],
    });
    expect(remove?.data).toEqual({ id: 2, note: "x", body: "big" });
    expect(remove?.metadata).toMatchObject({
      operation: "delete",
      before: { id: 2, note: "x", body: "big" },
    });
  });

  test("heartbeat: the keepalive position is taken only outside a transaction, and only forward", () => {
    const target = assembler({ phase: "stream", lsn: 0x500n, sequence: 0 });
    feed(target, [keepalive(0x400n, false)]);
    expect(target.advanceToIdle()).toBe(false);
    feed(target, [keepalive(0x900n, false)]);
    expect(target.advanceToIdle()).toBe(true);
    expect(target.position).toEqual({ phase: "stream", lsn: 0x900n, sequence: 0 });
    feed(target, [xlog(0x950n, begin(0x1000n, 1)), keepalive(0x990n, false)]);
    expect(target.advanceToIdle()).toBe(false);
  });
});
