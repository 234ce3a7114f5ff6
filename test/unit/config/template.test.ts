// {{ }} templates in config strings: env, default, required, now, date, upper, lower, pipelines.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { renderTemplate, type TemplateError } from "../../../src/config/template.ts";
import { fixedNow, loadProblems, loadTasks, taskWithInputConfig } from "./harness.ts";

// now and date read the local zone; pin it so expectations hold on any machine.
const savedZone = process.env.TZ;
beforeAll(() => {
  process.env.TZ = "UTC";
});
afterAll(() => {
  if (savedZone === undefined) delete process.env.TZ;
  else process.env.TZ = savedZone;
});

const env = { NAME: "orders", EMPTY: "", MIXED: "MiXeD" };
const renderResult = (text: string) => renderTemplate(text, { env, now: fixedNow });

function render(text: string): string {
  const result = renderResult(text);
  expect(result.errors).toEqual([]);
  return result.text;
}

/** The one error of `text`. */
function renderError(text: string): TemplateError {
  const { errors } = renderResult(text);
  expect(errors).toHaveLength(1);
  return errors[0] as TemplateError;
}

describe("renderTemplate", () => {
  test.each([
    ["text without actions", "plain {not} a template", "plain {not} a template"],
    ["env with double quotes", '{{ env "NAME" }}', "orders"],
    ["env with backticks", "{{ env `NAME` }}", "orders"],
    ["no spaces", '{{env "NAME"}}', "orders"],
    ["surrounding text", 'db-{{ env "NAME" }}-x', "db-orders-x"],
    ["several actions", '{{ env "NAME" }}/{{ env "MIXED" }}', "orders/MiXeD"],
    ["a set variable ignores the default", '{{ env "NAME" | default "y" }}', "orders"],
    ["an unset variable takes the default", '{{ env "NOPE" | default "y" }}', "y"],
    ["an empty variable takes the default", '{{ env "EMPTY" | default "y" }}', "y"],
    ["default in call form", '{{ default "y" (env "NOPE") }}', "y"],
    ["an empty set variable renders empty", '[{{ env "EMPTY" }}]', "[]"],
    ["required names an env var", '{{ required "NAME" }}', "orders"],
    [
      "required with a message passes a value through",
      '{{ env "NAME" | required "set NAME" }}',
      "orders",
    ],
    ["upper", '{{ env "MIXED" | upper }}', "MIXED"],
    ["lower", '{{ lower "MiXeD" }}', "mixed"],
    ["a pipeline starting with a literal", '{{ "MiXeD" | lower }}', "mixed"],
    ["a parenthesised pipeline", '{{ (env "MIXED") | upper }}', "MIXED"],
    ["three stages", '{{ env "NOPE" | default "MiX" | lower }}', "mix"],
    // As in Go/Sprig, where an unset variable is "": default catches it anywhere before it.
    [
      "an unset variable through lower, then default",
      '{{ env "NOPE" | lower | default "z" }}',
      "z",
    ],
    ["through two functions", '{{ env "NOPE" | upper | lower | default "z" }}', "z"],
    ["default of a parenthesised pipeline", '{{ default "z" (env "NOPE" | lower) }}', "z"],
    ["default of a nested call", '{{ default "z" (upper (env "NOPE")) }}', "z"],
    ["an empty set variable through upper", '[{{ env "EMPTY" | upper }}]', "[]"],
    ["a number literal", "{{ 42 }}", "42"],
    ["parentheses nested to the limit", `{{ ${"lower (".repeat(100)}"X"${")".repeat(100)} }}`, "x"],
    ["a raw string with a quote", '{{ `a"b` }}', 'a"b'],
    ["now is RFC 3339 in the local zone", "{{ now }}", "2026-03-04T05:06:07Z"],
    ["date of now", '{{ date "2006-01-02" }}', "2026-03-04"],
    ["date of a piped now", '{{ now | date "Jan _2 15:04:05.000" }}', "Mar  4 05:06:07.089"],
    ["date in a path", 'events/{{ date "2006/01/02" }}/', "events/2026/03/04/"],
    ["trim markers", 'a  {{- "b" -}}  c', "abc"],
    ["a closing brace inside a string", '{{ "}}" }}', "}}"],
  ])("%s", (_name, text, expected) => {
    expect(render(text)).toBe(expected);
  });

  test.each([
    [
      "an unknown function",
      "{{ nope 1 }}",
      'unknown template function "nope" (known: env, default, required, now, date, upper, lower)',
    ],
    ["an unclosed action", '{{ env "X" ', 'unclosed template action "{{ env "X" " (missing "}}")'],
    ["an unterminated string", '{{ env "X }}', "unterminated string in template action"],
    ["an empty action", "{{ }}", "empty template action"],
    ["a missing function after a pipe", '{{ env "NAME" | }}', "empty template action"],
    [
      "a stray closing parenthesis",
      '{{ env "NAME" | ) }}',
      'expected a function name in template action, found ")"',
    ],
    ["a missing closing parenthesis", '{{ upper (env "NAME" }}', 'missing ")" in template action'],
    ["two literals", '{{ "a" "b" }}', 'unexpected ""b"" in template action'],
    ["piping into a literal", '{{ env "NAME" | "b" }}', "only a function can take a piped value"],
    ["an invalid character", "{{ env @ }}", 'unexpected "@" in template action'],
    ["an invalid escape", '{{ "\\q" }}', 'invalid string "\\q" in template action'],
    ["too many arguments", '{{ env "A" "B" }}', "template function env takes 1 argument, got 2"],
    ["too few arguments", "{{ date }}", "template function date takes 1 to 2 arguments, got 0"],
    ["arguments to now", "{{ now 1 }}", "template function now takes 0 arguments, got 1"],
    [
      "a time where text is expected",
      "{{ upper now }}",
      "template function upper expects text, got a time",
    ],
    [
      "a number as an env var's name",
      "{{ env 5 }}",
      'template function env takes a variable name in quotes, got the number 5: {{ env "NAME" }}',
    ],
    [
      "a number as a required env var's name",
      "{{ required 5 }}",
      'template function required takes a variable name in quotes, got the number 5: {{ required "NAME" }}',
    ],
    [
      "text where a time is expected",
      '{{ date "2006" "x" }}',
      "template function date expects a time, as from now",
    ],
    [
      "parentheses nested past the limit",
      `{{ ${"upper (".repeat(101)}"x"${")".repeat(101)} }}`,
      "template action nested too deeply",
    ],
    [
      "required of an unset variable",
      '{{ required "NOPE" }}',
      "environment variable NOPE is required",
    ],
    [
      "required of an empty variable",
      '{{ required "EMPTY" }}',
      "environment variable EMPTY is required",
    ],
    [
      "required with a message",
      '{{ env "NOPE" | required "set NOPE to the DSN" }}',
      "set NOPE to the DSN",
    ],
    [
      "an unset variable passed on with nothing to replace it",
      '{{ env "NOPE" | upper }}',
      'environment variable NOPE is not set (use {{ env "NOPE" | default "..." }} to make it optional)',
    ],
    [
      "an unset variable",
      '{{ env "NOPE" }}',
      'environment variable NOPE is not set (use {{ env "NOPE" | default "..." }} to make it optional)',
    ],
  ])("%s is an error", (_name, text, message) => {
    expect(renderError(text).message).toBe(message);
  });

  test.each([
    ['{{ env "NOPE" }}', "NOPE"],
    ['{{ env "NOPE" | upper }}', "NOPE"],
    ['{{ required "NOPE" }}', "NOPE"],
    ['{{ env "NOPE" | required "set NOPE" }}', "NOPE"],
    ['{{ env "EMPTY" | required "set EMPTY" }}', "EMPTY"],
    ['{{ "" | required "set it" }}', undefined],
    ["{{ nope }}", undefined],
  ])("%s: the environment is at fault only when a variable is named", (text, variable) => {
    expect(renderError(text).missingVariable).toBe(variable);
  });

  test("every action is rendered: each unset variable is its own error", () => {
    const { errors } = renderResult('{{ env "Q" }} and {{ env "R" }} and {{ nope }}');
    expect(errors.map((error) => [error.message, error.missingVariable])).toEqual([
      [
        'environment variable Q is not set (use {{ env "Q" | default "..." }} to make it optional)',
        "Q",
      ],
      [
        'environment variable R is not set (use {{ env "R" | default "..." }} to make it optional)',
        "R",
      ],
      [
        'unknown template function "nope" (known: env, default, required, now, date, upper, lower)',
        undefined,
      ],
    ]);
  });
});

