// HCL syntax errors: every diagnostic of HashiCorp's parser, one line each, as file:line:col: summary.
import { describe, expect, test } from "bun:test";
import { parseDiagnostics, parseHcl } from "../../../src/hcl/parse.ts";
import { loadError, loadProblems } from "./harness.ts";

const valid = `task "a" {
  input {
    provider = "counter"
  }
  output {
    provider = "console"
  }
}
`;

describe("syntax errors", () => {
  test.each([
    [
      "a bare word after a block",
      `${valid}x\n`,
      ["dstream.hcl:9:1: Argument or block definition required"],
    ],
    ["a stray closing brace", "}\n", ["dstream.hcl:1:1: Argument or block definition required"]],
    [
      "a missing value",
      'task "a" {\n  input {\n    provider =\n  }\n}\n',
      ["dstream.hcl:3:15: Invalid expression"],
    ],
    ["an unclosed block", 'task "a" {', ["dstream.hcl:1:10: Unclosed configuration block"]],
    [
      "a block without an opening brace",
      'task "a" }',
      ["dstream.hcl:1:10: Invalid block definition"],
    ],
    ["an attribute set twice", "a = 1\na = 2\n", ["dstream.hcl:2:1: Attribute redefined"]],
    [
      "a nested block on one line",
      'task "a" { input { provider = "counter" } }',
      ["dstream.hcl:1:12: Argument definition required"],
    ],
    ["a quoted block type", '"task" {}', ["dstream.hcl:1:1: Invalid argument name"]],
    [
      "an unterminated heredoc",
      'task "a" {\n  x = <<EOT\nabc\n',
      ["dstream.hcl:4:1: Unterminated template string"],
    ],
    ["an invalid escape", 'task "a\\q" {}', ["dstream.hcl:1:8: Invalid escape sequence"]],
    [
      "a list without its closing bracket",
      'task "a" { x = [1, 2 }',
      ["dstream.hcl:1:22: Missing item separator"],
    ],
    [
      "object items without a separator",
      'task "a" { x = {a = 1 b = 2} }',
      ["dstream.hcl:1:23: Missing attribute separator"],
    ],
    [
      "a NUL byte",
      'task "a" {\u0000}',
      [
        "dstream.hcl:1:11: Invalid character",
        "dstream.hcl:1:11: Argument or block definition required",
      ],
    ],
    [
      "blocks with and without labels (hcl2json's check, placed by the outline)",
      'b "x" {\n}\nb {\n}\n',
      [
        'dstream.hcl:3:1: b: b { } cannot stand beside b "x" { } (line 1): give every b block here the same number of labels',
      ],
    ],
    [
      "config blocks whose labels extend each other's, with their path",
      'task "a" {\n  input {\n    provider = "counter"\n    config {\n      b "x" "y" {\n      }\n      b "x" {\n      }\n    }\n  }\n}\n',
      [
        'dstream.hcl:7:7: task "a" › input › config › b: b "x" { } cannot stand beside b "x" "y" { } (line 5): give every b block here the same number of labels',
      ],
    ],
    [
      "an unterminated string: every diagnostic, in the parser's order",
      'task "a" {\n  input {\n    provider = "counter\n  }\n}',
      [
        "dstream.hcl:3:24: Invalid multi-line string",
        "dstream.hcl:4:4: Invalid multi-line string",
        "dstream.hcl:3:24: Unterminated template string",
      ],
    ],
    [
      "two broken lines",
      'task "a" {\n  foo bar\n  x == 1\n}\n',
      [
        "dstream.hcl:2:10: Invalid block definition",
        "dstream.hcl:3:3: Argument or block definition required",
      ],
    ],
  ])("%s", async (_name, source, problems) => {
    const error = await loadError(source);
    expect(error.code).toBe("CONFIG_SYNTAX");
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(problems[0] ?? "");
    expect(error.problems).toEqual(problems);
  });

  test("the file is named as the user gave it", async () => {
    const error = await loadError("}\n").catch((e) => e);
    expect(error.problems[0]).toStartWith("dstream.hcl:1:1: ");
  });
});

describe("parseHcl", () => {
  test("returns hcl2json's encoding: blocks as lists under their labels", async () => {
    expect(await parseHcl('task "a" {\n  x = 1\n}\n')).toEqual({ task: { a: [{ x: 1 }] } });
  });

  test.each([
    ["lists", `a = ${"[".repeat(50_000)}${"]".repeat(50_000)}`, "dstream.hcl:1:505"],
    ["unclosed objects", `a = ${"{".repeat(50_000)}`, "dstream.hcl:1:505"],
    ["blocks", `${"b {\n".repeat(5_000)}${"}\n".repeat(5_000)}`, "dstream.hcl:501:3"],
    ["parentheses", `a = ${"(".repeat(600)}1${")".repeat(600)}`, "dstream.hcl:1:505"],
  ])("%s nested over 500 levels are refused before parsing", async (_name, source, where) => {
    expect(await loadProblems(source)).toEqual([`${where}: nested deeper than 500 levels`]);
  });

  test("500 levels still parse", async () => {
    const deep = `a = ${"[".repeat(500)}${"]".repeat(500)}`;
    expect(JSON.stringify(await parseHcl(deep))).toBe(`{"a":${"[".repeat(500)}${"]".repeat(500)}}`);
  });

  test("nesting hidden from the count (closers in a string) overflowing Go's stack: a clean error, then the parser works again", async () => {
    // 200,000 levels: far past the stack however warm the wasm is.
    const levels = 200_000;
    const source = `s = "${"]".repeat(levels)}"\na = ${"[".repeat(levels)}${"]".repeat(levels)}\n`;
    expect(await loadProblems(source)).toEqual([
      "dstream.hcl: nested too deeply for the HCL parser",
    ]);
    expect(await parseHcl("a = [[[1]]]")).toEqual({ a: [[[1]]] });
  });

  test("parses again after a syntax error (the parser stays alive)", async () => {
    await expect(parseHcl("}")).rejects.toThrow("1:1: Argument or block definition required");
    expect(await parseHcl("a = 1")).toEqual({ a: 1 });
  });
});

describe("parseDiagnostics", () => {
  test("splits summary and detail and rewrites positions inside the detail", () => {
    expect(
      parseDiagnostics(
        'parse config: [DSTREAM_SOURCE:2,1-2: Attribute redefined; The argument "a" was already set at DSTREAM_SOURCE:1,1-2. Each argument may be set only once.]',
      ),
    ).toEqual([
      {
        line: 2,
        column: 1,
        summary: "Attribute redefined",
        detail:
          'The argument "a" was already set at line 1, column 1. Each argument may be set only once.',
      },
    ]);
  });

  test("an error without a position gets line 0 (printed without one)", () => {
    expect(parseDiagnostics("something odd")).toEqual([
      { line: 0, column: 0, summary: "something odd", detail: "" },
    ]);
  });
});
