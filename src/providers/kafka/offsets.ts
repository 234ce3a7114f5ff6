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