describe("templates in the loaded config", () => {
  const tricky = {
    QUOTES: 'say "hi" \\ bye',
    NEWLINES: "line1\nline2\r\n",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an env value that looks like HCL.
    DOLLAR: "${var.secret} $${x} %{ if }",
    BRACES: '{{ env "QUOTES" }} }}',
    HCL: 'x = 1\n}\ntask "evil" {',
  };

  test("env values come through verbatim, never parsed again as HCL or template", async () => {
    const body = Object.keys(tricky)
      .map((name) => `${name.toLowerCase()} = "{{ env \\"${name}\\" }}"`)
      .join("\n");
    const [task] = await loadTasks(taskWithInputConfig(body), { env: tricky });
    expect(task?.input.config).toEqual({
      quotes: tricky.QUOTES,
      newlines: tricky.NEWLINES,
      dollar: tricky.DOLLAR,
      braces: tricky.BRACES,
      hcl: tricky.HCL,
    });
  });

  test("both quote forms as DStream users write them, in lists and objects too", async () => {
    const body = [
      'a = "{{ env \\"NAME\\" }}"',
      'b = "{{ env `NAME` }}"',
      'l = ["{{ env \\"NAME\\" }}", 1]',
      'o = { k = "{{ env \\"NAME\\" | upper }}" }',
      'n {\n  deep = "{{ env `NAME` | default \\"x\\" }}"\n}',
    ].join("\n");
    const [task] = await loadTasks(taskWithInputConfig(body), { env });
    expect(task?.input.config).toEqual({
      a: "orders",
      b: "orders",
      l: ["orders", 1],
      o: { k: "ORDERS" },
      n: { deep: "orders" },
    });
  });

  test("$${ escapes keep their braces and are not templates", async () => {
    const [task] = await loadTasks(taskWithInputConfig('s = "$${HOME} {{ env \\"NAME\\" }}"'), {
      env,
    });
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text after unescaping.
    expect(task?.input.config).toEqual({ s: "${HOME} orders" });
  });

  test("a missing variable names the variable and the attribute's path", async () => {
    const body = 'n {\n  l = ["ok", "{{ env \\"DSN\\" }}"]\n}';
    expect(await loadProblems(taskWithInputConfig(body))).toEqual([
      'dstream.hcl:6:3: task "t" › input › config › n › l[1]: environment variable DSN is not set (use {{ env "DSN" | default "..." }} to make it optional)',
    ]);
  });

  test("template errors carry their path; every one is reported", async () => {
    const body = 'a = "{{ nope }}"\nb = "{{ env \\"X\\""\nc = "{{ upper now }}"';
    expect(await loadProblems(taskWithInputConfig(body))).toEqual([
      'dstream.hcl:5:1: task "t" › input › config › a: unknown template function "nope" (known: env, default, required, now, date, upper, lower)',
      'dstream.hcl:6:1: task "t" › input › config › b: unclosed template action "{{ env "X"" (missing "}}")',
      'dstream.hcl:7:1: task "t" › input › config › c: template function upper expects text, got a time',
    ]);
  });

  test("every unset variable of one string is named, each on its own line", async () => {
    const body = 'h = "{{ env \\"Q\\" }} and {{ env \\"R\\" }}"';
    expect(await loadProblems(taskWithInputConfig(body))).toEqual(
      ["Q", "R"].map(
        (name) =>
          `dstream.hcl:5:1: task "t" › input › config › h: environment variable ${name} is not set (use {{ env "${name}" | default "..." }} to make it optional)`,
      ),
    );
  });

  test("required with a message is only an unset variable: list (requireEnv off) keeps it as written", async () => {
    const body = 'pw = "{{ env \\"PW\\" | required \\"set PW\\" }}"';
    const [task] = await loadTasks(taskWithInputConfig(body), { requireEnv: false });
    expect(task?.input.config).toEqual({ pw: '{{ env "PW" | required "set PW" }}' });
    expect(await loadProblems(taskWithInputConfig(body))).toEqual([
      'dstream.hcl:5:1: task "t" › input › config › pw: set PW',
    ]);
  });

  test("templates render in provider attributes too", async () => {
    const source =
      'task "t" {\n  input {\n    provider_ref = "ghcr.io/acme/in:{{ env \\"TAG\\" }}"\n  }\n  output {\n    provider_path = "./bin/{{ env `OUT` }}"\n  }\n}\n';
    const [task] = await loadTasks(source, { env: { TAG: "v9", OUT: "sink" } });
    expect(task?.input.source).toMatchObject({ reference: { tag: "v9" } });
    expect(task?.output.source).toEqual({
      kind: "path",
      path: "/work/cfg/bin/sink",
      written: "./bin/sink",
    });
  });

  test("with requireEnv off (list), an unset variable leaves the template as written", async () => {
    const [task] = await loadTasks(taskWithInputConfig('a = "{{ env \\"DSN\\" }}"'), {
      requireEnv: false,
    });
    expect(task?.input.config).toEqual({ a: '{{ env "DSN" }}' });
  });

  test("with requireEnv off, other template errors are still errors", async () => {
    expect(
      await loadProblems(taskWithInputConfig('a = "{{ nope }}"'), { requireEnv: false }),
    ).toEqual([
      'dstream.hcl:5:1: task "t" › input › config › a: unknown template function "nope" (known: env, default, required, now, date, upper, lower)',
    ]);
  });
});
