// Bad input, one row each: `dstream run` stops before starting anything, with exit code 2 and the
// exact message naming the file, line, task and provider.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { builtinProviderNames } from "../../src/protocol/builtins.ts";
import { createWorkspace, type Workspace } from "../e2e/helpers.ts";

/** The built-ins as error messages list them. */
const BUILTINS = builtinProviderNames.join(", ");

let workspace: Workspace;
beforeAll(async () => {
  workspace = await createWorkspace();
  chmodSync(workspace.write("bin/not-executable", "#!/bin/sh\n"), 0o644);
  mkdirSync(join(workspace.folder, "bin/a-directory"));
});
afterAll(() => workspace.remove());

const output = '  output {\n    provider = "console"\n  }';

/** A task "x" whose input block holds `body`, with a plain console output. */
function inputTask(...body: string[]): string {
  return `task "x" {\n  input {\n${body.map((line) => `    ${line}`).join("\n")}\n  }\n${output}\n}\n`;
}

interface Row {
  name: string;
  /** Config file text; `{file}` in expected lines stands for its name. */
  hcl?: string;
  /** Arguments after `run`; default `x -c {file}`. */
  args?: string[];
  /** Environment variables of the run (templates). */
  env?: Record<string, string>;
  expected: string[];
}

const malformedHcl: Row[] = [
  {
    name: "unclosed block",
    hcl: 'task "x" {\n',
    expected: ["{file}:1:10: Unclosed configuration block"],
  },
  {
    name: "blocks nested on one line",
    hcl: 'task "x" { input { provider = "counter" } }\n',
    expected: ["{file}:1:12: Argument definition required"],
  },
  {
    name: "attribute without a value",
    hcl: 'task "x" {\n  input = \n}\n',
    expected: ["{file}:2:11: Invalid expression"],
  },
  {
    name: "unterminated string",
    hcl: 'task "x" {\n  input {\n    provider = "counter\n  }\n}\n',
    expected: [
      "{file}:3:24: Invalid multi-line string",
      "{file}:4:4: Invalid multi-line string",
      "{file}:5:2: Invalid multi-line string",
      "{file}:3:24: Unterminated template string",
    ],
  },
  {
    name: "missing opening quote",
    hcl: 'task "x" {\n  input {\n    provider = counter"\n  }\n}\n',
    expected: [
      "{file}:3:24: Invalid multi-line string",
      "{file}:4:4: Invalid multi-line string",
      "{file}:5:2: Invalid multi-line string",
      "{file}:3:23: Missing newline after argument",
    ],
  },
  {
    name: "a bare value at top level",
    hcl: "= 3\n",
    expected: ["{file}:1:1: Argument or block definition required"],
  },
  {
    name: "a binary file",
    hcl: `task "x" {\n${"\u0000\u0001\u0002\u0003".repeat(8)}\n}\n`,
    expected: ["{file}: not a text file (NUL bytes or invalid UTF-8): is this the right file?"],
  },
  {
    name: "many syntax errors: the first ten, then a count",
    hcl: "@\n".repeat(30),
    expected: [
      ...Array.from({ length: 10 }, (_, line) => `{file}:${line + 1}:1: Invalid character`),
      "{file}: ... and 21 more syntax errors",
    ],
  },
  {
    name: "JSON instead of HCL",
    hcl: '{"task": 1}\n',
    expected: ["{file}:1:1: Argument or block definition required"],
  },
  {
    name: "unclosed list",
    hcl: 'task "x" {\n  input {\n    config { a = [1, 2 }\n  }\n}\n',
    expected: ["{file}:3:24: Missing item separator"],
  },
  {
    name: "object item without a value",
    hcl: 'task "x" {\n  input {\n    config { a = {b = } }\n  }\n}\n',
    expected: ["{file}:3:23: Invalid expression"],
  },
  {
    name: "attribute set twice",
    hcl: inputTask('provider = "counter"', 'provider = "counter"'),
    expected: ["{file}:4:5: Attribute redefined"],
  },
  {
    name: "dangling operator",
    hcl: 'task "x" {\n  input { provider = "a" + }\n}\n',
    expected: ["{file}:2:28: Invalid expression"],
  },
  {
    name: "unterminated interpolation",
    // An HCL interpolation opened and never closed.
    hcl: `task "x" {\n  input { provider = "\${" }\n}\n`,
    expected: [
      "{file}:2:28: Invalid multi-line string",
      "{file}:3:2: Invalid multi-line string",
      "{file}:2:28: Unterminated template string",
    ],
  },
];

