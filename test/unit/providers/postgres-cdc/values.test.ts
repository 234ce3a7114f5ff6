// The type table: one row per PostgreSQL type, its text output in, the JSON text out.
import { expect, test } from "bun:test";
import {
  arrayJson,
  TypeCatalog,
  valueJson,
} from "../../../../src/providers/postgres-cdc/values.ts";

const catalog = new TypeCatalog([
  // A domain over numeric, an enum, box[] (';' between elements).
  { oid: 90_001, category: "N", element: 0, delimiter: ",", base: 1700 },
  { oid: 90_002, category: "E", element: 0, delimiter: ",", base: 0 },
  { oid: 603, category: "G", element: 0, delimiter: ";", base: 0 },
  { oid: 1020, category: "A", element: 603, delimiter: ",", base: 0 },
]);
const map = (oid: number, text: string) => valueJson(text, catalog.resolve(oid));

test.each([
  ["int2", 21, "-32768", "-32768"],
  ["int4", 23, "2147483647", "2147483647"],
  ["int8 keeps all 19 digits", 20, "9223372036854775807", "9223372036854775807"],
  [
    "numeric keeps 40 digits and trailing zeros",
    1700,
    "1234567890123456789012345678901234567890.10",
    "1234567890123456789012345678901234567890.10",
  ],
  ["numeric NaN is a string", 1700, "NaN", '"NaN"'],
  ["numeric Infinity is a string", 1700, "-Infinity", '"-Infinity"'],
  ["float8 exponent", 701, "1.5e-07", "1.5e-07"],
  ["float8 Infinity is a string", 701, "Infinity", '"Infinity"'],
  ["oid", 26, "16384", "16384"],
  ["money stays text (currency sign)", 790, "$1,000.00", '"$1,000.00"'],
  ["bool true", 16, "t", "true"],
  ["bool false", 16, "f", "false"],
  ["json as JSON, its line breaks made spaces", 114, '{"a":\n [1, 2.50]}', '{"a":  [1, 2.50]}'],
  ["jsonb as JSON", 3802, '{"b": 12345678901234567890}', '{"b": 12345678901234567890}'],
  ["bytea as base64", 17, "\\x00ff10", '"AP8Q"'],
  ["timestamp", 1114, "2026-01-02 03:04:05.123456", '"2026-01-02T03:04:05.123456"'],
  ["timestamptz in UTC", 1184, "2026-01-02 03:04:05+00", '"2026-01-02T03:04:05Z"'],
  ["timestamptz with an offset", 1184, "2026-01-02 03:04:05+05:30", '"2026-01-02T03:04:05+05:30"'],
  ["timestamptz infinity", 1184, "infinity", '"infinity"'],
  ["timestamp BC", 1114, "0044-03-15 12:00:00 BC", '"-0043-03-15T12:00:00"'],
  ["date", 1082, "2026-02-03", '"2026-02-03"'],
  ["text with quotes and a newline", 25, 'a "b"\nc', '"a \\"b\\"\\nc"'],
  ["uuid", 2950, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", '"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"'],
  ["interval", 1186, "1 day 02:00:00", '"1 day 02:00:00"'],
  ["a domain maps as its base type", 90_001, "12.50", "12.50"],
  ["an enum is text", 90_002, "happy", '"happy"'],
  [
    "text[] with quoting and NULL",
    1009,
    '{a,"b c",NULL,"NULL","q\\"uote"}',
    '["a","b c",null,"NULL","q\\"uote"]',
  ],
  ["int4[][]", 1007, "{{1,2},{3,4}}", "[[1,2],[3,4]]"],
  ["numeric[] with NaN", 1231, "{1.10,NaN}", '[1.10,"NaN"]'],
  ["int4[] with lower bounds", 1007, "[0:1]={7,8}", "[7,8]"],
  ["empty array", 1007, "{}", "[]"],
  ["box[] splits on ';'", 1020, "{(1,1),(0,0);(2,2),(1,1)}", '["(1,1),(0,0)","(2,2),(1,1)"]'],
  ["jsonb[]", 3807, '{"{\\"a\\": 1}"}', '[{"a": 1}]'],
  ["bool[]", 1000, "{t,f}", "[true,false]"],
])("%s", (_name, oid, text, json) => {
  expect(map(oid, text)).toBe(json);
  // Always valid JSON.
  expect(() => JSON.parse(json)).not.toThrow();
});

test("a malformed array literal is an error, not a guess", () => {
  expect(() => arrayJson("1,2", { kind: "number" }, ",")).toThrow("malformed array literal: 1,2");
});
