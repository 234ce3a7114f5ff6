// Protocol v2's checkpoint lines, told apart from data by their first bytes, and the commit message.

/** The version of the protocol this dstream speaks (DESIGN.md "Provider protocol v2"). */
export const PROTOCOL_VERSION = 2;

/** Every checkpoint line begins with exactly these bytes. */
export const CHECKPOINT_PREFIX = '{"checkpoint":';
export const CHECKPOINT_PREFIX_BYTES = new TextEncoder().encode(CHECKPOINT_PREFIX);
const PREFIX_LENGTH = CHECKPOINT_PREFIX_BYTES.length;
/** The byte after `{"` tells a checkpoint ('c') from an envelope ('d') at once. */
const TELL_BYTE = CHECKPOINT_PREFIX_BYTES[2] ?? 0;

/** Whether the line starting at `start` of `bytes` is a checkpoint line (it must hold the whole prefix). */
export function isCheckpointLine(bytes: Uint8Array, start: number, end = bytes.length): boolean {
  if (end - start < PREFIX_LENGTH || bytes[start + 2] !== TELL_BYTE) return false;
  for (let index = 0; index < PREFIX_LENGTH; index++) {
    if (bytes[start + index] !== CHECKPOINT_PREFIX_BYTES[index]) return false;
  }
  return true;
}

/** A checkpoint line for `value`, with its newline. */
export function checkpointLine(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError("a checkpoint must be a JSON value");
  return `${CHECKPOINT_PREFIX}${json}}\n`;
}

/**
 * The value a checkpoint line holds; throws a one-line reason when the line is not exactly one
 * JSON object with the single key "checkpoint".
 */
export function parseCheckpointLine(line: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new Error(`checkpoint line is not JSON: ${JSON.stringify(line.slice(0, 80))}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("checkpoint line is not a JSON object");
  }
  const keys = Object.keys(value);
  if (keys.length !== 1 || keys[0] !== "checkpoint") {
    throw new Error(
      `checkpoint line must hold only "checkpoint", got ${keys.map((key) => JSON.stringify(key)).join(", ")}`,
    );
  }
  return (value as { checkpoint: unknown }).checkpoint;
}

/** What dstream writes on a v2 input's stdin once a checkpoint is durable. */
export interface CommitMessage {
  command: "commit";
  checkpoint: unknown;
}

export function commitLine(checkpoint: unknown): string {
  return `${JSON.stringify({ command: "commit", checkpoint } satisfies CommitMessage)}\n`;
}
