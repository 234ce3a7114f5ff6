// nats pieces without a server: delivered-sequence ranges, the checkpoint both ways, positions
// that stay what they were when made.
import { describe, expect, test } from "bun:test";
import {
  DeliveredPosition,
  parseNatsCheckpoint,
  rangesOf,
  sequencesIn,
} from "../../../src/providers/nats/positions.ts";

describe("nats checkpoint", () => {
  test("sequences become sorted, merged ranges and back", () => {
    expect(rangesOf([5, 1, 2, 3, 9, 10, 7])).toEqual([
      [1, 3],
      [5, 5],
      [7, 7],
      [9, 10],
    ]);
    expect([
      ...sequencesIn([
        [1, 3],
        [7, 7],
      ]),
    ]).toEqual([1, 2, 3, 7]);
    expect(rangesOf([])).toEqual([]);
  });

  test("a checkpoint of another stream names nothing; a malformed one is refused in one line", () => {
    const checkpoint = { stream: "S", delivered: [[1, 4]] };
    expect(parseNatsCheckpoint(checkpoint, "S")).toEqual([[1, 4]]);
    expect(parseNatsCheckpoint(checkpoint, "OTHER")).toEqual([]);
    expect(parseNatsCheckpoint(null, "S")).toEqual([]);
    for (const bad of [
      { stream: "S" },
      { stream: "S", delivered: [[4, 1]] },
      { stream: "S", delivered: [[0, 1]] },
      { value: 1 },
    ]) {
      expect(() => parseNatsCheckpoint(bad, "S")).toThrow(
        `nats: checkpoint ${JSON.stringify(bad)} is not a nats position ({"stream", "delivered": [[first, last]]}); reset it with dstream state reset`,
      );
    }
  });

  test("a position stays what it was when made; flattening keeps only what is still unacked", () => {
    const unacked = new Set<number>();
    let position = DeliveredPosition.of("S", unacked);
    const kept: { position: DeliveredPosition; expected: string }[] = [];
    for (let sequence = 1; sequence <= 600; sequence++) {
      unacked.add(sequence);
      if (sequence === 300) for (let acked = 1; acked <= 250; acked++) unacked.delete(acked);
      position = position.next(sequence, () => unacked);
      if (sequence % 101 === 0) kept.push({ position, expected: JSON.stringify(position) });
    }
    for (const { position: old, expected } of kept) expect(JSON.stringify(old)).toBe(expected);
    expect(position.toJSON()).toEqual({ stream: "S", delivered: [[251, 600]] });
  });
});
