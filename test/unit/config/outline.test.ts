// The source outline: where each attribute and block starts, past strings, heredocs and comments.
import { describe, expect, test } from "bun:test";
import { outlineHcl, outlineKey } from "../../../src/config/outline.ts";

const source = `# a comment with { braces
task "a" {
  /* block comment { */ type = "providers"
  input {
    provider = "counter" // trailing }
    config {
      text = "has } and { and \\" and # inside"
      escaped = "$\${x} %%{y}"
      interpolated = "x\${ {a = "}"} }"
      list = [
        1, { b = "}" },
      ]
      doc = <<EOT
  } not a brace
EOT
      after = 1
      lab "one" "two" {
        deep = true
      }
    }
  }
}
`;

describe("outlineHcl", () => {
  const outline = outlineHcl(source);
  const at = (...path: string[]) => outline.positions.get(outlineKey(path));

  test.each([
    [["task", "a"], { line: 2, column: 1 }],
    [["task", "a", "type"], { line: 3, column: 25 }],
    [["task", "a", "input"], { line: 4, column: 3 }],
    [["task", "a", "input", "provider"], { line: 5, column: 5 }],
    [["task", "a", "input", "config"], { line: 6, column: 5 }],
    [["task", "a", "input", "config", "escaped"], { line: 8, column: 7 }],
    [["task", "a", "input", "config", "interpolated"], { line: 9, column: 7 }],
    [["task", "a", "input", "config", "list"], { line: 10, column: 7 }],
    [["task", "a", "input", "config", "doc"], { line: 13, column: 7 }],
    [["task", "a", "input", "config", "after"], { line: 16, column: 7 }],
    [["task", "a", "input", "config", "lab", "one", "two"], { line: 17, column: 7 }],
    [["task", "a", "input", "config", "lab", "one"], { line: 17, column: 7 }],
    [["task", "a", "input", "config", "lab"], { line: 17, column: 7 }],
    [["task", "a", "input", "config", "lab", "one", "two", "deep"], { line: 18, column: 9 }],
  ])("%j", (path, position) => {
    expect(at(...path)).toEqual([position]);
  });

  test("blocks are told from attributes", () => {
    const blocks = [...outline.blocks].map((key) => key.split("\u0000").join("/"));
    expect(blocks.sort()).toEqual([
      "task/a",
      "task/a/input",
      "task/a/input/config",
      "task/a/input/config/lab/one/two",
    ]);
  });

  test("repeated blocks keep every position in order", () => {
    const repeated = outlineHcl("r {\n}\nr {\n}\n");
    expect(repeated.positions.get("r")).toEqual([
      { line: 1, column: 1 },
      { line: 3, column: 1 },
    ]);
  });

  test("a byte order mark does not shift columns", () => {
    expect(outlineHcl("\uFEFFa = 1").positions.get("a")).toEqual([{ line: 1, column: 1 }]);
  });
});

describe("outlineHcl on every construct HCL accepts", () => {
  // If the scanner stops early, later blocks lose their block marks and become one-element lists:
  // so the last line of this file must be found.
  const torture = [
    "café-naïve = 1",
    "n = -1.5e3",
    "list = [",
    "  1, # a comment",
    '  "two", // another',
    "  /* block",
    "     comment } ] */",
    "  { k = [3,] },",
    "]",
    'obj = { "quoted key" = 1, plain: 2, nested = { x = "}" } }',
    "doc = <<-EOT",
    "    EOTX is not the end",
    "    } neither is this",
    "    EOT",
    'escapes = "quote \\" backslash \\\\ newline \\n e \\u00e9 $${x} %%{y}"',
    'directive = "%{ if true }yes%{ else }no%{ endif }"',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: HCL interpolation is the subject.
    'interpolation = "${"a}b"} and ${ {k = "}"}.k }"',
    "expr = (",
    "  1 +",
    "  2",
    ")",
    "loop = [for x in [1, 2] :",
    "  x * 2]",
    "index = a[0].b[*].c",
    'labels one "two" {',
    "  inner = null",
    "}",
    "inline { x = true }",
    "empty {}",
    'commented /* here */ "x" /* and here */ {',
    "}",
    "last = 1",
    "",
  ].join("\r\n");

  test("HCL itself accepts the file (so the test is about the scanner)", async () => {
    const { parseHcl } = await import("../../../src/config/hcl.ts");
    expect(await parseHcl(torture)).toHaveProperty("last", 1);
  });

  test("the scanner reaches the end and marks every block", () => {
    const outline = outlineHcl(torture);
    expect(outline.positions.get("last")).toEqual([{ line: 32, column: 1 }]);
    expect([...outline.blocks].map((key) => key.split("\u0000").join("/")).sort()).toEqual([
      "commented/x",
      "empty",
      "inline",
      "labels/one/two",
    ]);
    expect(outline.positions.get(outlineKey(["labels", "one", "two", "inner"]))).toEqual([
      { line: 26, column: 3 },
    ]);
  });
});
