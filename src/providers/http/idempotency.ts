// The idempotency key of one request: the task and its events' first and last metadata.sequence,
// so the same events sent again (a replay after a crash) carry the same key.
import type { Batch } from "../../sdk/index.ts";

function sequenceOf(batch: Batch, index: number): number | string | undefined {
  try {
    const sequence = (batch.envelope(index).metadata as { sequence?: unknown } | undefined)
      ?.sequence;
    return typeof sequence === "number" || typeof sequence === "string" ? sequence : undefined;
  } catch {
    return undefined;
  }
}

/** `<task>:<first>-<last>`; events without a sequence get a digest of their bytes instead. */
export function idempotencyKey(batch: Batch, from: number, to: number, task: string): string {
  const first = sequenceOf(batch, from);
  const last = sequenceOf(batch, to - 1);
  const prefix = task === "" ? "" : `${task}:`;
  if (first !== undefined && last !== undefined) return `${prefix}${first}-${last}`;
  const hasher = new Bun.CryptoHasher("sha256");
  for (let index = from; index < to; index++)
    hasher.update(batch.lines[index] ?? new Uint8Array(0));
  return `${prefix}sha256-${hasher.digest("hex").slice(0, 32)}`;
}
