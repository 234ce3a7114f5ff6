// Follows a file like `tail -F`: reads it from the start, then what is appended, across rotation
// (a new file under the same name) and truncation, until the stop signal.
import { type FileHandle, open, stat } from "node:fs/promises";

/** How often a followed file is checked for new data once it is read to its end. */
export const followPollMs = 200;
const readSize = 1024 * 1024;

interface FollowOptions {
  signal: AbortSignal;
  sleep(ms: number): Promise<void>;
  log(message: string): void;
  /** Called before the first bytes of a new file (after rotation) or of a truncated one. */
  onRestart?(): void;
  /** Called with the identity of each file opened (the first, and each after a rotation). */
  onOpen?(identity: { dev: number; ino: number }): void;
  /** Where to start in the first file opened (a resume); later files start at 0. */
  start?: number;
}

async function openIfPresent(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, "r");
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
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

/** Reads from `position` to the current end of the file, in fresh buffers (they are kept). */
async function* readToEnd(handle: FileHandle, start: number): AsyncGenerator<Uint8Array, number> {
  let position = start;
  for (;;) {
    const buffer = new Uint8Array(readSize);
    const { bytesRead } = await handle.read(buffer, 0, readSize, position);
    if (bytesRead === 0) return position;
    position += bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
}

export async function* followFile(
  path: string,
  options: FollowOptions,
): AsyncGenerator<Uint8Array> {
  const opened = async () => {
    const handle = await openIfPresent(path);
    if (handle) options.onOpen?.(await handle.stat());
    return handle;
  };
  let handle = await opened();
  if (!handle) options.log(`waiting for ${path} to appear`);
  let position = handle ? (options.start ?? 0) : 0;
  try {
    while (!options.signal.aborted) {
      if (!handle) {
        await options.sleep(followPollMs);
        handle = await opened();
        position = 0;
        continue;
      }
      position = yield* readToEnd(handle, position);
      if (options.signal.aborted) break;
      await options.sleep(followPollMs);
      const { ino, size } = await handle.stat();
      const current = await inodeOf(path);
      if (current !== undefined && current !== ino) {
        // Rotated: finish the old file (a writer may have added to it before the rename), then switch.
        position = yield* readToEnd(handle, position);
        await handle.close();
        handle = await opened();
        position = 0;
        options.log(`${path} was replaced; reading the new file`);
        options.onRestart?.();
      } else if (size < position) {
        options.log(`${path} was truncated; reading from its start`);
        position = 0;
        options.onRestart?.();
      }
    }
  } finally {
    await handle?.close();
  }
}
