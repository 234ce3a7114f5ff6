// The file input's checkpoint: per file started, which file it was (device and inode) and how far
// it was read; a resume refuses a file that was replaced or truncated since.
import { stat } from "node:fs/promises";

export interface FilePosition {
  file: string;
  dev: number;
  ino: number;
  /** Bytes read and delivered: whole lines only. */
  offset: number;
  /** Lines counted so far (jsonl; metadata.line continues from here). */
  line: number;
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

function isPosition(entry: unknown): entry is FilePosition {
  const position = entry as FilePosition;
  return (
    typeof position === "object" &&
    position !== null &&
    typeof position.file === "string" &&
    [position.dev, position.ino, position.offset, position.line].every(
      (number) => typeof number === "number" && Number.isSafeInteger(number) && number >= 0,
    )
  );
}

/**
 * Where to start reading `path`: after its recorded position, when it is still the same file and
 * no shorter; a replaced or truncated file is refused (its unread rest is gone or elsewhere).
 */
export async function startOf(
  path: string,
  recorded: FilePosition | undefined,
): Promise<FilePosition> {
  const info = await stat(path);
  if (!recorded) return { file: path, dev: info.dev, ino: info.ino, offset: 0, line: 0 };
  const reset = "(dstream state reset <task> reads it again from the start)";
  if (info.dev !== recorded.dev || info.ino !== recorded.ino) {
    throw new Error(
      `cannot resume "${path}": it was replaced since the checkpoint (inode ${recorded.ino}, now ${info.ino}) ${reset}`,
    );
  }
  if (info.size < recorded.offset) {
    throw new Error(
      `cannot resume "${path}": it was truncated since the checkpoint (${info.size} bytes, the checkpoint is at ${recorded.offset}) ${reset}`,
    );
  }
  return { ...recorded };
}
