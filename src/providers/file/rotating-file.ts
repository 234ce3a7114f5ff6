// Appends whole lines to a file, fsyncs on close, and optionally rotates it by size to path.N.
import { type FileHandle, open, readdir, rename } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { describeFileError } from "./file-errors.ts";

const NEWLINE = 10;

/** The next free rotation number: one more than the highest path.N already on disk. */
async function nextRotationNumber(path: string): Promise<number> {
  const name = basename(path);
  let highest = 0;
  for (const entry of await readdir(dirname(path)).catch(() => [])) {
    const match = entry.startsWith(`${name}.`) ? /^\d+$/.exec(entry.slice(name.length + 1)) : null;
    if (match) highest = Math.max(highest, Number(match[0]));
  }
  return highest + 1;
}

export class RotatingFile {
  readonly #path: string;
  readonly #rotateBytes: number;
  #handle: FileHandle | undefined;
  #size = 0;
  #nextNumber = 1;

  private constructor(path: string, rotateBytes: number) {
    this.#path = path;
    this.#rotateBytes = rotateBytes;
  }

  /** Opens `path` for appending; rotateBytes 0 never rotates. */
  static async open(path: string, rotateBytes: number): Promise<RotatingFile> {
    const file = new RotatingFile(path, rotateBytes);
    await file.#openCurrent();
    if (rotateBytes > 0) file.#nextNumber = await nextRotationNumber(path);
    return file;
  }

  /** Appends bytes that hold whole lines; with rotation, a file is cut only between lines. */
  async append(bytes: Uint8Array): Promise<void> {
    let rest = bytes;
    while (rest.length > 0) {
      const room = this.#rotateBytes - this.#size;
      if (this.#rotateBytes === 0 || rest.length <= room) {
        await this.#write(rest);
        return;
      }
      const cut = room > 0 ? rest.lastIndexOf(NEWLINE, room - 1) : -1;
      if (cut !== -1) {
        await this.#write(rest.subarray(0, cut + 1));
        rest = rest.subarray(cut + 1);
      } else if (this.#size === 0) {
        // A single line longer than rotateBytes gets a file of its own.
        const end = rest.indexOf(NEWLINE);
        const lineEnd = end === -1 ? rest.length : end + 1;
        await this.#write(rest.subarray(0, lineEnd));
        rest = rest.subarray(lineEnd);
      }
      if (rest.length > 0) await this.#rotate();
    }
  }

  /** Flushes to disk (fsync): what was appended survives a crash (a rotated file was synced when closed). */
  async sync(): Promise<void> {
    try {
      await this.#handle?.sync();
    } catch (error) {
      throw new Error(describeFileError("write", this.#path, error), { cause: error });
    }
  }

  /** Flushes to disk (fsync) and closes. */
  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    if (!handle) return;
    try {
      await handle.sync();
    } catch (error) {
      throw new Error(describeFileError("write", this.#path, error), { cause: error });
    } finally {
      await handle.close();
    }
  }

  async #openCurrent(): Promise<void> {
    try {
      this.#handle = await open(this.#path, "a");
      this.#size = (await this.#handle.stat()).size;
    } catch (error) {
      throw new Error(describeFileError("open", this.#path, error), { cause: error });
    }
  }

  async #write(bytes: Uint8Array): Promise<void> {
    const handle = this.#handle;
    if (!handle) throw new Error(`"${this.#path}" is closed`);
    try {
      let written = 0;
      while (written < bytes.length) {
        const { bytesWritten } = await handle.write(bytes, written, bytes.length - written);
        written += bytesWritten;
      }
    } catch (error) {
      throw new Error(describeFileError("write", this.#path, error), { cause: error });
    }
    this.#size += bytes.length;
  }

  async #rotate(): Promise<void> {
    await this.close();
    const target = `${this.#path}.${this.#nextNumber++}`;
    try {
      await rename(this.#path, target);
    } catch (error) {
      throw new Error(describeFileError("write", target, error), { cause: error });
    }
    await this.#openCurrent();
  }
}