const schema: Row[] = [
  {
    name: "a task with two names",
    hcl: 'task "x" "y" {}\n',
    expected: [
      '{file}:1:1: task "x": a task block takes exactly one name: task "my-pipeline" { ... }',
    ],
  },
  {
    name: "unknown block (misspelt input)",
    hcl: `task "x" {\n  inputs {\n    provider = "counter"\n  }\n${output}\n}\n`,
    expected: [
      '{file}:1:1: task "x" › input: input block is missing',
      '{file}:2:3: task "x" › inputs: unknown block "inputs" (allowed: type, input, output)',
    ],
  },
  {
    name: "unknown attribute",
    hcl: inputTask('provider = "counter"', 'color = "red"'),
    expected: [
      '{file}:4:5: task "x" › input › color: unknown attribute "color" (allowed: provider_ref, provider_path, provider, config)',
    ],
  },
  {
    name: "duplicate task",
    hcl: inputTask('provider = "counter"') + inputTask('provider = "counter"'),
    expected: ['{file}:9:1: task "x": defined more than once (first defined on line 1)'],
  },
  {
    name: "two provider sources",
    hcl: inputTask('provider = "counter"', 'provider_path = "./bin/in"'),
    expected: [
      '{file}:2:3: task "x" › input: set exactly one of provider_ref, provider_path, provider',
    ],
  },
  {
    name: "no provider source",
    hcl: inputTask("config {}"),
    expected: [
      '{file}:2:3: task "x" › input: set exactly one of provider_ref, provider_path, provider',
    ],
  },
  {
    name: "bad OCI reference (uppercase, space)",
    hcl: inputTask('provider_ref = "ghcr.io/acme/Bad Ref:v1"'),
    expected: [
      `{file}:3:5: task "x" › input › provider_ref: invalid OCI reference "ghcr.io/acme/Bad Ref:v1": repository component "Bad Ref" must be lowercase letters and digits, separated by '.', '_', '__' or '-'`,
    ],
  },
  {
    name: "bad OCI reference (short digest)",
    hcl: inputTask('provider_ref = "ghcr.io/acme/x@sha256:abc"'),
    expected: [
      '{file}:3:5: task "x" › input › provider_ref: invalid OCI reference "ghcr.io/acme/x@sha256:abc": the digest must be sha256: followed by 64, or sha512: followed by 128, lowercase hex digits',
    ],
  },
  {
    name: "missing environment variable",
    hcl: inputTask(
      'provider = "counter"',
      'config { url = "{{ env \\"DSTREAM_FAULT_UNSET\\" }}" }',
    ),
    expected: [
      '{file}:4:14: task "x" › input › config › url: environment variable DSTREAM_FAULT_UNSET is not set (use {{ env "DSTREAM_FAULT_UNSET" | default "..." }} to make it optional)',
    ],
  },
  {
    name: "required environment variable",
    hcl: inputTask(
      'provider = "counter"',
      'config { url = "{{ required \\"DSTREAM_FAULT_UNSET\\" }}" }',
    ),
    expected: [
      '{file}:4:14: task "x" › input › config › url: environment variable DSTREAM_FAULT_UNSET is required',
    ],
  },
  {
    name: "unclosed template action",
    hcl: inputTask('provider = "counter"', 'config { url = "{{ env \\"A\\" " }'),
    expected: [
      '{file}:4:14: task "x" › input › config › url: unclosed template action "{{ env "A" " (missing "}}")',
    ],
  },
  {
    name: "unknown template function",
    hcl: inputTask('provider = "counter"', 'config { url = "{{ frobnicate }}" }'),
    expected: [
      '{file}:4:14: task "x" › input › config › url: unknown template function "frobnicate" (known: env, default, required, now, date, upper, lower)',
    ],
  },
  {
    name: "unknown built-in provider",
    hcl: inputTask('provider = "mongodb"'),
    expected: [
      `{file}:3:5: task "x" › input › provider: unknown built-in provider "mongodb" (built-ins: ${BUILTINS})`,
    ],
  },
];

const builtinConfigs: Row[] = [
  {
    name: "built-in configs checked by their own schemas, every problem at once",
    hcl: 'task "x" {\n  input {\n    provider = "counter"\n    config {\n      intervall = 5\n      maxCount = "ten"\n    }\n  }\n  output {\n    provider = "console"\n    config { outputFormat = "fancy" }\n  }\n}\n',
    expected: [
      '{file}:6:7: task "x" › input (counter) › config › maxCount: must be a number (got the string "ten": a {{ }} template always gives a string, so write the number itself, without quotes)',
      '{file}:5:7: task "x" › input (counter) › config › intervall: unknown setting (allowed: interval, maxCount)',
      '{file}:11:14: task "x" › output (console) › config › outputFormat: must be "simple", "structured" or "json"',
    ],
  },
];

