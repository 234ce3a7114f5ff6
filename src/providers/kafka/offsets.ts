// The kafka input's checkpoint: the next offset to read per topic and partition,
// {"offsets": {"<topic>": {"<partition>": <offset>}}}.

/** Next offset to read, by "topic:partition". */
export type KafkaOffsets = Map<string, bigint>;

export function offsetsCheckpoint(positions: KafkaOffsets): {
  offsets: Record<string, Record<string, number>>;
} {
  const offsets: Record<string, Record<string, number>> = {};
  for (const [key, offset] of positions) {
    const colon = key.lastIndexOf(":");
    const topic = key.slice(0, colon);
    const partitions = offsets[topic] ?? {};
    partitions[key.slice(colon + 1)] = Number(offset);
    offsets[topic] = partitions;
  }
  return { offsets };
}

function invalid(checkpoint: unknown): Error {
  return new Error(
    `kafka: checkpoint ${JSON.stringify(checkpoint)} is not a kafka position ({"offsets": {"<topic>": {"<partition>": n}}}); reset it with dstream state reset`,
  );
}

export function parseOffsetsCheckpoint(checkpoint: unknown): KafkaOffsets {
  const positions: KafkaOffsets = new Map();
  if (checkpoint === null || checkpoint === undefined) return positions;
  const offsets = (checkpoint as { offsets?: unknown }).offsets;
  if (typeof offsets !== "object" || offsets === null) throw invalid(checkpoint);
  for (const [topic, partitions] of Object.entries(offsets)) {
    if (typeof partitions !== "object" || partitions === null) throw invalid(checkpoint);
    for (const [partition, offset] of Object.entries(partitions)) {
      if (!/^\d+$/.test(partition) || !Number.isSafeInteger(offset) || (offset as number) < 0) {
        throw invalid(checkpoint);
      }
      positions.set(`${topic}:${partition}`, BigInt(offset as number));
    }
  }
  return positions;
}

/** Partitions moved on since the last flattening before a position copies its map anew. */
const chainLimit = 256;

/**
 * The input's position after one event, immutable and cheap to make for every event: one
 * partition's next offset over the position before it, flattened into a map every few hundred.
 */
export class OffsetsPosition {
  private constructor(
    private readonly base: ReadonlyMap<string, bigint>,
    private readonly chain: { key: string; offset: bigint; previous: unknown } | undefined,
    private readonly depth: number,
  ) {}

  static of(positions: ReadonlyMap<string, bigint>): OffsetsPosition {
    return new OffsetsPosition(new Map(positions), undefined, 0);
  }

  /** This position with `key` moved to `offset`. */
  next(key: string, offset: bigint): OffsetsPosition {
    if (this.depth < chainLimit) {
      return new OffsetsPosition(this.base, { key, offset, previous: this.chain }, this.depth + 1);
    }
    const flat = this.toMap();
    flat.set(key, offset);
    return new OffsetsPosition(flat, undefined, 0);
  }

  toMap(): Map<string, bigint> {
    const map = new Map(this.base);
    const moves: { key: string; offset: bigint }[] = [];
    for (let link = this.chain; link; link = link.previous as typeof this.chain) moves.push(link);
    for (let index = moves.length - 1; index >= 0; index--) {
      const move = moves[index] as { key: string; offset: bigint };
      map.set(move.key, move.offset);
    }
    return map;
  }

  toJSON(): { offsets: Record<string, Record<string, number>> } {
    return offsetsCheckpoint(this.toMap());
  }
}
