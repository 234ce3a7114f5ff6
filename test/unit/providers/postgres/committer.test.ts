// The postgres output's committers: batches gathered to batch_rows/batch_bytes, one commit at a
// time and in order, everything committed by flush, a failed commit reported and never repeated;
// the raw committer also from chunks cut anywhere between lines, converting lines as they come.
import { describe, expect, test } from "bun:test";
import {
  Committer,
  type LineConverter,
  type RawBatch,
  RawCommitter,
} from "../../../../src/providers/postgres/committer.ts";
import { CopyBuffers } from "../../../../src/providers/postgres/insert-copy.ts";
import { Batch } from "../../../../src/sdk/index.ts";

function batch(first: number, count: number): Batch {
  const lines = Array.from({ length: count }, (_, index) =>
    new TextEncoder().encode(`{"n":${first + index}}`),
  );
  return new Batch(
    lines,
    first,
    lines.reduce((sum, line) => sum + line.length, 0),
  );
}

const limits = { batch_rows: 3, batch_bytes: 1 << 20, batch_wait_ms: 60_000 };

describe("Committer", () => {
  test("commits every batch_rows lines, the rest on flush, in order", async () => {
    const commits: string[] = [];
    const committer = new Committer(limits, async (gathered) => {
      await Bun.sleep(5);
      commits.push(`${gathered.firstLineNumber}+${gathered.size}`);
    });
    await committer.add(batch(1, 2));
    await committer.add(batch(3, 5));
    await committer.flush();
    committer.dispose();
    expect(commits).toEqual(["1+3", "4+3", "7+1"]);
  });

  test("batch_bytes cuts before the line that would pass it", async () => {
    const sizes: number[] = [];
    const committer = new Committer(
      { batch_rows: 100, batch_bytes: 20, batch_wait_ms: 60_000 },
      async (gathered) => {
        sizes.push(gathered.size);
      },
    );
    await committer.add(batch(1, 5)); // 7 bytes each: two fit in 20
    await committer.flush();
    committer.dispose();
    expect(sizes).toEqual([2, 2, 1]);
  });

  test("a failed commit fails the next flush; nothing after it is committed", async () => {
    const commits: number[] = [];
    const committer = new Committer(limits, async (gathered) => {
      if (gathered.firstLineNumber === 4) throw new Error("refused");
      commits.push(gathered.firstLineNumber);
    });
    await committer.add(batch(1, 3));
    await committer.add(batch(4, 3));
    await committer.add(batch(7, 3)).catch(() => {});
    await expect(committer.flush()).rejects.toThrow("refused");
    committer.dispose();
    expect(commits).toEqual([1]);
  });

  test("durable lines: those of committed batches only, all once nothing is gathered or on its way", async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const committer = new Committer(limits, (gathered) =>
      gathered.firstLineNumber === 4 ? held : Promise.resolve(),
    );
    await committer.add(batch(1, 5));
    await Bun.sleep(5);
    expect(committer.durableLines()).toBe(3); // 4 and 5 gathered
    const flushed = committer.flush();
    await Bun.sleep(5);
    expect(committer.durableLines()).toBe(3); // 4 and 5 on their way
    release();
    await flushed;
    expect(committer.durableLines()).toBe(5);
    committer.dispose();
  });

  test("after a failed commit no line counts as durable beyond the last good batch", async () => {
    const committer = new Committer(limits, async (gathered) => {
      if (gathered.firstLineNumber === 4) throw new Error("refused");
    });
    await committer.add(batch(1, 4));
    await expect(committer.flush()).rejects.toThrow("refused");
    // The SDK asks while a checkpoint waits: the failure ends the run even with no more input.
    expect(() => committer.durableLines()).toThrow("refused");
    committer.dispose();
  });

  test("batch_wait_ms commits a lone batch on its own", async () => {
    const commits: number[] = [];
    const committer = new Committer({ ...limits, batch_wait_ms: 10 }, async (gathered) => {
      commits.push(gathered.size);
    });
    await committer.add(batch(1, 1));
    const deadline = Date.now() + 10_000;
    while (commits.length === 0 && Date.now() < deadline) await Bun.sleep(5);
    committer.dispose();
    expect(commits).toEqual([1]);
  });
});

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Keeps each line's text; gives up on a line reading "refuse". */
class TextLines implements LineConverter<string[]> {
  readonly #lines: string[] = [];
  #gaveUp = false;

