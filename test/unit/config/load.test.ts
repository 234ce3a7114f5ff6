// The ways to load a config: every task (validate), one task (run and the lifecycle commands), a
// listing (list), and every task without secrets in config (providers pull).
import { describe, expect, test } from "bun:test";
import { parseConfig, parseTask, parseTaskList } from "../../../src/config/load.ts";
import { DstreamError } from "../../../src/errors.ts";
import { builtinProviderNames } from "../../../src/protocol/builtins.ts";
import { fixedNow, location } from "./harness.ts";

/** The built-ins as error messages list them. */
const BUILTINS = builtinProviderNames.join(", ");

const task = (name: string, input: string, output: string) =>
  `task "${name}" {\n  input {\n    ${input}\n  }\n  output {\n    ${output}\n  }\n}\n`;

const first = task(
  "first",
  'provider = "counter"\n    config {\n      dsn = "{{ env \\"FIRST_DSN\\" }}"\n    }',
  'provider = "console"',
);
const second = task(
  "second",
  'provider_ref = "ghcr.io/acme/in:{{ env \\"TAG\\" }}"\n    config {\n      pw = "{{ env \\"PW\\" | required \\"set PW\\" }}"\n      odd = "{{ nope }}"\n    }',
  'provider = "{{ env \\"OUT\\" }}"',
);
const source = first + second;

async function problemsOf(load: Promise<unknown>): Promise<string[]> {
  try {
    await load;
  } catch (error) {
    if (error instanceof DstreamError) return [...error.problems];
    throw error;
  }
  throw new Error("expected the config to be rejected");
}

const notSet = (name: string) =>
  `environment variable ${name} is not set (use {{ env "${name}" | default "..." }} to make it optional)`;
const unknownNope =
  'unknown template function "nope" (known: env, default, required, now, date, upper, lower)';

describe("one task (run, init, plan, status, destroy)", () => {
  const load = (name: string, env: Record<string, string>) =>
    parseTask(source, location, { task: name, env, now: fixedNow });

  test("needs only its own env vars; the other task's templates are not rendered", async () => {
    const { task: loaded } = await load("first", { FIRST_DSN: "postgres://db" });
    expect(loaded.name).toBe("first");
    expect(loaded.input.config).toEqual({ dsn: "postgres://db" });
  });

  test("its own unset variable is an error; the other task's problems of templates are not", async () => {
    expect(await problemsOf(load("first", {}))).toEqual([
      `dstream.hcl:5:7: task "first" › input › config › dsn: ${notSet("FIRST_DSN")}`,
    ]);
  });

  test("every template problem of the task run, each once: no schema error for an unrendered value", async () => {
    expect(await problemsOf(load("second", {}))).toEqual([
      `dstream.hcl:14:5: task "second" › input › provider_ref: ${notSet("TAG")}`,
      'dstream.hcl:16:7: task "second" › input › config › pw: set PW',
      `dstream.hcl:17:7: task "second" › input › config › odd: ${unknownNope}`,
      `dstream.hcl:21:5: task "second" › output › provider: ${notSet("OUT")}`,
    ]);
  });

  test("the other tasks still get syntax and schema checks", async () => {
    const broken = task("broken", 'provider = "countr"', 'provider = "console"');
    expect(
      await problemsOf(
        parseTask(first + broken, location, { task: "first", env: { FIRST_DSN: "x" } }),
      ),
    ).toEqual([
      `dstream.hcl:14:5: task "broken" › input › provider: unknown built-in provider "countr" (built-ins: ${BUILTINS})`,
    ]);
  });

  test("an unknown task names the ones there are", async () => {
    const error = await load("third", {}).catch((caught) => caught);
    expect(error).toBeInstanceOf(DstreamError);
    expect(error.code).toBe("TASK_NOT_FOUND");
    expect(error.message).toBe('task "third" not found in dstream.hcl (tasks: first, second)');
  });
});

describe("a listing (list)", () => {
  const listable = first + second.replace('\n      odd = "{{ nope }}"', "");

  test("needs no env var: unrendered templates stay as written, in provider_ref and provider too", async () => {
    const { tasks } = await parseTaskList(listable, location, { env: {} });
    expect(tasks).toEqual([
      {
        name: "first",
        type: "providers",
        input: { kind: "builtin", provider: "counter" },
        output: { kind: "builtin", provider: "console" },
      },
      {
        name: "second",
        type: "providers",
        input: { kind: "ref", provider: 'ghcr.io/acme/in:{{ env "TAG" }}' },
        output: { kind: "builtin", provider: '{{ env "OUT" }}' },
      },
    ]);
  });

  test("with the env set, shows rendered values", async () => {
    const { tasks } = await parseTaskList(listable, location, {
      env: { TAG: "v2", OUT: "null" },
    });
    expect(tasks[1]?.input.provider).toBe("ghcr.io/acme/in:v2");
    expect(tasks[1]?.output.provider).toBe("null");
  });

  test("a rendered value is still checked, and other template problems are still errors", async () => {
    expect(
      await problemsOf(parseTaskList(source, location, { env: { TAG: "Bad Tag", OUT: "x" } })),
    ).toEqual([
      "dstream.hcl:14:5: task \"second\" › input › provider_ref: invalid OCI reference \"ghcr.io/acme/in:Bad Tag\": a tag is up to 128 letters, digits, '_', '.' or '-' and cannot start with '.' or '-'",
      `dstream.hcl:17:7: task "second" › input › config › odd: ${unknownNope}`,
      `dstream.hcl:21:5: task "second" › output › provider: unknown built-in provider "x" (built-ins: ${BUILTINS})`,
    ]);
  });
});

describe("every task", () => {
  test("validate: every template problem of every task, each once", async () => {
    expect(await problemsOf(parseConfig(source, location, { env: {} }))).toEqual([
      `dstream.hcl:5:7: task "first" › input › config › dsn: ${notSet("FIRST_DSN")}`,
      `dstream.hcl:14:5: task "second" › input › provider_ref: ${notSet("TAG")}`,
      'dstream.hcl:16:7: task "second" › input › config › pw: set PW',
      `dstream.hcl:17:7: task "second" › input › config › odd: ${unknownNope}`,
      `dstream.hcl:21:5: task "second" › output › provider: ${notSet("OUT")}`,
    ]);
  });

  test("without requireEnv (providers pull): config and provider_path may wait, provider_ref and provider may not", async () => {
    const pathTask = task(
      "p",
      'provider_path = "./bin/{{ env \\"BIN\\" }}"',
      'provider = "console"\n    config {\n      k = "{{ env \\"K\\" }}"\n    }',
    );
    const [loaded] = (await parseConfig(pathTask, location, { env: {}, requireEnv: false })).tasks;
    expect(loaded?.input.source).toEqual({
      kind: "path",
      path: '/work/cfg/bin/{{ env "BIN" }}',
      written: './bin/{{ env "BIN" }}',
    });
    expect(loaded?.output.config).toEqual({ k: '{{ env "K" }}' });
    const withoutOdd = second.replace('\n      odd = "{{ nope }}"', "");
    expect(
      await problemsOf(parseConfig(withoutOdd, location, { requireEnv: false, env: {} })),
    ).toEqual([
      `dstream.hcl:3:5: task "second" › input › provider_ref: ${notSet("TAG")}`,
      `dstream.hcl:9:5: task "second" › output › provider: ${notSet("OUT")}`,
    ]);
  });
});
