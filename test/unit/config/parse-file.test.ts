// A config file's bytes as text: invalid UTF-8 is an error at its line and column, never U+FFFD.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../../src/config/index.ts";
import { decodeConfigFile } from "../../../src/config/parse-file.ts";
import { DstreamError } from "../../../src/errors.ts";

const location = { path: "/work/cfg/dstream.hcl", display: "dstream.hcl" };
const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(
    parts.map((part) => (typeof part === "string" ? Buffer.from(part) : Buffer.from(part))),
  );

function problems(input: Uint8Array): readonly string[] {
  try {
    decodeConfigFile(input, location);
  } catch (error) {
    if (error instanceof DstreamError && error.exitCode === 2) return error.problems;
    throw error;
  }
  throw new Error("expected the file to be refused");
}

describe("decodeConfigFile", () => {
  test.each([
    ["ASCII", bytes('task "a" {}\n'), 'task "a" {}\n'],
    ["UTF-8 beyond ASCII", bytes('task "café 注文 🚀" {}\n'), 'task "café 注文 🚀" {}\n'],
    ["a U+FFFD written as such", bytes('x = "\uFFFD"\n'), 'x = "\uFFFD"\n'],
    ["a byte order mark, kept for the outline", bytes([0xef, 0xbb, 0xbf], "a = 1"), "\uFEFFa = 1"],
  ])("%s is the text", (_name, input, text) => {
    expect(decodeConfigFile(input, location)).toBe(text);
  });

  test.each([
    [
      "a Latin-1 byte",
      bytes('task "a" {\n  x = "caf', [0xe9], '"\n}\n'),
      ["dstream.hcl:2:11: invalid UTF-8 (0xe9): save the file as UTF-8"],
    ],
    [
      "a column counted in characters after multi-byte ones",
      bytes('é = "', [0xff, 0xfe], '"\n'),
      ["dstream.hcl:1:6: invalid UTF-8 (0xff 0xfe): save the file as UTF-8"],
    ],
    [
      "a sequence cut short, and an overlong one, each at its own line",
      bytes("a = 1\n", [0xe2, 0x82], "\nb = ", [0xc0, 0xaf], "\n"),
      [
        "dstream.hcl:2:1: invalid UTF-8 (0xe2 0x82): save the file as UTF-8",
        "dstream.hcl:3:5: invalid UTF-8 (0xc0 0xaf): save the file as UTF-8",
      ],
    ],
    [
      "an encoded surrogate",
      bytes("s = ", [0xed, 0xa0, 0x80], "\n"),
      ["dstream.hcl:1:5: invalid UTF-8 (0xed 0xa0 0x80): save the file as UTF-8"],
    ],
    [
      "a long stretch, shown by its first bytes",
      bytes("s = ", [0x80, 0x81, 0x82, 0x83, 0x84, 0x85], " # in a file of text\n".repeat(4)),
      ["dstream.hcl:1:5: invalid UTF-8 (0x80 0x81 0x82 0x83 ...): save the file as UTF-8"],
    ],
    [
      "a Latin-1 file with accents on every line: each at its line",
      bytes(
        'a = "caf',
        [0xe9],
        '" # the file was saved as Latin-1, not UTF-8\n',
        'b = "d',
        [0xe9],
        "j",
        [0xe0],
        '" # so each accent is one byte\n',
        'c = "na',
        [0xef],
        've" # that UTF-8 does not allow\n',
      ),
      [
        "dstream.hcl:1:9: invalid UTF-8 (0xe9): save the file as UTF-8",
        "dstream.hcl:2:7: invalid UTF-8 (0xe9): save the file as UTF-8",
        "dstream.hcl:2:9: invalid UTF-8 (0xe0): save the file as UTF-8",
        "dstream.hcl:3:8: invalid UTF-8 (0xef): save the file as UTF-8",
      ],
    ],
    [
      "a binary file: one line",
      bytes([0x7f, 0x45, 0x4c, 0x46, 0xff, 0x00, 0xfe, 0x00, 0x80, 0x90, 0x00]),
      ["dstream.hcl: not a text file (NUL bytes or invalid UTF-8): is this the right file?"],
    ],
  ])("%s is refused", (_name, input, expected) => {
    expect(problems(input)).toEqual(expected);
  });

  test("past ten stretches, how many more", () => {
    const line = ["x = 1 ", [0xff], " # a Latin-1 file: more text than bad bytes\n"];
    const input = bytes(...Array.from({ length: 12 }, () => line).flat());
    const found = problems(input);
    expect(found).toHaveLength(11);
    expect(found[9]).toBe("dstream.hcl:10:7: invalid UTF-8 (0xff): save the file as UTF-8");
    expect(found[10]).toBe("dstream.hcl: ... and 2 more stretches of invalid UTF-8");
  });

  test("loadConfig reads the file's bytes: a stray byte is an error, not a U+FFFD in a value", async () => {
    const folder = mkdtempSync(join(tmpdir(), "dstream-utf8-"));
    try {
      writeFileSync(
        join(folder, "dstream.hcl"),
        bytes(
          'task "t" {\n  input {\n    provider = "counter"\n    config { name = "',
          [0xe9],
          '" }\n  }\n  output {\n    provider = "console"\n  }\n}\n',
        ),
      );
      const env = { DSTREAM_NO_PARSE_CACHE: "1" };
      await expect(loadConfig({ cwd: folder, env })).rejects.toThrow(
        "dstream.hcl:4:22: invalid UTF-8 (0xe9): save the file as UTF-8",
      );
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