  add(line: Uint8Array, start: number, end: number): boolean {
    const text = decoder.decode(line.subarray(start, end));
    if (text === "refuse") this.#gaveUp = true;
    if (this.#gaveUp) return false;
    this.#lines.push(text);
    return true;
  }

  finish(): string[] | undefined {
    return this.#gaveUp ? undefined : this.#lines;
  }
}

interface Seen {
  first: number;
  size: number;
  bytes: number;
  converted: string[] | undefined;
  lines: string[];
}

function rawCommitter(limits: typeof defaults, fail?: (batch: RawBatch<string[]>) => boolean) {
  const seen: Seen[] = [];
  const committer = new RawCommitter<string[]>(
    limits,
    new CopyBuffers(),
    () => new TextLines(),
    async (batch) => {
      await Bun.sleep(2);
      if (fail?.(batch)) throw new Error("refused");
      const general = batch.toBatch();
      seen.push({
        first: batch.firstLineNumber,
        size: batch.size,
        bytes: batch.lineBytes,
        converted: batch.converted,
        lines: general.lines.map((line) => decoder.decode(line)),
      });
      expect(general.firstLineNumber).toBe(batch.firstLineNumber);
      expect(general.size).toBe(batch.size);
      expect(general.bytes).toBe(batch.lineBytes);
    },
  );
  return { seen, committer };
}

const defaults = { batch_rows: 3, batch_bytes: 1 << 20, batch_wait_ms: 60_000 };

/**
 * Writes `text` as writeRaw is given stdin: chunks of whole lines (as many as fit in `size` bytes,
 * at least one), each in one reused buffer that the next chunk overwrites.
 */
async function writeChunks(committer: RawCommitter<string[]>, text: string, size: number) {
  const lines = text.split(/(?<=\n)/);
  const shared = new Uint8Array(text.length);
  while (lines.length > 0) {
    let chunk = lines.shift() as string;
    while (lines.length > 0 && chunk.length + (lines[0] as string).length <= size) {
      chunk += lines.shift();
    }
    shared.fill(0x2a);
    shared.set(encoder.encode(chunk));
    await committer.write(shared.subarray(0, chunk.length));
  }
}

describe("RawCommitter", () => {
  test("batch_rows lines a commit, numbered as the SDK numbers them (empty lines skipped), in order", async () => {
    const { seen, committer } = rawCommitter(defaults);
    // Chunks hold whole lines; one chunk may hold many batches, a batch many chunks.
    await writeChunks(committer, "a\n\nbb\nc\nd\n", 5);
    await committer.write(encoder.encode("e\n\nf\ng\n"));
    await committer.flush();
    committer.dispose();
    expect(seen.map(({ first, size, lines }) => ({ first, size, lines }))).toEqual([
      { first: 1, size: 3, lines: ["a", "bb", "c"] },
      { first: 4, size: 3, lines: ["d", "e", "f"] },
      { first: 7, size: 1, lines: ["g"] },
    ]);
    expect(seen.map((batch) => batch.converted)).toEqual([
      ["a", "bb", "c"],
      ["d", "e", "f"],
      ["g"],
    ]);
    expect(seen.map((batch) => batch.bytes)).toEqual([4, 3, 1]);
  });

  test("batch_bytes cuts before the line that would pass it, whatever the chunks", async () => {
    const { seen, committer } = rawCommitter({ ...defaults, batch_rows: 100, batch_bytes: 7 });
    await writeChunks(committer, "aaa\nbbb\nccc\ndddddddddd\ne\n", 9);
    await committer.flush();
    committer.dispose();
    expect(seen.map((batch) => batch.lines)).toEqual([
      ["aaa", "bbb"],
      ["ccc"],
      ["dddddddddd"],
      ["e"],
    ]);
  });

  test("a line the converter refuses: the batch comes with its lines and nothing converted", async () => {
    const { seen, committer } = rawCommitter(defaults);
    await committer.write(encoder.encode("a\nrefuse\nb\nc\n"));
    await committer.flush();
    committer.dispose();
    expect(seen.map((batch) => [batch.converted, batch.lines])).toEqual([
      [undefined, ["a", "refuse", "b"]],
      [["c"], ["c"]],
    ]);
  });

  test("a failed commit fails the next write or flush; nothing after it is committed", async () => {
    const { seen, committer } = rawCommitter(defaults, (batch) => batch.firstLineNumber === 4);
    await committer.write(encoder.encode("1\n2\n3\n4\n5\n6\n"));
    await committer.write(encoder.encode("7\n8\n9\n")).catch(() => {});
    await expect(committer.flush()).rejects.toThrow("refused");
    committer.dispose();
    expect(seen.map((batch) => batch.first)).toEqual([1]);
  });

  test("durable lines: those of committed batches, empty lines counted, none of a batch in flight", async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const committer = new RawCommitter<string[]>(
      defaults,
      new CopyBuffers(),
      () => new TextLines(),
      (batch) => (batch.firstLineNumber === 4 ? held : Promise.resolve()),
    );
    expect(committer.durableLines()).toBe(0);
    await committer.write(encoder.encode("\n\n"));
    expect(committer.durableLines()).toBe(2); // nothing to commit
    await committer.write(encoder.encode("1\n\n2\n3\n4\n5\n"));
    // Lines 1-3 (and the empty lines before them) committed; 4-5 gathered.
    await Bun.sleep(5);
    expect(committer.durableLines()).toBe(6);
    await committer.write(encoder.encode("6\n\n"));
    // 4-6 on their way (held), the empty line after them not either.
    expect(committer.durableLines()).toBe(6);
    const flushed = committer.flush();
    await Bun.sleep(5);
    expect(committer.durableLines()).toBe(6);
    release();
    await flushed;
    expect(committer.durableLines()).toBe(10);
    committer.dispose();
  });

  test("batch_wait_ms passing while a big chunk is taken cuts at a line: each batch holds its own lines", async () => {
    for (const refused of [undefined, "line-1", "line-2500"]) {
      const { seen, committer } = rawCommitter({
        batch_rows: 100_000,
        batch_bytes: 1 << 30,
        batch_wait_ms: 0,
      });
      const lines = Array.from({ length: 6000 }, (_, index) =>
        `line-${index}` === refused ? "refuse" : `line-${index}`,
      );
      // The first write arms the timer; it fires while the second waits for the event loop.
      await committer.write(encoder.encode(`${lines[0]}\n`));
      await committer.write(encoder.encode(`${lines.slice(1).join("\n")}\n`));
      await committer.flush();
      committer.dispose();
      expect(seen.length).toBeGreaterThanOrEqual(2);
      let next = 1;
      for (const batch of seen) {
        expect(batch.first).toBe(next);
        expect(batch.lines).toEqual(lines.slice(next - 1, next - 1 + batch.size));
        if (batch.converted) expect(batch.converted).toEqual(batch.lines);
        next += batch.size;
      }
      expect(next).toBe(lines.length + 1);
    }
  });

  test("batch_wait_ms commits a lone line on its own", async () => {
    const { seen, committer } = rawCommitter({ ...defaults, batch_wait_ms: 10 });
    await committer.write(encoder.encode("only\n"));
    const deadline = Date.now() + 10_000;
    while (seen.length === 0 && Date.now() < deadline) await Bun.sleep(5);
    committer.dispose();
    expect(seen.map((batch) => batch.lines)).toEqual([["only"]]);
  });
});
