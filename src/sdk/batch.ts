// A batch of lines handed to an output: raw bytes always, parsed envelopes only when asked for.
import type { Envelope } from "../protocol/index.ts";

const decoder = new TextDecoder();

export class BatchLineError extends Error {
  override readonly name = "BatchLineError";
}

export class Batch {
  /** Each line's bytes, without its newline. */
  readonly lines: readonly Uint8Array[];
  /** Stream position of the first line (1-based, counting non-empty lines since the start). */
  readonly firstLineNumber: number;
  /** Sum of the lines' lengths, newlines excluded. */
  readonly bytes: number;
  #parsed: unknown[] | undefined;

  constructor(lines: readonly Uint8Array[], firstLineNumber: number, bytes: number) {
    this.lines = lines;
    this.firstLineNumber = firstLineNumber;
    this.bytes = bytes;
  }

  get size(): number {
    return this.lines.length;
  }

  /** The line's text, decoded as UTF-8. */
  text(index: number): string {
    return decoder.decode(this.#line(index));
  }

  /** The line parsed as JSON (cached); a line that is not JSON throws, naming its line number. */
  envelope<T = unknown>(index: number): Envelope<T> {
    this.#parsed ??= new Array(this.lines.length);
    if (!(index in this.#parsed)) {
      try {
        this.#parsed[index] = JSON.parse(this.text(index));
      } catch {
        throw new BatchLineError(`line ${this.firstLineNumber + index} is not valid JSON`);
      }
    }
    return this.#parsed[index] as Envelope<T>;
  }

  envelopes<T = unknown>(): Envelope<T>[] {
    return this.lines.map((_, index) => this.envelope<T>(index));
  }

  /** All lines, each followed by \n, in one buffer: what a pass-through output writes. */
  toJsonl(): Uint8Array {
    const out = new Uint8Array(this.bytes + this.lines.length);
    let offset = 0;
    for (const line of this.lines) {
      out.set(line, offset);
      offset += line.length;
      out[offset++] = 10;
    }
    return out;
  }

  #line(index: number): Uint8Array {
    const line = this.lines[index];
    if (line === undefined) throw new RangeError(`batch has no line ${index}`);
    return line;
  }
}
