// A file written chunk by chunk while its digest is computed; a write that fails (a full disk) is
// remembered and reported by finish(), never left as an unhandled rejection.
import { type DigestAlgorithm, Digester } from "../../oci/index.ts";

const WRITE_BUFFER_BYTES = 4 * 1024 * 1024;

export class HashingFile {
  private readonly file: ReturnType<ReturnType<typeof Bun.file>["writer"]>;
  private readonly hasher: Digester;
  private failure: unknown;

  constructor(path: string, algorithm: DigestAlgorithm) {
    this.hasher = new Digester(algorithm);
    // A FileSink batches writes: awaiting one write per network chunk made pulls ~1.5× slower.
    this.file = Bun.file(path).writer({ highWaterMark: WRITE_BUFFER_BYTES });
  }

  write(chunk: Uint8Array): void {
    if (this.failure !== undefined) return;
    try {
      this.hasher.update(chunk);
      const flushed = this.file.write(chunk);
      if (flushed instanceof Promise) flushed.catch((error: unknown) => this.fail(error));
    } catch (error) {
      this.fail(error);
    }
  }

  /** Flushes and closes; answers the digest of everything written, or throws the write error. */
  async finish(): Promise<string> {
    if (this.failure === undefined) {
      try {
        await this.file.end();
      } catch (error) {
        this.fail(error);
      }
    }
    if (this.failure !== undefined) throw this.failure;
    return this.hasher.digest();
  }

  /** Closes the file after a failure elsewhere; never throws. */
  async close(): Promise<void> {
    try {
      await this.file.end();
    } catch {
      // The download failed already; this error adds nothing.
    }
  }

  private fail(error: unknown): void {
    this.failure ??= error;
  }
}
