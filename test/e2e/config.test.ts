// The compiled binary, copied to a temp folder with no node_modules, reading config as a user would.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import packageJson from "../../package.json" with { type: "json" };
import { runProcess } from "../helpers/binary.ts";
import { userExampleEnv } from "../unit/config/harness.ts";
import { createWorkspace, type Workspace } from "./helpers.ts";

let workspace: Workspace;
beforeAll(async () => {
  workspace = await createWorkspace();
  workspace.write(
    "dstream.hcl",
    readFileSync(resolve(import.meta.dir, "../fixtures/dstream-user-examples.hcl"), "utf8"),
  );
  workspace.write(
    "pipelines/quick.hcl",
    'task "quick" {\n  input {\n    provider = "counter"\n  }\n  output {\n    provider_path = "../bin/sink"\n  }\n}\n',
  );
});
afterAll(() => workspace.remove());

const ok = (stdout: string) => ({ exitCode: 0, stdout, stderr: "", timedOut: false });
const usageError = (...lines: string[]) => ({
  exitCode: 2,
  stdout: "",
  stderr: lines.map((line) => `error: ${line}\n`).join(""),
  timedOut: false,
});

describe("the compiled binary, alone in a temp folder", () => {
  test("is an executable copy outside the repository", () => {
    expect(workspace.folder.startsWith(resolve(import.meta.dir, "../.."))).toBe(false);
    expect(statSync(workspace.binary).mode & 0o111).not.toBe(0);
  });

  test("version names the build's git commit", async () => {
    const result = await workspace.run(["version", "--json"]);
    expect(result.exitCode).toBe(0);
    const info = JSON.parse(result.stdout);
    expect(info.version).toBe(packageJson.version);
    expect(info.commit).toMatch(/^[0-9a-f]{12}$/);
    const known = await runProcess(["git", "cat-file", "-e", `${info.commit}^{commit}`], {
      cwd: resolve(import.meta.dir, "../.."),
    });
    expect(known.exitCode).toBe(0);
    const text = await workspace.run(["version"]);
    expect(text).toEqual(
      ok(`dstream ${info.version} (commit ${info.commit}, bun ${info.bun}, ${info.platform})\n`),
    );
  });

  test("list reads ./dstream.hcl with the embedded HCL parser", async () => {
    // No parse cache: the wasm embedded in the binary must do the parsing.
    expect(await workspace.run(["list"], { env: { DSTREAM_NO_PARSE_CACHE: "1" } })).toEqual(
      ok(
        [
          "my-pipeline       ghcr.io/writeameer/dstream-counter-input-provider:v0.3.0  ->  ghcr.io/writeameer/dstream-console-output-provider:v0.3.0",
          "sql-to-kafka      ghcr.io/katasec/mssql-cdc-provider:v1.2.0                 ->  ghcr.io/katasec/kafka-provider:v1.1.0",
          "api-to-s3         ghcr.io/community/rest-api-provider:v2.0.0                ->  ghcr.io/aws/s3-provider:v1.0.0",
          "local-dev         ../my-custom-provider/out/my-provider                     ->  ghcr.io/writeameer/dstream-console-output-provider:v0.3.0",
          "ingest-with-lock  ./bin/ingester                                            ->  console",
          "",
        ].join("\n"),
      ),
    );
  });

  test("a second list of the unchanged file, served by the parse cache, prints the same", async () => {
    const env = { XDG_CACHE_HOME: `${workspace.folder}/cache` };
    const first = await workspace.run(["list"], { env });
    expect(readdirSync(`${workspace.folder}/cache/dstream/hcl`)).toHaveLength(1);
    expect(await workspace.run(["list"], { env })).toEqual(first);
    expect(first.exitCode).toBe(0);
  });

  test("list --json, from a subfolder with -c", async () => {
    const result = await workspace.run(["list", "--json", "-c", "quick.hcl"], {
      cwd: `${workspace.folder}/pipelines`,
    });
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      {
        name: "quick",
        type: "providers",
        input: { kind: "builtin", provider: "counter" },
        output: { kind: "path", provider: "../bin/sink" },
      },
    ]);
  });

  test("a path with spaces and a task name beyond ASCII", async () => {
    workspace.write(
      "my pipelines/é.hcl",
      'task "café-ünï" {\n  input {\n    provider = "counter"\n  }\n  output {\n    provider = "null"\n  }\n}\n',
    );
    expect(await workspace.run(["list", "-c", "my pipelines/é.hcl"])).toEqual(
      ok("café-ünï  counter  ->  null\n"),
    );
  });

  test("DSTREAM_CONFIG names the file", async () => {
    const result = await workspace.run(["list"], {
      env: { DSTREAM_CONFIG: "pipelines/quick.hcl" },
    });
    expect(result).toEqual(ok("quick  counter  ->  ../bin/sink\n"));
  });

  test("validate passes every DStream user example with its env vars set", async () => {
    expect(await workspace.run(["validate"], { env: userExampleEnv })).toEqual(
      ok("dstream.hcl: 5 tasks valid\n"),
    );
  });

  test("validate without them: every missing variable, exit 2", async () => {
    const result = await workspace.run(["validate"]);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.trimEnd().split("\n")).toEqual(
      [
        ["31:7", "sql-to-kafka", "input", "connection_string", "DATABASE_CONNECTION_STRING"],
        ["41:7", "sql-to-kafka", "output", "bootstrap_servers", "KAFKA_SERVERS"],
        ["55:7", "api-to-s3", "input", "auth_token", "API_TOKEN"],
        ["94:7", "ingest-with-lock", "input", "db_connection_string", "DB_CONN"],
      ].map(
        ([where, task, role, key, name]) =>
          `error: dstream.hcl:${where}: task "${task}" › ${role} › config › ${key}: environment variable ${name} is not set (use {{ env "${name}" | default "..." }} to make it optional)`,
      ),
    );
  });

  test.each([["list"], ["validate"], ["version"]])("%s --help shows examples", async (command) => {
    const result = await workspace.run([command, "--help"]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain(`USAGE dstream ${command}`);
    expect(result.stdout).toContain(`\nEXAMPLES\n\n  dstream ${command}\n`);
  });

  test("--help lists the commands", async () => {
    const result = await workspace.run(["--help"]);
    expect(result.exitCode).toBe(0);
    for (const command of ["list", "validate", "version"]) {
      expect(result.stdout).toMatch(new RegExp(`\\n  ${command} +\\S`));
    }
  });

  test.each([
    [["nope"], 'unknown command "nope" (see dstream --help)'],
    [["list", "--verbose"], "unknown flag --verbose for dstream list (see dstream list --help)"],
    [["list", "-c", "missing.hcl"], "config file not found: tried missing.hcl (from --config)"],
    [["validate", "-c", "pipelines"], "config file pipelines is not a file (from --config)"],
    [
      ["--log-level", "trace", "version"],
      'invalid log level "trace" (use debug, info, warn, error)',
    ],
  ])("%j: one line, exit 2", async (argv, message) => {
    expect(await workspace.run(argv)).toEqual(usageError(message));
  });

  test("a syntax error: file:line:col, no stack trace", async () => {
    workspace.write("broken.hcl", 'task "a" {\n  input {\n    provider = \n  }\n}\n');
    expect(await workspace.run(["validate", "-c", "broken.hcl"])).toEqual(
      usageError("broken.hcl:3:16: Invalid expression"),
    );
  });

  test("invalid UTF-8: its line and column, not a U+FFFD passed on", async () => {
    const path = workspace.write("latin1.hcl", "");
    writeFileSync(
      path,
      Buffer.concat([
        Buffer.from(
          'task "a" {\n  input {\n    provider = "counter"\n  }\n  output {\n    provider = "caf',
        ),
        Buffer.from([0xe9]),
        Buffer.from('"\n  }\n}\n'),
      ]),
    );
    expect(await workspace.run(["validate", "-c", "latin1.hcl"])).toEqual(
      usageError("latin1.hcl:6:20: invalid UTF-8 (0xe9): save the file as UTF-8"),
    );
  });

  test("a schema error: every problem, no stack trace", async () => {
    workspace.write("invalid.hcl", 'task "a" {\n  input {\n    provider = "console"\n  }\n}\n');
    expect(await workspace.run(["validate", "-c", "invalid.hcl"])).toEqual(
      usageError(
        'invalid.hcl:1:1: task "a" › output: output block is missing',
        'invalid.hcl:3:5: task "a" › input › provider: built-in provider "console" cannot be an input',
      ),
    );
  });

  test("--log-format json logs are JSON lines on stderr, stdout untouched", async () => {
    const result = await workspace.run([
      "list",
      "-c",
      "pipelines/quick.hcl",
      "--log-level=debug",
      "--log-format=json",
    ]);
    expect(result.stdout).toBe("quick  counter  ->  ../bin/sink\n");
    for (const line of result.stderr.trimEnd().split("\n")) {
      expect(JSON.parse(line).level).toBe("debug");
    }
  });
});

