// dstream run through the compiled binary, from a folder with no node_modules: the quick start,
// providers in other languages, the handshake being optional, a 1M-line file copy, the line limit.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { relays } from "../helpers/binary.ts";
import { createWorkspace, type Workspace } from "./helpers.ts";

let workspace: Workspace;

beforeAll(async () => {
  workspace = await createWorkspace();
});
afterAll(() => workspace.remove());

function script(name: string, body: string): string {
  const path = workspace.write(name, body);
  chmodSync(path, 0o755);
  return path;
}

function pipeline(file: string, input: string, output: string): string {
  return workspace.write(
    file,
    `task "t" {\n  input {\n${input}\n  }\n  output {\n${output}\n  }\n}\n`,
  );
}

describe.each(relays)("dstream run (%s relay)", (_relay, relayEnv) => {
  const run = (
    args: string[],
    options: { env?: Record<string, string>; timeoutMs?: number } = {},
  ) => workspace.run(args, { ...options, env: { ...relayEnv, ...options.env } });

  test("counter -> console prints the quick start's messages exactly", async () => {
    pipeline(
      "quick.hcl",
      '    provider = "counter"\n    config {\n      interval = 10\n      maxCount = 5\n    }',
      '    provider = "console"\n    config { outputFormat = "simple" }',
    );
    const result = await run(["run", "t", "-c", "quick.hcl", "--quiet"]);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(5);
    lines.forEach((line, index) => {
      expect(line).toMatch(
        new RegExp(
          `^Message #${index + 1}: \\{"value":${index + 1},"timestamp":"\\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z"\\}$`,
        ),
      );
    });
  });

  test("providers written in bash and Python, with and without the handshake", async () => {
    script(
      "emit.sh",
      '#!/bin/bash\nread -r envelope\necho \'{"status":"ready"}\'\nfor i in 1 2 3; do echo "{\\"data\\":{\\"n\\":$i}}"; done\n',
    );
    script(
      "upper.py",
      [
        "#!/usr/bin/env python3",
        "import json, sys",
        "envelope = json.loads(sys.stdin.readline())",
        "assert envelope['command'] == 'run', envelope",
        "prefix = envelope['config']['prefix']",
        "for line in sys.stdin:",
        "    event = json.loads(line)",
        "    print(prefix + json.dumps(event['data'], separators=(',', ':')), flush=True)",
        "",
      ].join("\n"),
    );
    pipeline(
      "langs.hcl",
      '    provider_path = "./emit.sh"',
      '    provider_path = "./upper.py"\n    config { prefix = "py:" }',
    );
    const result = await run(["run", "t", "-c", "langs.hcl", "--quiet"]);
    expect(result.exitCode).toBe(0);
    // The bash input's ready line is consumed, never relayed; the Python output sends none at all.
    expect(result.stdout).toBe('py:{"n":1}\npy:{"n":2}\npy:{"n":3}\n');
  });

  test("stderr of both providers is forwarded with a [task/role] prefix, the summary goes to stderr", async () => {
    script("talk-in.sh", '#!/bin/sh\nread -r envelope\necho "starting" >&2\necho \'{"data":1}\'\n');
    script("talk-out.sh", '#!/bin/sh\nread -r envelope\ncat >/dev/null\necho "flushed" >&2\n');
    pipeline(
      "talk.hcl",
      '    provider_path = "./talk-in.sh"',
      '    provider_path = "./talk-out.sh"',
    );
    const result = await run(["run", "t", "-c", "talk.hcl"], { env: { NO_COLOR: "1" } });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("[t/input] starting\n");
    expect(result.stderr).toContain("[t/output] flushed\n");
    expect(result.stderr).toMatch(/t: 1 lines, 11 B in \d+\.\d s \(.*\), 0 backpressure waits/);
  });

  test("a failed run's summary says it failed, before its error line; --stats-json is unchanged", async () => {
    script("fails.sh", "#!/bin/sh\nread -r envelope\necho '{\"data\":1}'\nexit 3\n");
    pipeline("fails.hcl", '    provider_path = "./fails.sh"', '    provider = "null"');
    const stats = join(workspace.folder, "fails-stats.json");
    const result = await run(["run", "t", "-c", "fails.hcl", "--stats-json", stats], {
      env: { NO_COLOR: "1" },
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(
      /\n\[info\] t: failed after 1 lines, 11 B in \d+\.\d s \([^\n]*\), 0 backpressure waits\nerror: task "t": input provider \.\/fails\.sh exited with code 3 \(1 lines relayed, 0 in flight\)\n$/,
    );
    expect(JSON.parse(readFileSync(stats, "utf8"))).toMatchObject({
      task: "t",
      lines: 1,
      ok: false,
      error:
        'task "t": input provider ./fails.sh exited with code 3 (1 lines relayed, 0 in flight)',
    });
  });

  test("a provider's stderr line with a carriage return and a terminal escape: forwarded escaped, tabs kept", async () => {
    script(
      "escapes.sh",
      "#!/bin/sh\nread -r envelope\nprintf 'error: bad\\r\\033[2Jthing\\n' >&2\nprintf 'a\\tb\\n' >&2\necho '{\"data\":1}'\n",
    );
    pipeline("escapes.hcl", '    provider_path = "./escapes.sh"', '    provider = "null"');
    const result = await run(["run", "t", "-c", "escapes.hcl", "--quiet"]);
    expect(result).toMatchObject({
      exitCode: 0,
      stderr:
        "[t/input] error: bad\\r\\u001b[2Jthing\n[t/input] a\tb\n[t/output] discarded 1 lines (11 bytes)\n",
    });
  });

  test("1,000,000 lines file -> file arrive byte for byte (sha256 equal), counted in --stats-json", async () => {
    const lines: string[] = [];
    for (let index = 0; index < 1_000_000; index++) {
      lines.push(
        `{"data":{"id":${index},"text":"line ${index} of the copy test"},"metadata":{"sequence":${index}}}\n`,
      );
    }
    const source = workspace.write("big.jsonl", lines.join(""));
    const target = join(workspace.folder, `copy-${_relay.replace(" ", "-")}.jsonl`);
    pipeline(
      "copy.hcl",
      `    provider = "file"\n    config {\n      path = "${source}"\n      format = "raw"\n    }`,
      `    provider = "file"\n    config { path = "${target}" }`,
    );
    const result = await run(
      ["run", "t", "-c", "copy.hcl", "--quiet", "--stats-json", "stats.json"],
      {
        timeoutMs: 60_000,
      },
    );
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
    expect(sha(target)).toBe(sha(source));
    const stats = JSON.parse(readFileSync(join(workspace.folder, "stats.json"), "utf8"));
    expect(stats).toMatchObject({
      task: "t",
      ok: true,
      lines: 1_000_000,
      bytes: readFileSync(source).length,
      emptyLines: 0,
      // The file input and output speak v2: every line acknowledged, the checkpoint at the end.
      ackedLines: 1_000_000,
      checkpoint: { inThisRun: true, value: { current: { offset: readFileSync(source).length } } },
    });
  });

  test("--max-line-bytes: a line exactly at the limit passes, one byte over fails naming the line", async () => {
    const atLimit = `{"data":"${"x".repeat(90)}"}`;
    writeFileSync(join(workspace.folder, "at.jsonl"), `${atLimit}\n`);
    writeFileSync(join(workspace.folder, "over.jsonl"), `{"data":1}\n${atLimit}x\n`);
    for (const name of ["at", "over"]) {
      pipeline(
        `${name}.hcl`,
        `    provider = "file"\n    config {\n      path = "${name}.jsonl"\n      format = "raw"\n    }`,
        '    provider = "console"\n    config { outputFormat = "json" }',
      );
    }
    const limit = String(atLimit.length);
    const ok = await run(["run", "t", "-c", "at.hcl", "--quiet", "--max-line-bytes", limit]);
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toBe(`${atLimit}\n`);
    const stats = join(workspace.folder, "over-stats.json");
    const over = await run([
      ...["run", "t", "-c", "over.hcl", "--quiet", "--max-line-bytes", limit],
      ...["--stats-json", stats],
    ]);
    expect(over.exitCode).toBe(1);
    expect(over.stderr).toBe(
      `error: task "t": input provider file: line 2 is longer than --max-line-bytes (${limit} bytes) (1 lines relayed, 0 in flight)\n`,
    );
    // The refused line is not held: nothing stays counted as buffered.
    expect(JSON.parse(readFileSync(stats, "utf8"))).toMatchObject({
      lines: 1,
      buffered: 0,
      ok: false,
    });
  });

  test.each([
    [
      "a #! interpreter that does not exist",
      "#!/nonexistent/interp\n",
      "its interpreter /nonexistent/interp was not found (check the #! line)",
    ],
    [
      "a #! line ending in CRLF",
      "#!/bin/sh\r\necho hi\r\n",
      "its #! line ends in a carriage return (\\r): save it with Unix line endings (LF)",
    ],
    [
      "a file the system cannot run",
      "echo no shebang line\n",
      "the system cannot run it (a binary for another platform, or a script without a #! line)",
    ],
  ])("%s: exit 1, one line naming the task and the cause", async (_name, body, why) => {
    script("unrunnable.sh", body);
    pipeline("unrunnable.hcl", '    provider_path = "./unrunnable.sh"', '    provider = "null"');
    const result = await run(["run", "t", "-c", "unrunnable.hcl", "--quiet"]);
    expect(result).toMatchObject({
      exitCode: 1,
      stderr: `error: task "t": cannot start input provider ./unrunnable.sh: ${why}\n`,
    });
  });

  test("a 50 MB stderr line without newline: forwarded cut to 4 KiB, the error report too", async () => {
    script(
      "chatty.sh",
      "#!/bin/sh\nread -r envelope\nhead -c 50000000 /dev/zero | tr '\\0' x >&2\necho '{\"data\":1}'\nexit 3\n",
    );
    pipeline("chatty.hcl", '    provider_path = "./chatty.sh"', '    provider = "null"');
    const result = await run(["run", "t", "-c", "chatty.hcl", "--quiet"], { timeoutMs: 30_000 });
    const shown = `${"x".repeat(4096)} … (${50_000_000 - 4096} more bytes not shown)`;
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`[t/input] ${shown}\n`);
    expect(result.stderr).toEndWith(
      `error: task "t": input provider ./chatty.sh exited with code 3 (1 lines relayed, 0 in flight)\n  last stderr lines of the input provider:\n    ${shown}\n`,
    );
    // The line twice, the null output's count, the error: nothing of the 50 MB beyond that.
    expect(result.stderr.length).toBeLessThan(2 * shown.length + 500);
  });

  test("a last line cut off by the input's crash is dropped, not delivered with a newline", async () => {
    script(
      "cut.sh",
      '#!/bin/sh\nread -r envelope\nprintf \'{"data":1}\\n{"data":2}\\n{"da\'\nkill -9 $$\n',
    );
    script("whole.sh", '#!/bin/sh\nread -r envelope\nprintf \'{"data":1}\\n{"data":2}\'\n');
    const output = '    provider = "console"\n    config { outputFormat = "json" }';
    pipeline("cut.hcl", '    provider_path = "./cut.sh"', output);
    pipeline("whole.hcl", '    provider_path = "./whole.sh"', output);
    const cut = await run(["run", "t", "-c", "cut.hcl"], { env: { NO_COLOR: "1" } });
    expect(cut.exitCode).toBe(1);
    expect(cut.stdout).toBe('{"data":1}\n{"data":2}\n');
    expect(cut.stderr).toContain("a last line cut off mid-line by the input's end dropped (4 B)");
    expect(cut.stderr).toContain('error: task "t": input provider ./cut.sh was killed by SIGKILL');
    const whole = await run(["run", "t", "-c", "whole.hcl", "--quiet"]);
    expect(whole).toMatchObject({ exitCode: 0, stdout: '{"data":1}\n{"data":2}\n', stderr: "" });
  });

  test("--stats-json that cannot be written: refused before anything starts, exit 2", async () => {
    pipeline(
      "stats.hcl",
      '    provider = "counter"\n    config {\n      interval = 0\n      maxCount = 2\n    }',
      '    provider = "null"',
    );
    for (const [value, reason] of [
      ["no/such/dir/stats.json", "the folder no/such/dir does not exist"],
      ["", ""],
    ] as const) {
      const result = await run(["run", "t", "-c", "stats.hcl", "--stats-json", value], {
        env: { NO_COLOR: "1" },
      });
      const message = value
        ? `--stats-json ${value}: ${reason}`
        : "--stats-json is empty: give the file to write the counters to";
      expect(result).toEqual({
        exitCode: 2,
        stdout: "",
        stderr: `error: ${message}\n`,
        timedOut: false,
      });
    }
  });

  test("an input that exits without reading its envelope is legal: exit 0, ten times in a row", async () => {
    script("no-read.sh", "#!/bin/sh\nexit 0\n");
    pipeline("no-read.hcl", '    provider_path = "./no-read.sh"', '    provider = "console"');
    for (let attempt = 0; attempt < 10; attempt++) {
      const result = await run(["run", "t", "-c", "no-read.hcl", "--quiet"]);
      expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({
        exitCode: 0,
        stderr: "",
      });
    }
  });

  test("a provider_path that does not exist stops before anything starts (exit 2)", async () => {
    pipeline("missing.hcl", '    provider_path = "./nope"', '    provider = "console"');
    const result = await run(["run", "t", "-c", "missing.hcl"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(
      `error: task "t" › input › provider_path: ./nope not found (looked at ${join(workspace.folder, "nope")})\n`,
    );
  });
});
