// The CLI as a user meets it (from source, a real child process): dispatch, help, usage errors,
// logging flags, and stdout carrying nothing but command output.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commands, hiddenCommands } from "../../../src/cli/commands/index.ts";
import type { AnyCommand } from "../../../src/cli/help.ts";
import { runDstreamSource as dstream, runProcess } from "../../helpers/binary.ts";

const folder = mkdtempSync(join(tmpdir(), "dstream-cli-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
writeFileSync(
  join(folder, "dstream.hcl"),
  'task "one" {\n  input {\n    provider = "counter"\n  }\n  output {\n    provider = "console"\n  }\n}\n',
);
const inFolder = { cwd: folder };
const listOutput = "one  counter  ->  console\n";
/** Starts every ANSI color sequence. */
const ESC = "\u001b[";

describe("dispatch", () => {
  test("no command prints the usage on stderr, exit 2", async () => {
    const result = await dstream([], inFolder);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toStartWith("dstream ");
    expect(result.stderr).toContain("USAGE dstream <command> [flags]");
  });

  test.each([["--help"], ["-h"], ["help"]])(
    "%s prints the usage with every command on stdout",
    async (flag) => {
      const result = await dstream([flag], inFolder);
      expect(result.exitCode).toBe(0);
      expect(result.stderr).toBe("");
      for (const name of Object.keys(commands)) {
        if (hiddenCommands.has(name)) expect(result.stdout).not.toContain(name);
        else expect(result.stdout).toMatch(new RegExp(`\\n  ${name} +\\S`));
      }
    },
  );

  test.each([
    [["nope"], 'error: unknown command "nope" (see dstream --help)'],
    [
      ["-c", "dstream.hcl", "list"],
      'error: unknown command "-c" (the command comes first: dstream <command> -c ...)',
    ],
    [["list", "--config="], "error: --config is empty: give the config file's path"],
    [["list", "--nope"], "error: unknown flag --nope for dstream list (see dstream list --help)"],
    [
      ["validate", "-x"],
      "error: unknown flag -x for dstream validate (see dstream validate --help)",
    ],
    [
      ["version", "--config", "x"],
      "error: unknown flag --config for dstream version (see dstream version --help)",
    ],
    [
      ["list", "extra"],
      'error: unexpected argument "extra" for dstream list (see dstream list --help)',
    ],
    [["list", "-c"], "error: flag -c needs a value (see dstream list --help)"],
    [["list", "--log-level"], "error: flag --log-level needs a value"],
    [
      ["--log-level", "loud", "list"],
      'error: invalid log level "loud" (use debug, info, warn, error)',
    ],
    [["list", "--log-format=xml"], 'error: invalid log format "xml" (use pretty, json)'],
    [
      ["validate", "-c", "two\nlines\r\t\u001b[2J\u0007.hcl"],
      "error: config file not found: tried two\\nlines\\r\\t\\u001b[2J\\u0007.hcl (from --config)",
    ],
  ])("%j is one line on stderr, exit 2", async (argv, message) => {
    const result = await dstream(argv, inFolder);
    expect(result).toEqual({ exitCode: 2, stdout: "", stderr: `${message}\n`, timedOut: false });
  });

  test("--version is dstream version", async () => {
    const [flag, command] = await Promise.all([dstream(["--version"]), dstream(["version"])]);
    expect(flag.exitCode).toBe(0);
    expect(flag.stdout).toBe(command.stdout);
  });
});

/** Every command of the table, with its subcommands, as argv prefixes. */
async function commandPaths(): Promise<string[][]> {
  const paths: string[][] = [];
  const visit = async (command: AnyCommand, path: string[]) => {
    paths.push(path);
    const raw = command.subCommands;
    const subCommands = (typeof raw === "function" ? await raw() : await raw) as
      | Record<string, AnyCommand | (() => Promise<AnyCommand>)>
      | undefined;
    for (const [name, sub] of Object.entries(subCommands ?? {})) {
      const resolved = typeof sub === "function" ? await sub() : await sub;
      await visit(resolved, [...path, name]);
    }
  };
  for (const [name, load] of Object.entries(commands)) await visit((await load()).default, [name]);
  return paths;
}

describe("--help on every command", async () => {
  const paths = await commandPaths();
  test.each(paths.map((path) => [path.join(" "), path]))(
    "dstream %s --help shows usage and examples on stdout",
    async (_name, path) => {
      const result = await dstream([...(path as string[]), "--help"], inFolder);
      expect(result.exitCode).toBe(0);
      expect(result.stderr).toBe("");
      expect(result.stdout).toContain("USAGE dstream");
      // Examples are indented command lines that run dstream (some pipe into it).
      const examples = result.stdout.split("\nEXAMPLES\n\n")[1]?.trimEnd().split("\n") ?? [];
      expect(examples.length).toBeGreaterThan(0);
      for (const example of examples) expect(example).toMatch(/^ {2}(?:\S.*\s)?dstream\b/);
      expect(result.stdout).not.toContain(ESC);
    },
  );
});

describe("logging", () => {
  test("the default level (info) says nothing on stderr for a quiet command", async () => {
    expect(await dstream(["list"], inFolder)).toEqual({
      exitCode: 0,
      stdout: listOutput,
      stderr: "",
      timedOut: false,
    });
  });

  test("--log-level debug logs on stderr; stdout is unchanged", async () => {
    const result = await dstream(["list", "--log-level", "debug"], inFolder);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(listOutput);
    expect(result.stderr).toContain(`read ${join(folder, "dstream.hcl")}: 1 tasks`);
  });

  test("global flags may come before the command, with =", async () => {
    const result = await dstream(["--log-level=debug", "list"], inFolder);
    expect(result.stdout).toBe(listOutput);
    expect(result.stderr).toContain("dstream 0.1.0: list");
  });

  test("DSTREAM_LOG_LEVEL sets the level; the flag wins over it", async () => {
    const env = { DSTREAM_LOG_LEVEL: "debug" };
    const fromEnv = await dstream(["list"], { ...inFolder, env });
    expect(fromEnv.stderr).toContain("dstream 0.1.0: list");
    const flagWins = await dstream(["list", "--log-level", "error"], { ...inFolder, env });
    expect(flagWins.stderr).toBe("");
    expect(flagWins.stdout).toBe(listOutput);
  });

  test("an invalid DSTREAM_LOG_LEVEL is a usage error", async () => {
    const result = await dstream(["list"], { ...inFolder, env: { DSTREAM_LOG_LEVEL: "verbose" } });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(
      'error: invalid log level "verbose" (use debug, info, warn, error)\n',
    );
  });

  test("--log-format json writes one JSON object per stderr line", async () => {
    const result = await dstream(
      ["list", "--log-level", "debug", "--log-format", "json"],
      inFolder,
    );
    expect(result.stdout).toBe(listOutput);
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) {
      const entry = JSON.parse(line);
      expect(Object.keys(entry)).toEqual(["time", "level", "message"]);
      expect(entry.level).toBe("debug");
      expect(Number.isNaN(Date.parse(entry.time))).toBe(false);
    }
  });

  test("errors follow the format too: DSTREAM_LOG_FORMAT=json", async () => {
    const result = await dstream(["list", "-c", "gone.hcl"], {
      ...inFolder,
      env: { DSTREAM_LOG_FORMAT: "json" },
    });
    expect(result.exitCode).toBe(2);
    const entry = JSON.parse(result.stderr);
    expect(entry).toMatchObject({
      level: "error",
      message: "config file not found: tried gone.hcl (from --config)",
    });
  });

  test("every problem of an invalid config is its own JSON line", async () => {
    writeFileSync(join(folder, "two-errors.hcl"), 'task "a" {\n}\n');
    const result = await dstream(
      ["validate", "-c", "two-errors.hcl", "--log-format=json"],
      inFolder,
    );
    expect(result.exitCode).toBe(2);
    expect(
      result.stderr
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line).message),
    ).toEqual([
      'two-errors.hcl:1:1: task "a" › input: input block is missing',
      'two-errors.hcl:1:1: task "a" › output: output block is missing',
    ]);
  });

  test("--log-level debug adds the error's stack after the one-line error", async () => {
    const result = await dstream(["list", "-c", "gone.hcl", "--log-level", "debug"], inFolder);
    expect(result.exitCode).toBe(2);
    const lines = result.stderr.split("\n");
    expect(lines).toContain("error: config file not found: tried gone.hcl (from --config)");
    expect(result.stderr).toContain("at findConfigFile");
  });

  test("without debug, an error is one line with no stack", async () => {
    const result = await dstream(["list", "-c", "gone.hcl"], inFolder);
    expect(result.stderr).toBe("error: config file not found: tried gone.hcl (from --config)\n");
  });

  // Colors appear only on a terminal: `script` gives the child one, as a user's shell would.
  // Its -qec flags are util-linux's; BSD script (macOS) and Windows have no such command line.
  const onTerminal = (env: Record<string, string>) =>
    runProcess(
      [
        "script",
        "-qec",
        `${process.execPath} ${join(import.meta.dir, "../../../src/cli/main.ts")} list --log-level debug`,
        "/dev/null",
      ],
      { cwd: folder, env },
    );

  test.skipIf(process.platform !== "linux")(
    "on a terminal, pretty logs are colored, and NO_COLOR turns colors off",
    async () => {
      const colored = await onTerminal({ TERM: "xterm-256color" });
      expect(colored.stdout).toContain("read ");
      expect(colored.stdout).toContain(ESC);
      const plain = await onTerminal({ TERM: "xterm-256color", NO_COLOR: "1" });
      expect(plain.stdout).toContain("read ");
      expect(plain.stdout).not.toContain(ESC);
    },
  );
});
