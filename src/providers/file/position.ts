// The file input's checkpoint: per file started, which file it was (device and inode), how far it
// was read and a fingerprint of its start; a resume refuses a file replaced, truncated or rewritten.
import { open } from "node:fs/promises";
import { FileHead, HEAD_BYTES, headHash, readAt } from "./fingerprint.ts";

export interface FilePosition {
  file: string;
  dev: number;
  ino: number;
  /** Bytes read and delivered: whole lines only. */
  offset: number;
  /** Lines counted so far (jsonl; metadata.line continues from here). */
  line: number;
  /** How many of the first bytes headHash covers: min(4 KiB, offset). Absent in older checkpoints. */
  headBytes?: number;
  /** The fingerprint of those bytes (see fingerprint.ts). */
  headHash?: string;
}

/** The checkpoint value: files finished, and the one being read. */
export interface FileCheckpoint {
  done: readonly FilePosition[];
  current?: FilePosition;
}

/** Reads a checkpoint back; a value of another shape is an error naming what to do. */
export function parseFileCheckpoint(value: unknown): Map<string, FilePosition> {
  const positions = new Map<string, FilePosition>();
  if (value === null || value === undefined) return positions;
  const checkpoint = value as Partial<FileCheckpoint>;
  const entries = [...(Array.isArray(checkpoint.done) ? checkpoint.done : [])];
  if (checkpoint.current) entries.push(checkpoint.current);
  if (!Array.isArray(checkpoint.done) || entries.some((entry) => !isPosition(entry))) {
    throw new Error(
      `checkpoint ${JSON.stringify(value).slice(0, 120)} is not a file input position; reset it with dstream state reset`,
    );
  }
  for (const entry of entries) positions.set(entry.file, entry);
  return positions;
}

const isCount = (number: unknown) =>
  typeof number === "number" && Number.isSafeInteger(number) && number >= 0;

function isPosition(entry: unknown): entry is FilePosition {
  const position = entry as FilePosition;
  if (typeof position !== "object" || position === null || typeof position.file !== "string") {
    return false;
  }
  if (![position.dev, position.ino, position.offset, position.line].every(isCount)) return false;
  if (position.headBytes === undefined && position.headHash === undefined) return true;
  return (
    isCount(position.headBytes) &&
    (position.headBytes ?? 0) <= Math.min(HEAD_BYTES, position.offset) &&
    typeof position.headHash === "string"
  );
}

/** Where a run starts in a file, and the file's first bytes as they are now (for its fingerprint). */
export interface Start {
  position: FilePosition;
  head: FileHead;
}

/**
 * Where to start reading `path`: after its recorded position, when it is still the same file, no
 * shorter, with the same first bytes and a line end before the offset; anything else is refused
 * (the unread rest is gone or elsewhere, or the offset now falls inside other lines).
 */
export async function startOf(
  path: string,
  recorded: FilePosition | undefined,
  task: string,
): Promise<Start> {
  const handle = await open(path, "r");
  try {
    const info = await handle.stat();
    if (!recorded) {
      return {
        position: { file: path, dev: info.dev, ino: info.ino, offset: 0, line: 0 },
        head: new FileHead(),
      };
    }
    const refuse = (what: string) =>
      new Error(
        `cannot resume "${path}": ${what} (dstream state reset ${task || "<task>"} reads it again from the start)`,
      );
    if (info.dev !== recorded.dev || info.ino !== recorded.ino) {
      throw refuse(`it was replaced since the checkpoint (inode ${recorded.ino}, now ${info.ino})`);
    }
    const { offset } = recorded;
    if (info.size < offset) {
      throw refuse(
        `it was truncated since the checkpoint (${info.size} bytes, the checkpoint is at ${offset})`,
      );
    }
    const head = FileHead.of(await readAt(handle, 0, Math.min(HEAD_BYTES, offset)));
    const { headBytes, headHash: recordedHash } = recorded;
    if (headBytes !== undefined && headHash(head.bytes(headBytes)) !== recordedHash) {
      throw refuse(`it was rewritten since the checkpoint (its first ${headBytes} bytes changed)`);
    }
    if (offset > 0 && info.size > offset && (await readAt(handle, offset - 1, 1))[0] !== 10) {
      throw refuse(
        `it was rewritten since the checkpoint (byte ${offset - 1} is no longer the end of a line)`,
      );
    }
    return { position: { ...recorded }, head };
  } finally {
    await handle.close();
  }
}
