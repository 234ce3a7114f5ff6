// The source outline: where each attribute and block starts, past strings, heredocs and comments.
import { describe, expect, test } from "bun:test";
import { outlineHcl, outlineKey } from "../../../src/hcl/index.ts";
import { growth, manyTasks } from "../config/growth.ts";

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

describe("interpolations hcl2json would fold away", () => {
  test.each([
    // biome-ignore-start lint/suspicious/noTemplateCurlyInString: HCL interpolation is the subject.
    ["an interpolated constant", 'a = "${1}"', true],
    ["a string built from strings", 'a = "x${"b"}c"', true],
    ["a directive", 'a = "%{ if true }x%{ endif }"', true],
    ["in a heredoc", "a = <<EOT\n  ${1}\nEOT", true],
    ["in an object key", 'a = { "${"k"}" = 1 }', true],
    ["in a list", 'a = [1, "${2}"]', true],
    ["escaped", 'a = "$${1} %%{ x }"', false],
    ["escaped in a heredoc", "a = <<EOT\n$${1}\nEOT", false],
    ["a template", 'a = "{{ env \\"X\\" }}"', false],
    ["a bare expression (hcl2json keeps it as ${...})", "a = var.x", false],
    // biome-ignore-end lint/suspicious/noTemplateCurlyInString: HCL interpolation is the subject.
  ])("%s", (_name, source, interpolated) => {
    const outline = outlineHcl(`b {\n  ${source}\n  after = 1\n}\n`);
    expect(outline.interpolated).toEqual(interpolated ? [["b", "a"]] : []);
    expect(outline.positions.has(outlineKey(["b", "after"]))).toBe(true);
  });
});

describe("blocks whose labels clash", () => {
  const header = (line: number, labels: string[]) => ({ labels, position: { line, column: 1 } });
  type Header = ReturnType<typeof header>;
  test.each<[string, string, [Header, Header]]>([
    ["without and with a label", 'b "x" {\n}\nb {\n}\n', [header(1, ["x"]), header(3, [])]],
    ["a label extended", 'b "x" {\n}\nb "x" "y" {\n}\n', [header(1, ["x"]), header(3, ["x", "y"])]],
    ["none first", 'b {\n}\nb "x" {\n}\n', [header(1, []), header(3, ["x"])]],
  ])("%s", (_name, source, [first, other]) => {
    expect(outlineHcl(source).labelConflicts).toEqual([{ path: ["b"], first, other }]);
  });

  test.each([
    ["different labels", 'b "x" {\n}\nb "y" "z" {\n}\n'],
    ["the same labels (a repeated block)", 'b "x" {\n}\nb "x" {\n}\n'],
    ["the same type in different bodies", 'c {\n  b {\n  }\n}\nb "x" {\n}\n'],
  ])("%s do not clash", (_name, source) => {
    expect(outlineHcl(source).labelConflicts).toEqual([]);
  });

  test("nested, with the body's path", () => {
    const outline = outlineHcl('c "q" {\n  b "x" "y" {\n  }\n  b "x" {\n  }\n}\n');
    expect(outline.labelConflicts).toEqual([
      {
        path: ["c", "q", "b"],
        first: { labels: ["x", "y"], position: { line: 2, column: 3 } },
        other: { labels: ["x"], position: { line: 4, column: 3 } },
      },
    ]);
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
    const { parseHcl } = await import("../../../src/hcl/parse.ts");
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

describe("outlineHcl's cost", () => {
  test("grows linearly with the number of blocks (16× the tasks: well under 256×)", () => {
    // 20,000 tasks took seconds when each block header was compared with every earlier one.
    const ratio = growth(
      (count) => {
        const source = manyTasks(count);
        return () => outlineHcl(source);
      },
      1_000,
      16_000,
    );
    expect(ratio).toBeLessThan(64);
  });
});
