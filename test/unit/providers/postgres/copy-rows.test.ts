// Insert mode's COPY rows: read straight from the line's bytes, every type written as PostgreSQL
// reads it in COPY's text format, numbers digit for digit.
import { describe, expect, test } from "bun:test";
import {
  appendField,
  ByteBuilder,
  columnKind,
  scanData,
  UnscannableLine,
} from "../../../../src/providers/postgres/copy-rows.ts";
import { copyRuns } from "../../../../src/providers/postgres/insert-copy.ts";
import type { TableInfo } from "../../../../src/providers/postgres/tables.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

describe("scanData", () => {
  test("the members of data, wherever it sits in the envelope, with their value spans", () => {
    const line = bytes(
      '{"metadata":{"data":1},"data": {"a" : 1, "b\\u0041":"x","c":[1,{"d":"}"}]} }',
    );
    const row = scanData(line);
    expect(row.names).toEqual(["a", "bA", "c"]);
    expect(row.starts.map((start, index) => text(line.subarray(start, row.ends[index])))).toEqual([
      "1",
      '"x"',
      '[1,{"d":"}"}]',
    ]);
  });

  test.each([
    '{"metadata":{}}',
    '{"data":[1]}',
    '{"data":{"a":1}',
    '{"data":{"a":1}} trailing',
    '{"data":{"a" 1}}',
    '{"data":{"a":"unterminated}}',
  ])("%s is left to the general path", (line) => {
    expect(() => scanData(bytes(line))).toThrow(UnscannableLine);
  });

  test("a line inside a chunk: spans are positions in the chunk, the scan stops at the line's end", () => {
    const chunk = bytes('{"data":{"a":1}}\n{"data":{"b":"x"}}\n');
    const row = scanData(chunk, undefined, 17, 35);
    expect(row.names).toEqual(["b"]);
    expect(text(chunk.subarray(row.starts[0], row.ends[0]))).toBe('"x"');
  });

  test.each([
    '{"data":{"a":1}\n}',
    '{"data":{"a":"x\n"}}',
    '{"data":{"a":\n1}}',
    '{"data":{"a":[1\n]}}',
  ])("%s, cut at its first newline, is not completed by the next line", (line) => {
    const chunk = bytes(`${line}\n`);
    expect(() => scanData(chunk, undefined, 0, chunk.indexOf(10))).toThrow(UnscannableLine);
  });
});

describe("appendField", () => {
  test.each([
    [
      "plain",
      "12345678901234567890.123456789012345678901",
      "12345678901234567890.123456789012345678901",
    ],
    ["plain", "1.50", "1.50"],
    ["plain", "null", "\\N"],
    ["plain", "true", "true"],
    ["plain", '"héllo wörld"', "héllo wörld"],
    [
      "plain",
      '"tab\\there \\"q\\" back\\\\slash \\u00e9 line\\nbreak"',
      'tab\\there "q" back\\\\slash é line\\nbreak',
    ],
    ["json", '{"a":"x\\ty","n":12345678901234567890}', '{"a":"x\\\\ty","n":12345678901234567890}'],
    ["json", '"text"', '"text"'],
    ["json", "null", "\\N"],
    ["bytea", '"AAEC/w=="', "\\\\x000102ff"],
    ["bytea", '""', "\\\\x"],
    ["array", "[1,-2,12345678901234567890]", "{1,-2,12345678901234567890}"],
    ["array", '["a","b,c","q\\"uote",null,[]]', '{"a","b,c","q\\\\"uote",NULL,{}}'],
    ["array", "[[1,2],[3,4]]", "{{1,2},{3,4}}"],
    ["array", "[true,false]", "{true,false}"],
    ["plain", '{"nested":1}', '{"nested":1}'],
  ] as const)("%s %s", (kind, json, copied) => {
    const out = new ByteBuilder();
    const line = bytes(json);
    appendField(out, line, 0, line.length, kind);
    expect(text(out.take())).toBe(copied);
  });

  test.each([
    ["bigint", "plain"],
    ["json", "json"],
    ["jsonb", "json"],
    ["bytea", "bytea"],
    ["integer[]", "array"],
    ["timestamp with time zone", "plain"],
  ])("column type %s is %s", (type, kind) => {
    expect(columnKind(type)).toBe(kind as ReturnType<typeof columnKind>);
  });
});

describe("copyRuns", () => {
  const info: TableInfo = {
    table: { schema: "public", name: "t" },
    columns: new Map([
      ["id", "bigint"],
      ["name", "text"],
    ]),
    primaryKey: [],
    generated: new Set(),
  };
  const lines = (...texts: string[]) => texts.map(bytes);

  test("a run per stretch of events with the same columns, tab-separated rows", () => {
    const runs = copyRuns(
      lines('{"data":{"id":1,"name":"a"}}', '{"data":{"id":2,"name":null}}', '{"data":{"id":3}}'),
      info,
    );
    expect(runs?.map((run) => [run.columns, text(run.data)])).toEqual([
      [["id", "name"], "1\ta\n2\t\\N\n"],
      [["id"], "3\n"],
    ]);
  });

  test("upsert's rows start with their line's position in the batch: the last of a key wins by it", () => {
    const texts = Array.from({ length: 12 }, (_, index) => `{"data":{"id":1,"name":"v${index}"}}`);
    const runs = copyRuns(lines(...texts), info, ["id"], true);
    expect(runs?.map((run) => run.columns)).toEqual([["id", "name"]]);
    expect(
      text(runs?.[0]?.data ?? new Uint8Array())
        .split("\n")
        .slice(9, 12),
    ).toEqual(["9\t1\tv9", "10\t1\tv10", "11\t1\tv11"]);
  });

  test("a value for a generated column is left out of the row", () => {
    const generated: TableInfo = { ...info, generated: new Set(["total"]) };
    const runs = copyRuns(lines('{"data":{"total":3,"id":1,"name":"a"}}'), generated);
    expect(runs?.map((run) => [run.columns, text(run.data)])).toEqual([[["id", "name"], "1\ta\n"]]);
  });

  test("values COPY would take differently from the JSON way: undefined (the JSON way decides)", () => {
    const bytea: TableInfo = { ...info, columns: new Map([["raw", "bytea"]]) };
    expect(copyRuns(lines('{"data":{"raw":"not base64!"}}'), bytea)).toBeUndefined();
    expect(copyRuns(lines('{"data":{"raw":"AAE"}}'), bytea)).toBeUndefined();
    const docs: TableInfo = { ...info, columns: new Map([["docs", "json[]"]]) };
    expect(copyRuns(lines('{"data":{"docs":[{"n":12345678901234567890}]}}'), docs)).toBeUndefined();
    expect(copyRuns(lines('{"data":{"name":"bad \\x escape"}}'), info)).toBeUndefined();
  });

  test("an unknown column, no columns or an odd line: undefined (the general path explains)", () => {
    expect(copyRuns(lines('{"data":{"id":1,"colour":"red"}}'), info)).toBeUndefined();
    expect(copyRuns(lines('{"data":{}}'), info)).toBeUndefined();
    expect(copyRuns(lines("not json"), info)).toBeUndefined();
  });
});
