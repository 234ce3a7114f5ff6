// The task schema: names, type, one provider source per role, no unknown keys, all problems at once.
import { describe, expect, test } from "bun:test";
import { builtinProviderNames } from "../../../src/protocol/builtins.ts";
import { loadError, loadProblems, loadTasks } from "./harness.ts";

/** The built-ins as error messages list them. */
const BUILTINS = builtinProviderNames.join(", ");

const counterToConsole = `  input {
    provider = "counter"
  }
  output {
    provider = "console"
  }`;

describe("tasks", () => {
  test("type defaults to providers", async () => {
    const [task] = await loadTasks(`task "a" {\n${counterToConsole}\n}\n`);
    expect(task?.type).toBe("providers");
    expect(task?.name).toBe("a");
  });

  test("tasks keep the order of the file, not hcl2json's sorted order", async () => {
    const names = ["zeta", "alpha", "mid", "beta"];
    const source = names.map((name) => `task "${name}" {\n${counterToConsole}\n}\n`).join("");
    expect((await loadTasks(source)).map((task) => task.name)).toEqual(names);
  });

  test("a name written with escapes is found in the source: right line, blocks stay objects", async () => {
    const escaped = `task "caf\\u00e9 \\"q\\"" {
  input {
    provider = "counter"
    config {
      b {
        x = 1
      }
    }
  }
  output {
    provider = "console"
  }
}
`;
    const [task] = await loadTasks(`task "first" {\n${counterToConsole}\n}\n${escaped}`);
    expect(task?.name).toBe("first");
    const tasks = await loadTasks(`${escaped}task "last" {\n${counterToConsole}\n}\n`);
    expect(tasks.map((t) => t.name)).toEqual(['café "q"', "last"]);
    expect(tasks[0]?.input.config).toEqual({ b: { x: 1 } });
    const broken = escaped.replace('provider = "console"', 'provider = "nope"');
    expect(await loadProblems(`task "first" {\n${counterToConsole}\n}\n${broken}`)).toEqual([
      `dstream.hcl:19:5: task "café \\"q\\"" › output › provider: unknown built-in provider "nope" (built-ins: ${BUILTINS})`,
    ]);
  });

  test("the error is a usage error (exit 2) whose message is its first problem", async () => {
    const error = await loadError(`task "a" {\n  type = "x"\n${counterToConsole}\n}\n`);
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(error.problems[0] ?? "");
  });

  test.each([
    [
      "a task name used twice",
      `task "a" {\n${counterToConsole}\n}\ntask "a" {\n${counterToConsole}\n}\n`,
      ['dstream.hcl:9:1: task "a": defined more than once (first defined on line 1)'],
    ],
    [
      "an invalid type",
      `task "a" {\n  type = "batch"\n${counterToConsole}\n}\n`,
      ['dstream.hcl:2:3: task "a" › type: type must be "providers" (the only task type)'],
    ],
    [
      "a type that is not a string",
      `task "a" {\n  type = 3\n${counterToConsole}\n}\n`,
      ['dstream.hcl:2:3: task "a" › type: type must be "providers" (the only task type)'],
    ],
    [
      "no provider source",
      'task "a" {\n  input {\n  }\n  output {\n    provider = "console"\n  }\n}\n',
      [
        'dstream.hcl:2:3: task "a" › input: set exactly one of provider_ref, provider_path, provider',
      ],
    ],
    [
      "two provider sources",
      'task "a" {\n  input {\n    provider = "counter"\n  }\n  output {\n    provider = "console"\n    provider_path = "./out"\n  }\n}\n',
      [
        'dstream.hcl:5:3: task "a" › output: set exactly one of provider_ref, provider_path, provider',
      ],
    ],
    [
      "all three provider sources",
      'task "a" {\n  input {\n    provider = "counter"\n    provider_path = "./in"\n    provider_ref = "ghcr.io/a/b:v1"\n  }\n  output {\n    provider = "console"\n  }\n}\n',
      [
        'dstream.hcl:2:3: task "a" › input: set exactly one of provider_ref, provider_path, provider',
      ],
    ],
    [
      "a missing output block",
      'task "a" {\n  input {\n    provider = "counter"\n  }\n}\n',
      ['dstream.hcl:1:1: task "a" › output: output block is missing'],
    ],
    [
      "an empty task",
      'task "a" {\n}\n',
      [
        'dstream.hcl:1:1: task "a" › input: input block is missing',
        'dstream.hcl:1:1: task "a" › output: output block is missing',
      ],
    ],
    [
      "a repeated input block, pointed at where it repeats",
      `task "a" {\n${counterToConsole}\n  input {\n    provider = "counter"\n  }\n}\n`,
      ['dstream.hcl:8:3: task "a" › input: only one input block is allowed'],
    ],
    [
      "a repeated config block",
      'task "a" {\n  input {\n    provider = "counter"\n    config {\n    }\n    config {\n    }\n  }\n  output {\n    provider = "console"\n  }\n}\n',
      ['dstream.hcl:6:5: task "a" › input › config: only one config block is allowed'],
    ],
    [
      "a config that is not an object",
      'task "a" {\n  input {\n    provider = "counter"\n    config = "fast"\n  }\n  output {\n    provider = "console"\n  }\n}\n',
      ['dstream.hcl:4:5: task "a" › input › config: config must be a block or an object'],
    ],
    [
      "config as a list attribute",
      'task "a" {\n  input {\n    provider = "counter"\n    config = [{ a = 1 }]\n  }\n  output {\n    provider = "console"\n  }\n}\n',
      ['dstream.hcl:4:5: task "a" › input › config: config must be a block or an object'],
    ],
    [
      "config as an empty list",
      'task "a" {\n  input {\n    provider = "counter"\n    config = []\n  }\n  output {\n    provider = "console"\n  }\n}\n',
      ['dstream.hcl:4:5: task "a" › input › config: config must be a block or an object'],
    ],
    [
      "an empty provider_path",
      'task "a" {\n  input {\n    provider_path = ""\n  }\n  output {\n    provider = "console"\n  }\n}\n',
      ['dstream.hcl:3:5: task "a" › input › provider_path: provider_path is empty'],
    ],
    [
      "a provider that is not a string",
      'task "a" {\n  input {\n    provider = true\n  }\n  output {\n    provider = "console"\n  }\n}\n',
      ['dstream.hcl:3:5: task "a" › input › provider: provider must be a string'],
    ],
    [
      "an unknown built-in",
      'task "a" {\n  input {\n    provider = "countr"\n  }\n  output {\n    provider = "console"\n  }\n}\n',
      [
        `dstream.hcl:3:5: task "a" › input › provider: unknown built-in provider "countr" (built-ins: ${BUILTINS})`,
      ],
    ],
    [
      "a built-in in the wrong role, both ways",
      'task "a" {\n  input {\n    provider = "console"\n  }\n  output {\n    provider = "counter"\n  }\n}\n',
      [
        'dstream.hcl:3:5: task "a" › input › provider: built-in provider "console" cannot be an input',
        'dstream.hcl:6:5: task "a" › output › provider: built-in provider "counter" cannot be an output',
      ],
    ],
    [
      "a task block without a name",
      `task {\n${counterToConsole}\n}\n`,
      ['dstream.hcl:1:1: task: a task block needs one name: task "my-pipeline" { ... }'],
    ],
    [
      "a task block with two names",
      `task "a" "b" {\n${counterToConsole}\n}\n`,
      [
        'dstream.hcl:1:1: task "a": a task block takes exactly one name: task "my-pipeline" { ... }',
      ],
    ],
    [
      "an empty task name",
      `task "" {\n${counterToConsole}\n}\n`,
      ['dstream.hcl:1:1: task "": the task name is empty'],
    ],
    ...[
      ["a newline", "a\\nb", '"a\\nb"', "U+000A"],
      ["an escape sequence", "red\\u001b[31m", '"red\\u001b[31m"', "U+001B"],
      ["a tab", "a\\tb", '"a\\tb"', "U+0009"],
      ["a C1 control", "a\\u0085", '"a\\u0085"', "U+0085"],
      ["a line separator", "a\\u2028", '"a\\u2028"', "U+2028"],
    ].map(([what, written, shown, code]): [string, string, string[]] => [
      `a task name with ${what}`,
      `task "ok" {\n${counterToConsole}\n}\ntask "${written}" {\n${counterToConsole}\n}\n`,
      [
        `dstream.hcl:9:1: task ${shown}: a task name cannot contain control characters or line breaks (found ${code})`,
      ],
    ]),
    ["no task at all", "# nothing yet\n", ["dstream.hcl: no task blocks found"]],
    [
      "a labeled input block: the label is refused, the body still checked",
      'task "a" {\n  input "pg" {\n    provider = "countr"\n  }\n  output {\n    provider = "console"\n  }\n}\n',
      [
        'dstream.hcl:2:3: task "a" › input: input takes no label: write input { ... }',
        `dstream.hcl:2:3: task "a" › input › provider: unknown built-in provider "countr" (built-ins: ${BUILTINS})`,
      ],
    ],
    [
      "config as an attribute and as a block (hcl2json would drop one)",
      'task "a" {\n  input {\n    provider = "counter"\n    config = { a = 1 }\n    config {\n      b = 2\n    }\n  }\n  output {\n    provider = "console"\n  }\n}\n',
      [
        'dstream.hcl:5:5: task "a" › input › config: "config" is set both as an attribute and as a block: keep one',
      ],
    ],
    [
      "a config value as an attribute and as a block",
      'task "a" {\n  input {\n    provider = "counter"\n    config {\n      x {\n        y = 1\n      }\n      x = 2\n    }\n  }\n  output {\n    provider = "console"\n  }\n}\n',
      [
        'dstream.hcl:8:7: task "a" › input › config › x: "x" is set both as an attribute and as a block: keep one',
      ],
    ],
  ])("%s", async (_name, source, problems) => {
    expect(await loadProblems(source)).toEqual(problems);
  });
});

