// Task blocks without exactly one name: each reported at its own line, beside every other problem
// of the file (one of them once hid all the others, or took another block's line).
import { describe, expect, test } from "bun:test";
import { loadError } from "./harness.ts";

const task = (header: string, input = "counter") =>
  `${header} {\n  input {\n    provider = "${input}"\n  }\n  output {\n    provider = "console"\n  }\n}\n`;
const needsOne = 'a task block needs one name: task "my-pipeline" { ... }';
const exactlyOne = 'a task block takes exactly one name: task "my-pipeline" { ... }';
const notAnInput = 'built-in provider "console" cannot be an input';

describe("task blocks without exactly one name", () => {
  test.each([
    [
      "a task with a name, then one without",
      task('task "a"') + task("task"),
      [`dstream.hcl:9:1: task: ${needsOne}`],
    ],
    [
      "a task without a name, then one with",
      task("task") + task('task "a"'),
      [`dstream.hcl:1:1: task: ${needsOne}`],
    ],
    [
      "a task with two names beside one with one",
      task('task "a"') + task('task "a" "b"'),
      [`dstream.hcl:9:1: task "a": ${exactlyOne}`],
    ],
    [
      "two without a name: each at its own line",
      task("task") + task("task"),
      [`dstream.hcl:1:1: task: ${needsOne}`, `dstream.hcl:9:1: task: ${needsOne}`],
    ],
    [
      "two with the same first of two names",
      task('task "a" "b"') + task('task "a" "c"'),
      [`dstream.hcl:1:1: task "a": ${exactlyOne}`, `dstream.hcl:9:1: task "a": ${exactlyOne}`],
    ],
    [
      "one without a name does not hide another task's problem",
      task("task") + task('task "b"', "console"),
      [
        `dstream.hcl:1:1: task: ${needsOne}`,
        `dstream.hcl:11:5: task "b" › input › provider: ${notAnInput}`,
      ],
    ],
    [
      "none, two and one names: every problem at its own block",
      task("task") + task('task "a" "b"') + task('task "c"', "console"),
      [
        `dstream.hcl:1:1: task: ${needsOne}`,
        `dstream.hcl:9:1: task "a": ${exactlyOne}`,
        `dstream.hcl:19:5: task "c" › input › provider: ${notAnInput}`,
      ],
    ],
  ])("%s", async (_name, source, problems) => {
    const error = await loadError(source);
    expect(error.problems).toEqual(problems);
    expect(error.exitCode).toBe(2);
  });

  test("beside config blocks whose labels clash: both, each at its line", async () => {
    const clashing =
      'task "x" {\n  input {\n    provider = "counter"\n    config {\n      b "x" "y" {\n      }\n      b "x" {\n      }\n    }\n  }\n  output {\n    provider = "console"\n  }\n}\n';
    const error = await loadError(task("task") + clashing);
    expect(error.problems).toEqual([
      `dstream.hcl:1:1: task: ${needsOne}`,
      'dstream.hcl:15:7: task "x" › input › config › b: b "x" { } cannot stand beside b "x" "y" { } (line 13): give every b block here the same number of labels',
    ]);
  });
});
