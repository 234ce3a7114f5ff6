// Cuts a byte stream into lines by scanning for \n: no string decoding, a spanning line joined once.

const NEWLINE = 10;

/** Joins the parts of a line that spanned several chunks, with one copy. */
function concat(parts: readonly Uint8Array[], extra: Uint8Array): Uint8Array {
  let length = extra.length;
  for (const part of parts) length += part.length;
  const joined = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  joined.set(extra, offset);
  return joined;
}

/** Yields complete lines (without their \n) as views into the chunks they came in. */
export class LineSplitter {
  #pending: Uint8Array[] = [];

  /** Calls `onLine` for every line the chunk completes; keeps the unfinished tail. */
  push(chunk: Uint8Array, onLine: (line: Uint8Array) => void): void {
    let start = 0;
    let end = chunk.indexOf(NEWLINE);
    if (end !== -1 && this.#pending.length > 0) {
      onLine(concat(this.#pending, chunk.subarray(0, end)));
      this.#pending = [];
      start = end + 1;
      end = chunk.indexOf(NEWLINE, start);
    }
    while (end !== -1) {
      onLine(chunk.subarray(start, end));
      start = end + 1;
      end = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length) this.#pending.push(chunk.subarray(start));
  }

  /** The last line when the stream ended without a newline, else undefined. */
  end(): Uint8Array | undefined {
    if (this.#pending.length === 0) return undefined;
    const last = concat(this.#pending, new Uint8Array(0));
    this.#pending = [];
    return last;
  }
}

/**
 * Cuts chunks at line ends, so each piece handed on holds whole lines only. Pieces are used before
 * the next push; what it keeps is copied, so a caller may reuse one buffer for every chunk.
 */
export class WholeLineCutter {
  #pending: Uint8Array[] = [];

  /**
   * The whole lines this chunk completes, with their \n: a line begun in earlier chunks comes as
   * its own small joined piece, the rest stays a view into the chunk (no copy of the bulk).
   */
  push(chunk: Uint8Array): Uint8Array[] {
    const last = chunk.lastIndexOf(NEWLINE);
    if (last === -1) {
      if (chunk.length > 0) this.#pending.push(chunk.slice());
      return [];
    }
    const pieces: Uint8Array[] = [];
    let start = 0;
    if (this.#pending.length > 0) {
      start = chunk.indexOf(NEWLINE) + 1;
      pieces.push(concat(this.#pending, chunk.subarray(0, start)));
    }
    if (start < last + 1) pieces.push(chunk.subarray(start, last + 1));
    this.#pending = last + 1 < chunk.length ? [chunk.slice(last + 1)] : [];
    return pieces;
  }

  /** The unfinished last line with a \n added, or undefined when the stream ended on a \n. */
  end(): Uint8Array | undefined {
    if (this.#pending.length === 0) return undefined;
    const last = concat(this.#pending, Uint8Array.of(NEWLINE));
    this.#pending = [];
    return last;
  }
}