describe("unknown attributes and blocks", () => {
  test("every one is reported at once, in file order, attribute or block", async () => {
    const source = `pipeline "x" {
}
task "a" {
  foo = 1
  bar {
  }
  input {
    provider = "counter"
    zed = 2
    baz "label" {
    }
  }
  output {
    provider = "console"
    config = {}
    extra = [1]
  }
}
version = 2
`;
    expect(await loadProblems(source)).toEqual([
      'dstream.hcl:1:1: pipeline: unknown block "pipeline" (only task and state blocks are allowed at the top level)',
      'dstream.hcl:4:3: task "a" › foo: unknown attribute "foo" (allowed: type, input, output)',
      'dstream.hcl:5:3: task "a" › bar: unknown block "bar" (allowed: type, input, output)',
      'dstream.hcl:9:5: task "a" › input › zed: unknown attribute "zed" (allowed: provider_ref, provider_path, provider, config)',
      'dstream.hcl:10:5: task "a" › input › baz: unknown block "baz" (allowed: provider_ref, provider_path, provider, config)',
      'dstream.hcl:16:5: task "a" › output › extra: unknown attribute "extra" (allowed: provider_ref, provider_path, provider, config)',
      'dstream.hcl:19:1: version: unknown attribute "version" (only task and state blocks are allowed at the top level)',
    ]);
  });

  test("problems of several tasks come together, sorted by line", async () => {
    const source = `task "one" {
  input {
    provider = "nope"
  }
  output {
    provider = "console"
  }
}
task "two" {
  type = "other"
  input {
    provider_ref = "ghcr.io/a/b"
  }
  output {
    provider = "console"
    config {
      url = "{{ env \\"TWO_URL\\" }}"
    }
  }
}
`;
    expect(await loadProblems(source)).toEqual([
      `dstream.hcl:3:5: task "one" › input › provider: unknown built-in provider "nope" (built-ins: ${BUILTINS})`,
      'dstream.hcl:10:3: task "two" › type: type must be "providers" (the only task type)',
      'dstream.hcl:12:5: task "two" › input › provider_ref: invalid OCI reference "ghcr.io/a/b": add a tag (:v1.2.0) or a digest (@sha256:...)',
      'dstream.hcl:17:7: task "two" › output › config › url: environment variable TWO_URL is not set (use {{ env "TWO_URL" | default "..." }} to make it optional)',
    ]);
  });
});

