// The pgoutput decoder: every message kind PostgreSQL sends with proto_version 1, byte by byte.
import { describe, expect, test } from "bun:test";
import {
  DecodeError,
  decodePgoutput,
  decodeReplication,
  isoFromPostgresMicros,
  standbyStatusUpdate,
  UNCHANGED_TOAST,
} from "../../../../src/providers/postgres-cdc/pgoutput.ts";
import { begin, commitMessage, insert, keepalive, relation, Wire, xlog } from "./wire.ts";

describe("decodePgoutput", () => {
  test.each([
    [
      "Begin",
      begin(0x16b3748n, 731, 1_000_000n),
      { tag: "begin", finalLsn: 0x16b3748n, commitTime: 1_000_000n, xid: 731 },
    ],
    [
      "Commit",
      commitMessage(0x100n, 0x130n, 5n),
      { tag: "commit", flags: 0, commitLsn: 0x100n, endLsn: 0x130n, commitTime: 5n },
    ],
    [
      "Origin",
      new Wire().char("O").int64(9n).cstring("upstream").bytes(),
      { tag: "origin", lsn: 9n, name: "upstream" },
    ],
    [
      "Type",
      new Wire().char("Y").int32(16_385).cstring("public").cstring("mood").bytes(),
      { tag: "type", typeOid: 16_385, namespace: "public", name: "mood" },
    ],
    [
      "Relation",
      relation(16_400, "public", "orders", [
        { name: "id", type: 20, key: true },
        { name: "note", type: 25 },
      ]),
      {
        tag: "relation",
        relationId: 16_400,
        namespace: "public",
        name: "orders",
        replicaIdentity: "d",
        columns: [
          { name: "id", typeOid: 20, isKey: true },
          { name: "note", typeOid: 25, isKey: false },
        ],
      },
    ],
    [
      "Insert with null and unchanged TOAST",
      insert(16_400, ["1", null, { toast: true }, "ü"]),
      { tag: "insert", relationId: 16_400, row: ["1", null, UNCHANGED_TOAST, "ü"] },
    ],
    [
      "Update without old tuple",
      new Wire().char("U").int32(7).char("N").tuple(["2"]).bytes(),
      { tag: "update", relationId: 7, row: ["2"] },
    ],
    [
      "Update with old key",
      new Wire()
        .char("U")
        .int32(7)
        .char("K")
        .tuple(["1", null])
        .char("N")
        .tuple(["2", "x"])
        .bytes(),
      { tag: "update", relationId: 7, old: { kind: "key", row: ["1", null] }, row: ["2", "x"] },
    ],
    [
      "Update with old row",
      new Wire().char("U").int32(7).char("O").tuple(["1", "a"]).char("N").tuple(["1", "b"]).bytes(),
      { tag: "update", relationId: 7, old: { kind: "row", row: ["1", "a"] }, row: ["1", "b"] },
    ],
    [
      "Delete with old key",
      new Wire().char("D").int32(7).char("K").tuple(["1", null]).bytes(),
      { tag: "delete", relationId: 7, old: { kind: "key", row: ["1", null] } },
    ],
    [
      "Truncate",
      new Wire().char("T").int32(2).byte(3).int32(7).int32(8).bytes(),
      { tag: "truncate", cascade: true, restartIdentity: true, relationIds: [7, 8] },
    ],
    [
      "Message",
      new Wire().char("M").byte(1).int64(44n).cstring("app").int32(2).byte(104).byte(105).bytes(),
      {
        tag: "message",
        transactional: true,
        lsn: 44n,
        prefix: "app",
        content: new Uint8Array([104, 105]),
      },
    ],
  ])("%s", (_name, bytes, expected) => {
    expect(decodePgoutput(bytes) as unknown).toEqual(expected);
  });

  test("a message cut short, an unknown tag and a binary column are named errors", () => {
    expect(() => decodePgoutput(begin(1n, 2).subarray(0, 10))).toThrow(DecodeError);
    expect(() => decodePgoutput(Buffer.from("S"))).toThrow(
      "unknown pgoutput message 0x53 (streamed transactions are not requested)",
    );
    const binary = new Wire().char("I").int32(1).char("N").int16(1).char("b").int32(0).bytes();
    expect(() => decodePgoutput(binary)).toThrow("unknown tuple column kind 0x62");
  });
});

describe("decodeReplication", () => {
  test("XLogData carries its WAL start and the pgoutput message", () => {
    const message = decodeReplication(xlog(0x2an, begin(1n, 2)));
    expect(message).toMatchObject({ tag: "xlogdata", walStart: 0x2an, walEnd: 0x2an });
    expect(message.tag === "xlogdata" && decodePgoutput(message.payload).tag).toBe("begin");
  });

  test("a keepalive says whether it wants a reply", () => {
    expect(decodeReplication(keepalive(0x99n, true))).toEqual({
      tag: "keepalive",
      walEnd: 0x99n,
      sendTime: 0n,
      replyRequested: true,
    });
  });
});

test("a Standby Status Update reports one LSN as written, flushed and applied", () => {
  const message = standbyStatusUpdate(0x16b3748n, true, 42n);
  expect(message.length).toBe(34);
  expect(String.fromCharCode(message[0] as number)).toBe("r");
  expect([
    message.readBigUInt64BE(1),
    message.readBigUInt64BE(9),
    message.readBigUInt64BE(17),
  ]).toEqual([0x16b3748n, 0x16b3748n, 0x16b3748n]);
  expect(message.readBigInt64BE(25)).toBe(42n);
  expect(message[33]).toBe(1);
});

test("commit timestamps: microseconds since 2000-01-01 as ISO 8601 with six digits", () => {
  expect(isoFromPostgresMicros(0n)).toBe("2000-01-01T00:00:00.000000Z");
  expect(isoFromPostgresMicros(1_234_567n)).toBe("2000-01-01T00:00:01.234567Z");
  expect(isoFromPostgresMicros(-1n)).toBe("1999-12-31T23:59:59.999999Z");
});
