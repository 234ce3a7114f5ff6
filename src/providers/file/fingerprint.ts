// A file's fingerprint: its first bytes (up to 4 KiB), which a rewrite in place changes even when
// the file did not shrink; kept as read, hashed for a checkpoint.
import { createHash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";

/** How much of a file's start its fingerprint covers, at most. */
export const HEAD_BYTES = 4096;

/** 16 hex digits (64 bits) of the SHA-256: enough to notice a change, small in a checkpoint of many files. */
export function headHash(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex").slice(0, 16);
}

/** Reads `length` bytes from `at` (fewer at the end of the file). */
export async function readAt(handle: FileHandle, at: number, length: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, at + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/** The first bytes of a file as they were read (up to HEAD_BYTES), and their hash for a position. */
export class FileHead {
  readonly #bytes = new Uint8Array(HEAD_BYTES);
  #length = 0;
  #hashed: { length: number; hash: string } | undefined;

  /** A head that starts with `bytes` (read from the file at a resume). */
  static of(bytes: Uint8Array): FileHead {
    const head = new FileHead();
    head.add(bytes, 0);
    return head;
  }

  /** How many of the file's first bytes are held. */
  get length(): number {
    return this.#length;
  }

  /** The first `length` bytes held. */
  bytes(length = this.#length): Uint8Array {
    return this.#bytes.subarray(0, Math.min(length, this.#length));
  }

  /** Takes what of `chunk`, read at byte `at`, continues the head; chunks come in file order. */
  add(chunk: Uint8Array, at: number): void {
    if (this.#length === HEAD_BYTES || at > this.#length || at + chunk.length <= this.#length)
      return;
    const taken = chunk.subarray(this.#length - at, HEAD_BYTES - at);
    this.#bytes.set(taken, this.#length);
    this.#length += taken.length;
  }

  /** The fingerprint of a position at `offset`: the hash of the first min(HEAD_BYTES, offset) bytes. */
  fingerprintAt(offset: number): { headBytes: number; headHash: string } {
    const length = Math.min(offset, this.#length);
    if (this.#hashed?.length !== length) {
      this.#hashed = { length, hash: headHash(this.bytes(length)) };
    }
    return { headBytes: length, headHash: this.#hashed.hash };
  }
}
