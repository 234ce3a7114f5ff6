// dstream list: one line per task in file order, or JSON; config discovery as the user sees it.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runDstreamSource as dstream } from "../../helpers/binary.ts";

const folder = mkdtempSync(join(tmpdir(), "dstream-list-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const task = (name: string, input: string, output: string) =>
  `task "${name}" {\n  input {\n    ${input}\n  }\n  output {\n    ${output}\n  }\n}\n`;

const source = [
  task("zeta", 'provider = "counter"', 'provider = "console"'),
  task(
    "alpha-long-name",
    'provider_ref = "ghcr.io/acme/pg-cdc:v1.2.0"',
    'provider_path = "./bin/sink"',
  ),
  task(
    "mid",
    'provider_path = "../in"\n    config {\n      dsn = "{{ env \\"SECRET_DSN\\" }}"\n    }',
    'provider = "null"',
  ),
].join("\n");
writeFileSync(join(folder, "dstream.hcl"), source);
mkdirSync(join(folder, "other"));
writeFileSync(
  join(folder, "other", "single.hcl"),
  task("only", 'provider = "file"', 'provider = "file"'),
);

describe("dstream list", () => {
  test("one aligned line per task, in file order; needs no secrets (SECRET_DSN is unset)", async () => {
    const result = await dstream(["list"], { cwd: folder });
    expect(result).toEqual({
      exitCode: 0,
      stdout: [
        "zeta             counter                     ->  console",
        "alpha-long-name  ghcr.io/acme/pg-cdc:v1.2.0  ->  ./bin/sink",
        "mid              ../in                       ->  null",
        "",
      ].join("\n"),
      stderr: "",
      timedOut: false,
    });
  });

  test("--json for scripts: the same tasks, in order, with the kind of each provider", async () => {
    const result = await dstream(["list", "--json"], { cwd: folder });
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout.endsWith("\n")).toBe(true);
    expect(JSON.parse(result.stdout)).toEqual([
      {
        name: "zeta",
        type: "providers",
        input: { kind: "builtin", provider: "counter" },
        output: { kind: "builtin", provider: "console" },
      },
      {
        name: "alpha-long-name",
        type: "providers",
        input: { kind: "ref", provider: "ghcr.io/acme/pg-cdc:v1.2.0" },
        output: { kind: "path", provider: "./bin/sink" },
      },
      {
        name: "mid",
        type: "providers",
        input: { kind: "path", provider: "../in" },
        output: { kind: "builtin", provider: "null" },
      },
    ]);
  });

  test("needs no secrets in provider attributes or required templates either", async () => {
    writeFileSync(
      join(folder, "secrets.hcl"),
      task(
        "s",
        'provider_ref = "ghcr.io/acme/in:{{ env \\"TAG\\" }}"\n    config {\n      pw = "{{ env \\"PW\\" | required \\"set PW\\" }}"\n    }',
        'provider = "{{ env \\"OUT\\" }}"',
      ),
    );
    expect(await dstream(["list", "-c", "secrets.hcl"], { cwd: folder })).toEqual({
      exitCode: 0,
      stdout: 's  ghcr.io/acme/in:{{ env "TAG" }}  ->  {{ env "OUT" }}\n',
      stderr: "",
      timedOut: false,
    });
    const json = await dstream(["list", "--json", "-c", "secrets.hcl"], { cwd: folder });
    expect(JSON.parse(json.stdout)[0].input).toEqual({
      kind: "ref",
      provider: 'ghcr.io/acme/in:{{ env "TAG" }}',
    });
  });

  test.each([
    ["-c", ["list", "-c", "other/single.hcl"], {}],
    ["--config", ["list", "--config", "other/single.hcl"], {}],
    ["--config=", ["list", "--config=other/single.hcl"], {}],
    ["DSTREAM_CONFIG", ["list"], { DSTREAM_CONFIG: "other/single.hcl" }],
  ])("reads the file named by %s", async (_name, argv, env) => {
    const result = await dstream(argv, { cwd: folder, env });
    expect(result.stdout).toBe("only  file  ->  file\n");
    expect(result.exitCode).toBe(0);
  });

  test("--config wins over DSTREAM_CONFIG", async () => {
    const result = await dstream(["list", "-c", "other/single.hcl"], {
      cwd: folder,
      env: { DSTREAM_CONFIG: "dstream.hcl" },
    });
    expect(result.stdout).toBe("only  file  ->  file\n");
  });

  test.each([
    [
      "no dstream.hcl here",
      ["list"],
      {},
      "error: config file not found: tried dstream.hcl (the default; set --config or DSTREAM_CONFIG)",
    ],
    [
      "a missing --config file",
      ["list", "-c", "nope.hcl"],
      {},
      "error: config file not found: tried nope.hcl (from --config)",
    ],
    [
      "a missing DSTREAM_CONFIG file",
      ["list"],
      { DSTREAM_CONFIG: "/nowhere/x.hcl" },
      "error: config file not found: tried /nowhere/x.hcl (from DSTREAM_CONFIG)",
    ],
    ["a directory", ["list", "-c", "."], {}, "error: config file . is not a file (from --config)"],
  ])("%s: one line naming the path, exit 2", async (_name, argv, env, message) => {
    const result = await dstream(argv, { cwd: join(folder, "other"), env });
    expect(result).toEqual({ exitCode: 2, stdout: "", stderr: `${message}\n`, timedOut: false });
  });

  test("an invalid file: every problem on its own line, nothing on stdout, exit 2", async () => {
    writeFileSync(join(folder, "bad.hcl"), 'task "a" {\n  kind = 1\n}\nx\n');
    const syntax = await dstream(["list", "-c", "bad.hcl"], { cwd: folder });
    expect(syntax).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: "error: bad.hcl:4:1: Argument or block definition required\n",
      timedOut: false,
    });
    writeFileSync(join(folder, "bad.hcl"), 'task "a" {\n  kind = 1\n}\n');
    const schema = await dstream(["list", "-c", "bad.hcl"], { cwd: folder });
    expect(schema.exitCode).toBe(2);
    expect(schema.stdout).toBe("");
    expect(schema.stderr).toBe(
      [
        'error: bad.hcl:1:1: task "a" › input: input block is missing',
        'error: bad.hcl:1:1: task "a" › output: output block is missing',
        'error: bad.hcl:2:3: task "a" › kind: unknown attribute "kind" (allowed: type, input, output)',
        "",
      ].join("\n"),
    );
  });
});
