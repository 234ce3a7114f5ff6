// Outside text in an error line: every character that could break the line or drive the terminal
// is escaped; everything else is kept.
import { expect, test } from "bun:test";
import { collapseWhitespace, oneLine } from "../../src/one-line.ts";

test.each([
  ["plain text", "config file dstream.hcl", "config file dstream.hcl"],
  ["Unicode beyond ASCII", "tâche « commandes » 注文", "tâche « commandes » 注文"],
  ["a line break", "first\nsecond", "first\\nsecond"],
  ["a carriage return", "over\rwritten", "over\\rwritten"],
  ["a tab", "a\tb", "a\\tb"],
  ["a NUL", "a\u0000b", "a\\0b"],
  ["a terminal escape", "\u001b[2Jcleared", "\\u001b[2Jcleared"],
  ["a bell and DEL", "\u0007\u007f", "\\u0007\\u007f"],
  ["a C1 control", "a\u0085b", "a\\u0085b"],
  ["Unicode line and paragraph separators", "a\u2028b\u2029c", "a\\u2028b\\u2029c"],
])("%s", (_name, text, expected) => {
  expect(oneLine(text)).toBe(expected);
});

test("keepTabs keeps tabs and escapes every other control character", () => {
  expect(oneLine("a\tb\r\u001b[2Jc\n", { keepTabs: true })).toBe("a\tb\\r\\u001b[2Jc\\n");
});

test("collapseWhitespace folds a multi-line message into one line", () => {
  expect(collapseWhitespace("  duplicate key\n  DETAIL:\tKey (id)=(1)  \r\n")).toBe(
    "duplicate key DETAIL: Key (id)=(1)",
  );
});
