// A large file parsed in groups of top-level blocks gives exactly the JSON of the whole file, or
// nothing (then the file is parsed whole).
import { describe, expect, test } from "bun:test";
import { CHUNKED_PARSE_MIN_BYTES, parseInGroups } from "../../../src/config/chunked-parse.ts";
import { outlineHcl } from "../../../src/hcl/index.ts";
import { HclSyntaxError, parseHcl } from "../../../src/hcl/parse.ts";
import { loadProblems } from "./harness.ts";

/** Blocks in every form the split must keep: labels, repeats, comments, heredocs, odd names. */
function largeFile(extra = ""): string {
  const parts: string[] = ["# a comment before everything\n"];
  for (let index = 0; parts.join("").length < CHUNKED_PARSE_MIN_BYTES * 1.5; index++) {
    parts.push(
      `task "t${index % 700}" {\n  input {\n    provider = "counter"\n    config {\n      text = <<EOT\n  task "not a block" {\nEOT\n    }\n  }\n}\n`,
      `/* between\n   blocks */\nother "x" "y${index}" {\n  v = [${index}, "}"]\n}\n`,
      index % 50 === 0 ? `task "__proto__" {\n}\nplain {\n}\n` : "",
    );
    if (index === 500) parts.push(extra);
  }
  return parts.join("");
}

const groups = (source: string) =>
  parseInGroups(source, outlineHcl(source), async (text) => {
    try {
      return await parseHcl(text);
    } catch (error) {
      if (error instanceof HclSyntaxError) return undefined;
      throw error;
    }
  });

/** JSON with object keys sorted, so key order does not count and everything else does. */
const canonical = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(canonical)
    : typeof value === "object" && value !== null
      ? Object.fromEntries(
          Object.keys(value)
            .sort()
            .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
        )
      : value;

describe("parseInGroups", () => {
  test("gives the whole file's JSON: repeated names across groups, labels, __proto__", async () => {
    const source = largeFile();
    const [inGroups, whole] = [await groups(source), await parseHcl(source)];
    expect(inGroups).toBeDefined();
    expect(JSON.stringify(canonical(inGroups))).toBe(JSON.stringify(canonical(whole)));
    expect(Object.hasOwn(inGroups?.task as object, "__proto__")).toBe(true);
  });

  test.each([
    ["a small file", 'task "a" {\n}\n'],
    ["a top-level attribute between blocks", largeFile("version = 2\n")],
    ["a syntax error in one group", largeFile("task {\n")],
    ["blocks with and without labels", largeFile("other {\n}\n")],
  ])("%s: nothing, so the file is parsed whole", async (_name, source) => {
    expect(await groups(source)).toBeUndefined();
  });

  test("an error in a large file is the whole file's, at its line", async () => {
    const source = largeFile("}\n");
    // The only two closing braces in a row at the start of their lines: a block's, then the stray.
    const stray = source.indexOf("\n}\n}\n") + 3;
    const line = source.slice(0, stray).split("\n").length;
    expect(await loadProblems(source)).toEqual([
      `dstream.hcl:${line}:1: Argument or block definition required`,
    ]);
  });
});
