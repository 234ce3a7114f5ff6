// dstream validate: exit 0 with a one-line summary, or exit 2 with every problem.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runDstreamSource as dstream } from "../../helpers/binary.ts";
import { userExampleEnv } from "../config/harness.ts";

const folder = mkdtempSync(join(tmpdir(), "dstream-validate-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
const userExamples = resolve(import.meta.dir, "../../fixtures/dstream-user-examples.hcl");

describe("dstream validate", () => {
  test("a valid file: a one-line summary on stdout, exit 0", async () => {
    writeFileSync(
      join(folder, "dstream.hcl"),
      'task "a" {\n  input {\n    provider = "counter"\n  }\n  output {\n    provider = "console"\n  }\n}\n',
    );
    expect(await dstream(["validate"], { cwd: folder })).toEqual({
      exitCode: 0,
      stdout: "dstream.hcl: 1 task valid\n",
      stderr: "",
      timedOut: false,
    });
  });

  test("every task of the DStream user examples passes with its env vars set", async () => {
    const result = await dstream(["validate", "-c", userExamples], { env: userExampleEnv });
    expect(result).toEqual({
      exitCode: 0,
      stdout: `${userExamples}: 5 tasks valid\n`,
      stderr: "",
      timedOut: false,
    });
  });

  test("without them, each missing variable is named with its task and attribute", async () => {
    const result = await dstream(["validate", "-c", "dstream-user-examples.hcl"], {
      cwd: resolve(userExamples, ".."),
    });
    const hint = (name: string) => `(use {{ env "${name}" | default "..." }} to make it optional)`;
    expect(result).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: [
        `error: dstream-user-examples.hcl:31:7: task "sql-to-kafka" › input › config › connection_string: environment variable DATABASE_CONNECTION_STRING is not set ${hint("DATABASE_CONNECTION_STRING")}`,
        `error: dstream-user-examples.hcl:41:7: task "sql-to-kafka" › output › config › bootstrap_servers: environment variable KAFKA_SERVERS is not set ${hint("KAFKA_SERVERS")}`,
        `error: dstream-user-examples.hcl:55:7: task "api-to-s3" › input › config › auth_token: environment variable API_TOKEN is not set ${hint("API_TOKEN")}`,
        `error: dstream-user-examples.hcl:94:7: task "ingest-with-lock" › input › config › db_connection_string: environment variable DB_CONN is not set ${hint("DB_CONN")}`,
        "",
      ].join("\n"),
      timedOut: false,
    });
  });

  test("built-in providers' settings are checked with their own schemas, in every task", async () => {
    writeFileSync(
      join(folder, "builtin.hcl"),
      'task "a" {\n  input {\n    provider = "counter"\n    config { intervall = 5 }\n  }\n  output {\n    provider = "null"\n  }\n}\ntask "b" {\n  input {\n    provider = "file"\n  }\n  output {\n    provider = "console"\n    config { outputFormat = "fancy" }\n  }\n}\n',
    );
    expect(await dstream(["validate", "-c", "builtin.hcl"], { cwd: folder })).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: [
        'error: builtin.hcl:4:14: task "a" › input (counter) › config › intervall: unknown setting (allowed: interval, maxCount)',
        'error: builtin.hcl:11:3: task "b" › input (file) › config › path: is required',
        'error: builtin.hcl:16:14: task "b" › output (console) › config › outputFormat: must be "simple", "structured" or "json"',
        "",
      ].join("\n"),
      timedOut: false,
    });
  });

  test("all problems of all tasks at once, exit 2", async () => {
    writeFileSync(
      join(folder, "bad.hcl"),
      `task "a" {
  input {
    provider = "console"
  }
  output {
    provider_ref = "ghcr.io/acme/out"
    provider_path = "./x"
  }
}
task "a" {
  input {
    provider = "counter"
  }
  output {
    provider = "console"
  }
}
task "b" {
  type = "stream"
  input {
    provider = "counter"
    config {
      when = "{{ date }}"
    }
  }
  output {
    provider = "null"
  }
}
`,
    );
    const result = await dstream(["validate", "-c", "bad.hcl"], { cwd: folder });
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.split("\n")).toEqual([
      'error: bad.hcl:3:5: task "a" › input › provider: built-in provider "console" cannot be an input',
      'error: bad.hcl:5:3: task "a" › output: set exactly one of provider_ref, provider_path, provider',
      'error: bad.hcl:6:5: task "a" › output › provider_ref: invalid OCI reference "ghcr.io/acme/out": add a tag (:v1.2.0) or a digest (@sha256:...)',
      'error: bad.hcl:10:1: task "a": defined more than once (first defined on line 1)',
      'error: bad.hcl:19:3: task "b" › type: type must be "providers" (the only task type)',
      'error: bad.hcl:23:7: task "b" › input › config › when: template function date takes 1 to 2 arguments, got 0',
      "",
    ]);
  });

  test("a provider from an unset variable: one error, the missing variable", async () => {
    writeFileSync(
      join(folder, "unset-provider.hcl"),
      'task "a" {\n  input {\n    provider = "{{ env \\"P\\" }}"\n  }\n  output {\n    provider = "console"\n  }\n}\n',
    );
    expect(await dstream(["validate", "-c", "unset-provider.hcl"], { cwd: folder })).toEqual({
      exitCode: 2,
      stdout: "",
      stderr:
        'error: unset-provider.hcl:3:5: task "a" › input › provider: environment variable P is not set (use {{ env "P" | default "..." }} to make it optional)\n',
      timedOut: false,
    });
  });

  test("a file nested too deeply: one line, exit 2, stdout untouched", async () => {
    writeFileSync(join(folder, "deep.hcl"), `a = ${"[".repeat(50_000)}${"]".repeat(50_000)}\n`);
    expect(await dstream(["validate", "-c", "deep.hcl"], { cwd: folder })).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: "error: deep.hcl:1:505: nested deeper than 500 levels\n",
      timedOut: false,
    });
  });

  test("nesting the count misses overflows Go's stack: still one line, exit 2, no Go crash dump", async () => {
    const levels = 200_000;
    writeFileSync(
      join(folder, "deeper.hcl"),
      `s = "${"]".repeat(levels)}"\na = ${"[".repeat(levels)}${"]".repeat(levels)}\n`,
    );
    expect(await dstream(["validate", "-c", "deeper.hcl"], { cwd: folder })).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: "error: deeper.hcl: nested too deeply for the HCL parser\n",
      timedOut: false,
    });
  });

  test("a syntax error: every diagnostic, exit 2", async () => {
    writeFileSync(join(folder, "syntax.hcl"), 'task "a" {\n  foo bar\n  x == 1\n}\n');
    const result = await dstream(["validate", "-c", "syntax.hcl"], { cwd: folder });
    expect(result).toEqual({
      exitCode: 2,
      stdout: "",
      stderr:
        "error: syntax.hcl:2:10: Invalid block definition\nerror: syntax.hcl:3:3: Argument or block definition required\n",
      timedOut: false,
    });
  });
});
