// ProblemReport: block or attribute, from the outline, for every path a check asks about.
import { describe, expect, test } from "bun:test";
import { ProblemReport } from "../../../src/config/problem-report.ts";
import { outlineHcl } from "../../../src/hcl/index.ts";

describe("ProblemReport", () => {
  const report = new ProblemReport(
    "dstream.hcl",
    outlineHcl('a "x" "y" {\n  b {\n  }\n  c = { d = 1 }\n}\ne = 1\n'),
  );

  test.each([
    [["a"], true, false, true],
    [["a", "x"], true, false, true],
    [["a", "x", "y"], true, false, false],
    [["a", "x", "y", "b"], true, false, false],
    [["a", "x", "y", "c"], false, true, false],
    [["e"], false, true, false],
    [["missing"], false, false, false],
  ])("%j: block %p, attribute %p, labels only %p", (path, block, attribute, labels) => {
    expect(report.isBlock(path)).toBe(block);
    expect(report.isAttribute(path)).toBe(attribute);
    expect(report.hasLabels(path)).toBe(labels);
  });
});
