// Follows a file like `tail -F`: reads it from the start, then what is appended, across rotation
// (a new file under the same name) and truncation or a rewrite in place, until the stop signal.
import { type FileHandle, open, stat } from "node:fs/promises";
import { errorCode } from "../../errors.ts";
import { FileHead, HEAD_BYTES, readAt } from "./fingerprint.ts";

/** How often a followed file is checked for new data once it is read to its end. */
export const followPollMs = 200;
const readSize = 1024 * 1024;

interface FollowOptions {
  signal: AbortSignal;
  sleep(ms: number): Promise<void>;
  log(message: string): void;
  /** Called before the first bytes of a new file (after rotation) or of a truncated or rewritten one. */
  onRestart?(): void;
  /** Called with the identity of each file opened (the first, and each after a rotation). */
  onOpen?(identity: { dev: number; ino: number }): void;
  /** Where to start when the first file opened is this one (a resume); any other starts at 0. */
  start?: { dev: number; ino: number; offset: number };
}

async function openIfPresent(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, "r");
  } catch (error) {
    if (errorCode(error) === "ENOENT") return undefined;
    throw error;
  }
}

async function inodeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).ino;
  } catch {
    return undefined;
  }
}

/**
 * What was read of the open file: its first bytes and the last byte read. The file still holds
 * them unless it was truncated or rewritten in place, even when it did not shrink.
 */
class ReadSoFar {
  head = new FileHead();
  position = 0;
  #lastByte: number | undefined;

  /** Starts at `offset` of a file already read that far (a resume, checked against the checkpoint). */
  async resumeAt(handle: FileHandle, offset: number): Promise<void> {
    this.head = FileHead.of(await readAt(handle, 0, Math.min(HEAD_BYTES, offset)));
    this.position = offset;
    this.#lastByte = offset > 0 ? (await readAt(handle, offset - 1, 1))[0] : undefined;
  }

  restart(): void {
    this.head = new FileHead();
    this.position = 0;
    this.#lastByte = undefined;
  }

  advance(chunk: Uint8Array): void {
    this.head.add(chunk, this.position);
    this.position += chunk.length;
    this.#lastByte = chunk[chunk.length - 1];
  }

  /** Whether the file still starts with the bytes read and holds the last one where it was. */
  async stillHeld(handle: FileHandle): Promise<boolean> {
    if (this.position === 0) return true;
    const head = this.head.bytes();
    const now = await readAt(handle, 0, head.length);
    if (now.length !== head.length || !now.every((byte, index) => byte === head[index])) {
      return false;
    }
    const last = await readAt(handle, this.position - 1, 1);
    return last.length === 1 && last[0] === this.#lastByte;
  }
}

export async function* followFile(
  path: string,
  options: FollowOptions,
): AsyncGenerator<Uint8Array> {
  const read = new ReadSoFar();
  let handle = await openIfPresent(path);
  if (handle) {
    const { dev, ino } = await handle.stat();
    options.onOpen?.({ dev, ino });
    const { start } = options;
    if (start && start.offset > 0 && start.dev === dev && start.ino === ino) {
      await read.resumeAt(handle, start.offset);
    }
  } else {
    options.log(`waiting for ${path} to appear`);
  }
  const startOver = () => {
    read.restart();
    options.log(`${path} was truncated or rewritten; reading it again from its start`);
    options.onRestart?.();
  };
  const reopen = async () => {
    await handle?.close();
    handle = await openIfPresent(path);
    if (handle) options.onOpen?.(await handle.stat());
    read.restart();
  };
  // Chunks handed on are views of their buffer, which is then theirs; an empty read keeps it.
  let buffer: Uint8Array | undefined;
  try {
    while (!options.signal.aborted) {
      if (!handle) {
        await options.sleep(followPollMs);
        await reopen();
        continue;
      }
      // Each chunk is handed on only once the file is seen to still hold what came before it.
      buffer ??= new Uint8Array(readSize);
      const { bytesRead } = await handle.read(buffer, 0, readSize, read.position);
      if (bytesRead > 0) {
        if (await read.stillHeld(handle)) {
          const chunk = buffer.subarray(0, bytesRead);
          buffer = undefined;
          read.advance(chunk);
          yield chunk;
        } else {
          startOver();
        }
        continue;
      }
      if (options.signal.aborted) break;
      await options.sleep(followPollMs);
      // Each poll looks for a rotation, then for a truncation or rewrite: every time (two small
      // reads from the page cache), as size and mtime miss a same-size rewrite within a clock tick.
      const current = await inodeOf(path);
      if (current !== undefined && current !== (await handle.stat()).ino) {
        // Rotated: finish the old file (a writer may have added to it before the rename), then switch.
        yield* drain(handle, read);
        await reopen();
        options.log(`${path} was replaced; reading the new file`);
        options.onRestart?.();
      } else if (!(await read.stillHeld(handle))) {
        startOver();
      }
    }
  } finally {
    await handle?.close();
  }
}

/** Reads a rotated file to its end (it can no longer be rewritten under the name followed). */
async function* drain(handle: FileHandle, read: ReadSoFar): AsyncGenerator<Uint8Array> {
  for (;;) {
    const chunk = await readAt(handle, read.position, readSize);
    if (chunk.length === 0) return;
    read.advance(chunk);
    yield chunk;
  }
}
