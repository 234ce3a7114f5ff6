// Batch: raw lines, lazily parsed envelopes with line numbers in errors, JSONL re-joining.
import { expect, test } from "bun:test";
import { Batch } from "../../../src/sdk/batch.ts";

const encode = (lines: string[]) => lines.map((line) => new TextEncoder().encode(line));

test("parses envelopes on demand and joins lines back as JSONL", () => {
  const lines = encode(['{"data":1}', '{"data":"é"}']);
  const batch = new Batch(lines, 5, 10 + 13);
  expect(batch.size).toBe(2);
  expect(batch.envelope(1)).toEqual({ data: "é" });
  expect(batch.envelopes()).toEqual([{ data: 1 }, { data: "é" }]);
  expect(new TextDecoder().decode(batch.toJsonl())).toBe('{"data":1}\n{"data":"é"}\n');
});

test("a line that is not JSON names its position in the stream", () => {
  const batch = new Batch(encode(['{"data":1}', "nope"]), 41, 14);
  expect(batch.envelope(0)).toEqual({ data: 1 });
  expect(() => batch.envelope(1)).toThrow("line 42 is not valid JSON");
});