describe("stdout closed or full", () => {
  /** Runs the binary with stdout on a pipe whose reader has gone, as `| head -1` leaves it. */
  const intoClosedPipe = (args: string[]) =>
    runProcess(
      [
        "bash",
        "-c",
        // The reader (true) exits at once; the pause makes sure it is gone before dstream writes.
        // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's own syntax.
        '(sleep 0.5; exec "$0" "$@") | true; exit "${PIPESTATUS[0]}"',
        workspace.binary,
        ...args,
      ],
      { cwd: workspace.folder },
    );
  const intoFullDisk = (args: string[]) =>
    runProcess(["bash", "-c", 'exec "$0" "$@" >/dev/full', workspace.binary, ...args], {
      cwd: workspace.folder,
    });

  test.each([[["list", "--json", "-c", "pipelines/quick.hcl"]], [["list"]], [["version"]]])(
    "%j into a closed pipe ends quietly, exit 0, as the reader chose to stop",
    async (args) => {
      expect(await intoClosedPipe(args)).toEqual(ok(""));
    },
  );

  /** Runs the binary with its stdout closed (`>&-`), or sent to /dev/null. */
  const withStdout = (redirect: ">&-" | ">/dev/null", args: string[]) =>
    runProcess(["bash", "-c", `exec "$0" "$@" ${redirect}`, workspace.binary, ...args], {
      cwd: workspace.folder,
    });
  const closedStdout = {
    exitCode: 1,
    stdout: "",
    stderr:
      "error: cannot write to stdout: it is closed; redirect it (>/dev/null) to discard the output\n",
    timedOut: false,
  };

  test
    .skipIf(process.platform !== "linux")
    .each([
      [["version"]],
      [["list"]],
      [["validate", "-c", "pipelines/quick.hcl"]],
      [["run", "counted", "-c", "pipelines/counted.hcl", "--quiet"]],
    ])("%j with stdout closed: one error line, exit 1, as cat fails", async (args) => {
    workspace.write(
      "pipelines/counted.hcl",
      'task "counted" {\n  input {\n    provider = "counter"\n    config { maxCount = 3 }\n  }\n  output {\n    provider = "console"\n  }\n}\n',
    );
    expect(await withStdout(">&-", args)).toEqual(closedStdout);
    expect((await withStdout(">/dev/null", args)).exitCode).toBe(0);
  });

  test.skipIf(process.platform !== "linux").each([
    [[], /^dstream \S+: declarative data streaming pipelines\n[\s\S]*\nUSAGE dstream <command>/],
    [["providers"], /USAGE/],
    [["frobnicate"], /^error: unknown command "frobnicate" \(see dstream --help\)\n$/],
  ])("%j with stdout closed: the usage error comes first (stderr, exit 2)", async (args, said) => {
    const result = await withStdout(">&-", args);
    expect({ exitCode: result.exitCode, stdout: result.stdout }).toEqual({
      exitCode: 2,
      stdout: "",
    });
    expect(result.stderr).toMatch(said);
    expect(result.stderr).not.toContain("stdout: it is closed");
  });

  test("a failing command into a closed pipe keeps its own exit code", async () => {
    expect(await intoClosedPipe(["list", "-c", "missing.hcl"])).toEqual(
      usageError("config file not found: tried missing.hcl (from --config)"),
    );
  });

  test
    .skipIf(!existsSync("/dev/full"))
    .each([[["version"]], [["list", "--json"]], [["validate", "-c", "pipelines/quick.hcl"]]])(
    "%j into a full disk: one error line, exit 1",
    async (args) => {
      expect(await intoFullDisk(args)).toEqual({
        exitCode: 1,
        stdout: "",
        stderr: "error: cannot write to stdout: ENOSPC: no space left on device, write\n",
        timedOut: false,
      });
    },
  );
});
