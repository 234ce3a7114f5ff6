// The checkpoint's JSON both ways, and a foreign checkpoint refused with the way out.
import { expect, test } from "bun:test";
import { parseCheckpointLine } from "../../../../src/protocol/index.ts";
import {
  parseCheckpoint,
  positionLine,
} from "../../../../src/providers/postgres-cdc/checkpoint.ts";

test.each([
  [
    { phase: "snapshot", sequence: 5 } as const,
    '{"checkpoint":{"phase":"snapshot","sequence":5}}\n',
  ],
  [
    { phase: "stream", lsn: 0x16b3748n, sequence: 9 } as const,
    '{"checkpoint":{"phase":"stream","lsn":"0/16B3748","sequence":9}}\n',
  ],
  [
    {
      phase: "stream",
      lsn: 0x1_0000_0010n,
      sequence: 9,
      tx: { commitLsn: 0x1_0000_0100n, done: 3 },
    } as const,
    '{"checkpoint":{"phase":"stream","lsn":"1/10","tx":"1/100","done":3,"sequence":9}}\n',
  ],
])("position %# round-trips through its checkpoint line", (position, line) => {
  expect(positionLine(position)).toBe(line);
  expect(parseCheckpoint(parseCheckpointLine(line.trim()))).toEqual(position);
});

test("null is a first run; anything else not ours is refused", () => {
  expect(parseCheckpoint(null)).toBeNull();
  expect(() => parseCheckpoint({ offsets: {} })).toThrow(
    'postgres-cdc: checkpoint {"offsets":{}} is not a postgres-cdc position ({"phase":"stream","lsn":"0/16B3748","sequence":n}); reset it with dstream state reset',
  );
});