describe("provider sources", () => {
  test("provider_path resolves against the config file's folder, not the working directory", async () => {
    const [task] = await loadTasks(
      'task "a" {\n  input {\n    provider_path = "../bin/in"\n  }\n  output {\n    provider_path = "/opt/out"\n  }\n}\n',
    );
    expect(task?.input.source).toEqual({
      kind: "path",
      path: "/work/bin/in",
      written: "../bin/in",
    });
    expect(task?.output.source).toEqual({ kind: "path", path: "/opt/out", written: "/opt/out" });
  });

  test("provider_ref is parsed into registry, repository, tag and digest", async () => {
    const digest = `sha256:${"ab".repeat(32)}`;
    const [task] = await loadTasks(
      `task "a" {\n  input {\n    provider_ref = "localhost:5000/team/sub/in:v1@${digest}"\n  }\n  output {\n    provider_ref = "ghcr.io/acme/out:v2"\n  }\n}\n`,
    );
    expect(task?.input.source).toEqual({
      kind: "ref",
      reference: {
        registry: "localhost:5000",
        repository: "team/sub/in",
        tag: "v1",
        digest,
        original: `localhost:5000/team/sub/in:v1@${digest}`,
      },
    });
    expect(task?.output.source).toEqual({
      kind: "ref",
      reference: {
        registry: "ghcr.io",
        repository: "acme/out",
        tag: "v2",
        original: "ghcr.io/acme/out:v2",
      },
    });
  });

  test("a provider's settings are located at their line and column, a missing one at its block", async () => {
    const [task] = await loadTasks(
      'task "a" {\n  input {\n    provider = "counter"\n    config {\n      maxCount = "3"\n      nested { deep = 1 }\n    }\n  }\n  output {\n    provider = "console"\n  }\n}\n',
    );
    expect(task?.input.positions).toEqual({
      "": "dstream.hcl:4:5",
      maxCount: "dstream.hcl:5:7",
      nested: "dstream.hcl:6:7",
      "nested.deep": "dstream.hcl:6:16",
    });
    expect(task?.output.positions).toEqual({ "": "dstream.hcl:9:3" });
  });

  test("a built-in carries its name and role; config defaults to {}", async () => {
    const [task] = await loadTasks(`task "a" {\n${counterToConsole}\n}\n`);
    expect(task?.input).toEqual({
      role: "input",
      source: { kind: "builtin", name: "counter" },
      config: {},
      positions: { "": "dstream.hcl:2:3" },
    });
    expect(task?.output).toEqual({
      role: "output",
      source: { kind: "builtin", name: "console" },
      config: {},
      positions: { "": "dstream.hcl:5:3" },
    });
  });

  test.each([
    [
      "ghcr.io/Acme/in:v1",
      `repository component "Acme" must be lowercase letters and digits, separated by '.', '_', '__' or '-'`,
    ],
    ["ghcr.io/acme/in", "add a tag (:v1.2.0) or a digest (@sha256:...)"],
    [
      "ghcr.io/acme/in:-v1",
      "a tag is up to 128 letters, digits, '_', '.' or '-' and cannot start with '.' or '-'",
    ],
    [
      "ghcr.io/acme/in@sha256:abc",
      "the digest must be sha256: followed by 64, or sha512: followed by 128, lowercase hex digits",
    ],
    ["bad_host.io:99/acme/in:v1", `"bad_host.io:99" is not a valid registry host[:port]`],
    ["ghcr.io//in:v1", "the repository name is missing or has an empty path component"],
    [" ghcr.io/acme/in:v1", "it is empty or has surrounding spaces"],
  ])("provider_ref %j is rejected with its reason", async (reference, reason) => {
    const source = `task "a" {\n  input {\n    provider_ref = "${reference}"\n  }\n  output {\n    provider = "console"\n  }\n}\n`;
    expect(await loadProblems(source)).toEqual([
      `dstream.hcl:3:5: task "a" › input › provider_ref: invalid OCI reference "${reference}": ${reason}`,
    ]);
  });
});
