import { describe, expect, test } from "bun:test";
import { LineFramer, LineTooLongError } from "../../../src/relay/line-framer.ts";

/** The plain reference: split on "\n", drop empty (and lone "\r") lines, add a final newline. */
function referenceFrame(input: Uint8Array): { output: string; lines: number; empty: number } {
  const text = Buffer.from(input).toString("latin1");
  const parts = text.split("\n");
  if (parts.at(-1) === "") parts.pop();
  let empty = 0;
  const kept = parts.filter((line) => {
    const isEmpty = line === "" || line === "\r";
    if (isEmpty) empty++;
    return !isEmpty;
  });
  return { output: kept.map((line) => `${line}\n`).join(""), lines: kept.length, empty };
}

/**
 * With `reusedBuffer`, every chunk is passed in one buffer that is overwritten with newlines after
 * each push, as the fd pump's single read buffer is: a view the framer kept would then go wrong.
 */
function frameInChunks(
  input: Uint8Array,
  cuts: number[],
  maxLineBytes = 1 << 20,
  reusedBuffer = false,
) {
  const framer = new LineFramer(maxLineBytes, reusedBuffer);
  const pieces: Uint8Array[] = [];
  let lines = 0;
  const emit = (bytes: Uint8Array, count: number) => {
    pieces.push(bytes.slice());
    lines += count;
  };
  const buffer = new Uint8Array(input.length);
  let start = 0;
  for (const cut of [...cuts, input.length]) {
    if (reusedBuffer) {
      buffer.set(input.subarray(start, cut));
      framer.push(buffer.subarray(0, cut - start), emit);
      buffer.fill(10);
    } else {
      framer.push(input.subarray(start, cut), emit);
    }
    start = cut;
  }
  framer.finish(emit);
  return { output: Buffer.concat(pieces).toString("latin1"), lines, empty: framer.emptyLines };
}

/** Small deterministic PRNG (mulberry32) so failures reproduce. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomInput(next: () => number): Uint8Array {
  const alphabet = ["a", "b", "{", "}", '"', "\n", "\n", "\r", "é"];
  let text = "";
  const length = Math.floor(next() * 200);
  for (let index = 0; index < length; index++) {
    text += alphabet[Math.floor(next() * alphabet.length)];
  }
  return new Uint8Array(Buffer.from(text, "utf8"));
}

describe("LineFramer", () => {
  test("matches the reference splitter for random inputs and random chunkings", () => {
    const next = random(42);
    for (let round = 0; round < 2000; round++) {
      const input = randomInput(next);
      const cutCount = Math.floor(next() * 6);
      const cuts = Array.from({ length: cutCount }, () =>
        Math.floor(next() * (input.length + 1)),
      ).sort((a, b) => a - b);
      expect(frameInChunks(input, cuts)).toEqual(referenceFrame(input));
    }
  });

  test("with one reused read buffer (the fd pump's way), random inputs still match the reference", () => {
    const next = random(43);
    for (let round = 0; round < 2000; round++) {
      const input = randomInput(next);
      const cutCount = Math.floor(next() * 6);
      const cuts = Array.from({ length: cutCount }, () =>
        Math.floor(next() * (input.length + 1)),
      ).sort((a, b) => a - b);
      expect(frameInChunks(input, cuts, 1 << 20, true)).toEqual(referenceFrame(input));
    }
  });

  test("a chunk boundary at every offset gives the same lines", () => {
    const input = new Uint8Array(Buffer.from('{"a":1}\n\n{"b":2}\r\n\r\n{"c":3}\nlast'));
    const expected = referenceFrame(input);
    for (let cut = 0; cut <= input.length; cut++) {
      expect(frameInChunks(input, [cut])).toEqual(expected);
      expect(frameInChunks(input, [cut], 1 << 20, true)).toEqual(expected);
    }
  });

  test("complete lines pass through as views of the chunk, without a copy", () => {
    const framer = new LineFramer(100);
    const chunk = new Uint8Array(Buffer.from("a\nb\nc\n"));
    const emitted: Uint8Array[] = [];
    framer.push(chunk, (bytes) => emitted.push(bytes));
    expect(emitted).toHaveLength(1);
    expect(emitted[0]?.buffer).toBe(chunk.buffer);
  });

  test("CRLF is passed through untouched", () => {
    expect(frameInChunks(new Uint8Array(Buffer.from("x\r\ny\r\n")), [2]).output).toBe("x\r\ny\r\n");
  });

  test("a last line without newline is delivered with one added", () => {
    expect(frameInChunks(new Uint8Array(Buffer.from("x\ny")), []).output).toBe("x\ny\n");
  });

  const cases: [string, string, number, number | undefined][] = [
    ["exactly at the limit in one chunk", "12345\n", 5, undefined],
    ["one byte over in one chunk", "123456\n", 5, 1],
    ["exactly at the limit across chunks", "12345\n", 5, undefined],
    ["one byte over, second line", "ok\n123456\n", 5, 2],
    ["one byte over without a newline", "ok\n123456", 5, 2],
  ];
  test.each(cases)("--max-line-bytes: %s", (_name, text, max, failingLine) => {
    const input = new Uint8Array(Buffer.from(text));
    for (let cut = 0; cut <= input.length; cut++) {
      const run = () => frameInChunks(input, [cut], max);
      if (failingLine === undefined) {
        expect(run().output).toBe(text.endsWith("\n") ? text : `${text}\n`);
      } else {
        expect(run).toThrow(new LineTooLongError(failingLine, max));
        expect(run).toThrow(`line ${failingLine} is longer than --max-line-bytes (${max} bytes)`);
      }
    }
  });
});

test("lines before a too-long line are still emitted", () => {
  const framer = new LineFramer(5);
  const emitted: string[] = [];
  expect(() =>
    framer.push(new Uint8Array(Buffer.from("ok\nfine\n123456\n")), (bytes) =>
      emitted.push(Buffer.from(bytes).toString()),
    ),
  ).toThrow("line 3 is longer than --max-line-bytes (5 bytes)");
  expect(emitted.join("")).toBe("ok\nfine\n");
});

test("a too-long line split across chunks is dropped whole: nothing of it stays held", () => {
  const framer = new LineFramer(5);
  const emit = () => {};
  framer.push(new Uint8Array(Buffer.from("ok\n1234")), emit);
  expect(framer.pendingLength).toBe(4);
  expect(() => framer.push(new Uint8Array(Buffer.from("56")), emit)).toThrow(
    "line 2 is longer than --max-line-bytes (5 bytes)",
  );
  expect(framer.pendingLength).toBe(0);
});