builtinConfigs.push({
  name: "a templated value for a numeric setting: the hint says templates give strings",
  hcl: 'task "x" {\n  input {\n    provider = "counter"\n    config {\n      interval = "{{ env \\"INTERVAL\\" }}"\n    }\n  }\n  output {\n    provider = "console"\n  }\n}\n',
  env: { INTERVAL: "250" },
  expected: [
    '{file}:5:7: task "x" › input (counter) › config › interval: must be a number (got the string "250": a {{ }} template always gives a string, so write the number itself, without quotes)',
  ],
});

const providerPaths: Row[] = [
  {
    name: "provider_path not found",
    hcl: inputTask('provider_path = "./bin/missing"'),
    expected: [
      'task "x" › input › provider_path: ./bin/missing not found (looked at {folder}/bin/missing)',
    ],
  },
  {
    name: "provider_path not executable",
    hcl: inputTask('provider_path = "./bin/not-executable"'),
    expected: [
      'task "x" › input › provider_path: ./bin/not-executable is not executable (chmod +x ./bin/not-executable)',
    ],
  },
  {
    name: "provider_path is a directory",
    hcl: inputTask('provider_path = "./bin/a-directory"'),
    expected: [
      'task "x" › input › provider_path: ./bin/a-directory is a directory, not an executable',
    ],
  },
];

const runArguments: Row[] = [
  {
    name: "unknown task",
    hcl: inputTask('provider = "counter"'),
    args: ["nope", "-c", "{file}"],
    expected: ['task "nope" not found in {file} (tasks: x)'],
  },
  {
    name: "no task name",
    args: [],
    expected: ["Missing required positional argument: TASK"],
  },
  {
    name: "config file not found",
    args: ["x", "-c", "nope.hcl"],
    expected: ["config file not found: tried nope.hcl (from --config)"],
  },
  {
    name: "unknown flag",
    args: ["x", "--frobnicate"],
    expected: ["unknown flag --frobnicate for dstream run (see dstream run --help)"],
  },
  {
    name: "unknown short flag",
    args: ["x", "-z"],
    expected: ["unknown flag -z for dstream run (see dstream run --help)"],
  },
  {
    name: "extra positional argument",
    args: ["x", "y"],
    expected: ['unexpected argument "y" for dstream run (see dstream run --help)'],
  },
  {
    name: "flag without its value",
    args: ["x", "--shutdown-timeout"],
    expected: ["flag --shutdown-timeout needs a value (see dstream run --help)"],
  },
  {
    name: "not a size",
    args: ["x", "--buffer-bytes", "lots"],
    expected: ['--buffer-bytes: "lots" is not a size (e.g. 8MiB, 512KiB, 1048576)'],
  },
  {
    name: "a size of zero",
    args: ["x", "--buffer-bytes", "0"],
    expected: ["--buffer-bytes: must be at least 1 byte"],
  },
  {
    name: "unknown size unit",
    args: ["x", "--max-line-bytes", "12q"],
    expected: ['--max-line-bytes: "12q" is not a size (e.g. 8MiB, 512KiB, 1048576)'],
  },
  {
    name: "not a duration",
    args: ["x", "--shutdown-timeout", "soon"],
    expected: ['--shutdown-timeout: "soon" is not a duration (e.g. 10s, 500ms, 2m)'],
  },
  {
    name: "a shutdown timeout too long for a timer",
    args: ["x", "--shutdown-timeout", "36000m"],
    expected: ["--shutdown-timeout: must be at most 24 days"],
  },
  {
    name: "a shutdown timeout of zero",
    args: ["x", "--shutdown-timeout", "0s"],
    expected: ["--shutdown-timeout: must be at least 1 ms"],
  },
  {
    name: "invalid log level",
    args: ["x", "--log-level", "loud"],
    expected: ['invalid log level "loud" (use debug, info, warn, error)'],
  },
];

describe.each([
  ["malformed HCL", malformedHcl],
  ["schema and templates", schema],
  ["built-in provider configs", builtinConfigs],
  ["provider_path", providerPaths],
  ["run arguments and flags", runArguments],
] as const)("bad input: %s", (_group, rows) => {
  test.each(rows.map((row) => [row.name, row] as const))(
    "%s",
    async (name, row) => {
      const file = `${name.replace(/[^a-z0-9]+/gi, "-")}.hcl`;
      if (row.hcl !== undefined) workspace.write(file, row.hcl);
      const fill = (text: string) =>
        text.replaceAll("{file}", file).replaceAll("{folder}", workspace.folder);
      const args = (row.args ?? ["x", "-c", "{file}"]).map(fill);
      const result = await workspace.run(["run", ...args], {
        timeoutMs: 10_000,
        ...(row.env ? { env: row.env } : {}),
      });
      expect(result).toEqual({
        exitCode: 2,
        stdout: "",
        stderr: row.expected.map((line) => `error: ${fill(line)}\n`).join(""),
        timedOut: false,
      });
    },
    20_000,
  );
});
