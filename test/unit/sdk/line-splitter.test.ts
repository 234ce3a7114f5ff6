// Line splitting on bytes: lines across chunk borders, empty lines, a missing last newline.
import { describe, expect, test } from "bun:test";
import { LineSplitter, WholeLineCutter } from "../../../src/sdk/line-splitter.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

function split(chunks: string[]): { lines: string[]; last: string | undefined } {
  const splitter = new LineSplitter();
  const lines: string[] = [];
  for (const chunk of chunks) splitter.push(bytes(chunk), (line) => lines.push(text(line)));
  const last = splitter.end();
  return { lines, last: last && text(last) };
}

describe("LineSplitter", () => {
  test.each([
    [["a\nb\n"], ["a", "b"], undefined],
    [["a", "b", "c\nd"], ["abc"], "d"],
    [["\n\n"], ["", ""], undefined],
    [["x\r\n", "y"], ["x\r"], "y"],
    [["long", "", "er\n"], ["longer"], undefined],
    [[], [], undefined],
  ])("%j -> lines %j, last %j", (chunks, lines, last) => {
    expect(split(chunks)).toEqual({ lines, last });
  });

  test("a line inside one chunk is a view into it, not a copy", () => {
    const chunk = bytes("abc\ndef\n");
    const seen: Uint8Array[] = [];
    new LineSplitter().push(chunk, (line) => seen.push(line));
    expect(seen[1]?.buffer).toBe(chunk.buffer);
  });
});

describe("WholeLineCutter", () => {
  test.each([
    [["a\nb"], ["a\n"], "b\n"],
    [["a", "b\nc", "d\n"], ["ab\n", "cd\n"], undefined],
    [["a", "b\nc\nd\ne"], ["ab\n", "c\nd\n"], "e\n"],
    [["no newline"], [], "no newline\n"],
    [["x\n"], ["x\n"], undefined],
  ])("%j -> pieces %j, end %j", (chunks, pieces, end) => {
    const cutter = new WholeLineCutter();
    const out: string[] = [];
    for (const chunk of chunks) {
      for (const piece of cutter.push(bytes(chunk))) out.push(text(piece));
    }
    const last = cutter.end();
    expect({ out, end: last && text(last) }).toEqual({ out: pieces, end });
  });
});
