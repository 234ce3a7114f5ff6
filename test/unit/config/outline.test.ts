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
