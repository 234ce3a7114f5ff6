// The nats input's checkpoint: the stream sequences delivered and not yet acked, as ranges,
// {"stream": "<name>", "delivered": [[first, last], ...]}. Once dstream has it durable they may be
// acked; a restart acks (and skips) their redeliveries instead of passing them on again.

export interface NatsCheckpoint {
  stream: string;
  delivered: [number, number][];
}

/** Sorted, merged ranges of `sequences`. */
export function rangesOf(sequences: Iterable<number>): [number, number][] {
  const sorted = [...sequences].sort((a, b) => a - b);
  const ranges: [number, number][] = [];
  for (const sequence of sorted) {
    const last = ranges[ranges.length - 1];
    if (last && sequence <= last[1] + 1) last[1] = Math.max(last[1], sequence);
    else ranges.push([sequence, sequence]);
  }
  return ranges;
}

export function* sequencesIn(ranges: readonly [number, number][]): Generator<number> {
  for (const [first, last] of ranges) {
    for (let sequence = first; sequence <= last; sequence++) yield sequence;
  }
}

function invalid(checkpoint: unknown): Error {
  return new Error(
    `nats: checkpoint ${JSON.stringify(checkpoint).slice(0, 200)} is not a nats position ({"stream", "delivered": [[first, last]]}); reset it with dstream state reset`,
  );
}

/** The sequences a checkpoint of `stream` names; a checkpoint of another stream names none. */
export function parseNatsCheckpoint(checkpoint: unknown, stream: string): [number, number][] {
  if (checkpoint === null || checkpoint === undefined) return [];
  const { stream: named, delivered } = checkpoint as Partial<NatsCheckpoint>;
  if (typeof named !== "string" || !Array.isArray(delivered)) throw invalid(checkpoint);
  for (const range of delivered) {
    const valid =
      Array.isArray(range) &&
      range.length === 2 &&
      range.every((value) => Number.isSafeInteger(value) && value > 0) &&
      range[0] <= range[1];
    if (!valid) throw invalid(checkpoint);
  }
  return named === stream ? delivered : [];
}

/** Events added to a position before it is flattened into ranges anew. */
const chainLimit = 256;

/**
 * The input's position after one event, immutable and cheap to make for every event: the
 * sequence of that event over the position before it, flattened every few hundred events from
 * what is then still unacked.
 */
export class DeliveredPosition {
  private constructor(
    private readonly stream: string,
    private readonly base: readonly [number, number][],
    private readonly chain: { sequence: number; previous: unknown } | undefined,
    private readonly depth: number,
  ) {}

  static of(stream: string, unacked: Iterable<number>): DeliveredPosition {
    return new DeliveredPosition(stream, rangesOf(unacked), undefined, 0);
  }

  /** This position with `sequence` delivered too; `unacked` tells what is still unacked when it flattens. */
  next(sequence: number, unacked: () => Iterable<number>): DeliveredPosition {
    if (this.depth < chainLimit) {
      return new DeliveredPosition(
        this.stream,
        this.base,
        { sequence, previous: this.chain },
        this.depth + 1,
      );
    }
    return DeliveredPosition.of(this.stream, unacked());
  }

  toJSON(): NatsCheckpoint {
    const sequences: number[] = [];
    for (let link = this.chain; link; link = link.previous as typeof this.chain)
      sequences.push(link.sequence);
    return { stream: this.stream, delivered: rangesOf([...sequencesIn(this.base), ...sequences]) };
  }
}
