// Config values become plain JSON once: blocks to objects (lists when repeated), escapes undone,
// HCL expressions rejected.
import { describe, expect, test } from "bun:test";
import { loadProblems, loadTasks, taskWithInputConfig } from "./harness.ts";

const EXPRESSION_MESSAGE =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the message names HCL's syntax.
  "HCL expressions and ${...} interpolation are not supported here; write a literal value (dstream templates use {{ }})";

async function inputConfig(body: string, env: Record<string, string> = {}) {
  const [task] = await loadTasks(taskWithInputConfig(body), { env });
  return task?.input.config;
}

describe("config values", () => {
  test.each([
    ["a string", 's = "text"', { s: "text" }],
    ["numbers", "i = -3\nf = 1.5\ne = 1e3", { i: -3, f: 1.5, e: 1000 }],
    ["bools and null", "t = true\nf = false\nn = null", { t: true, f: false, n: null }],
    ["a list", 'l = ["a", 1, false]', { l: ["a", 1, false] }],
    ["a one-element list stays a list", 'l = ["x"]', { l: ["x"] }],
    ["a list of one object stays a list", "x = [{a=1}]", { x: [{ a: 1 }] }],
    ["an empty list", "l = []", { l: [] }],
    ["an object", 'o = { k = "v", n = { z = [1] } }', { o: { k: "v", n: { z: [1] } } }],
    ["an object with quoted keys", 'o = { "a b" = 1, "c.d" = 2 }', { o: { "a b": 1, "c.d": 2 } }],
    ["a nested block is an object", "b {\n  v = 1\n}", { b: { v: 1 } }],
    ["an empty nested block", "b {\n}", { b: {} }],
    [
      "blocks nested two deep",
      'b {\n  inner = 1\n  deeper {\n    d = "x"\n  }\n}',
      { b: { inner: 1, deeper: { d: "x" } } },
    ],
    ["a repeated block is a list", "r {\n  v = 1\n}\nr {\n  v = 2\n}", { r: [{ v: 1 }, { v: 2 }] }],
    [
      "repeated blocks with nested blocks",
      "r {\n  n {\n    v = 1\n  }\n}\nr {\n  n {\n    v = 2\n  }\n}",
      { r: [{ n: { v: 1 } }, { n: { v: 2 } }] },
    ],
    [
      "labeled blocks are keyed by label",
      'lab "one" {\n  v = 1\n}\nlab "two" {\n  v = 2\n}',
      { lab: { one: { v: 1 }, two: { v: 2 } } },
    ],
    ["two labels nest", 'lab "a" "b" {\n  v = 3\n}', { lab: { a: { b: { v: 3 } } } }],
    [
      "a repeated label is a list",
      'lab "one" {\n  v = 1\n}\nlab "one" {\n  v = 2\n}',
      { lab: { one: [{ v: 1 }, { v: 2 }] } },
    ],
    [
      "a list attribute inside a block keeps its one element",
      "b {\n  items = [{a = 1}]\n}",
      { b: { items: [{ a: 1 }] } },
    ],
    ["a heredoc", "h = <<EOT\nline1\n  line2\nEOT", { h: "line1\n  line2\n" }],
    [
      "an indented heredoc",
      "h = <<-EOT\n    line1\n      line2\n    EOT",
      { h: "line1\n  line2\n" },
    ],
    ["escapes", 's = "tab\\there \\"q\\" \\u00e9"', { s: 'tab\there "q" é' }],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: HCL's escaped interpolation is the subject.
    ["$${ and %%{ escapes become literal", 's = "$${x} %%{y}"', { s: "${x} %{y}" }],
    ["an escaped object key", 'o = { "$${k}" = 1 }', { o: { "${k}": 1 } }],
    ["a comment-only block", "b {\n  # nothing\n}", { b: {} }],
  ])("%s", async (_name, body, expected) => {
    expect(await inputConfig(body)).toEqual(expected);
  });

  test("Unicode names and CRLF line ends: later blocks are still objects, positions still right", async () => {
    const body = "café = 1\r\nsub {\r\n  x = 1\r\n}\r\nbad = var.x\r\n";
    expect(await inputConfig(body.replace("bad = var.x\r\n", ""))).toEqual({
      café: 1,
      sub: { x: 1 },
    });
    expect(await loadProblems(taskWithInputConfig(body))).toEqual([
      `dstream.hcl:9:1: task "t" › input › config › bad: ${EXPRESSION_MESSAGE}`,
    ]);
  });

  test("the result is plain JSON: it survives a JSON round trip unchanged", async () => {
    const config = await inputConfig('b {\n  l = [1, {x = "y"}]\n}\nr {\n}\nr {\n}\nn = null');
    expect(JSON.parse(JSON.stringify(config))).toEqual(config ?? {});
  });

  test("the example's object value and nested block forms give the same JSON", async () => {
    const asObject = await inputConfig('lock = { type = "none", wait = 5 }');
    const asBlock = await inputConfig('lock {\n  type = "none"\n  wait = 5\n}');
    expect(asObject).toEqual({ lock: { type: "none", wait: 5 } });
    expect(asBlock).toEqual({ lock: { type: "none", wait: 5 } });
  });

  test("repeated blocks may each use a name differently (attribute in one, block in another)", async () => {
    expect(await inputConfig("r {\n  x = 1\n}\nr {\n  x {\n    y = 2\n  }\n}")).toEqual({
      r: [{ x: 1 }, { x: { y: 2 } }],
    });
  });

  test("a number too large for JSON is an error, not a silent null", async () => {
    expect(await loadProblems(taskWithInputConfig("n = [1, 1.0e400]"))).toEqual([
      'dstream.hcl:5:1: task "t" › input › config › n[1]: number is too large (over about 1.8e308)',
    ]);
  });

  test("keys named like Object's built-in properties arrive as plain keys", async () => {
    const body = [
      "__proto__ = 1",
      'constructor = "c"',
      "prototype = { __proto__ = 2, constructor = 3 }",
      "nested {\n  __proto__ = 4\n}",
      'lab "__proto__" {\n  v = 5\n}',
    ].join("\n");
    // Compared as JSON text: an object literal with a __proto__ key would set a prototype instead.
    expect(JSON.stringify(await inputConfig(body))).toBe(
      '{"__proto__":1,"constructor":"c","lab":{"__proto__":{"v":5}},"nested":{"__proto__":4},"prototype":{"__proto__":2,"constructor":3}}',
    );
  });

  test("__proto__ beside provider is an unknown attribute, not silently dropped", async () => {
    const source =
      'task "t" {\n  input {\n    provider = "counter"\n    __proto__ = 1\n  }\n  output {\n    provider = "console"\n  }\n}\n';
    expect(await loadProblems(source)).toEqual([
      'dstream.hcl:4:5: task "t" › input › __proto__: unknown attribute "__proto__" (allowed: provider_ref, provider_path, provider, config)',
    ]);
  });

  test("config may be written as an object attribute", async () => {
    const [task] = await loadTasks(
      'task "t" {\n  input {\n    provider = "counter"\n    config = { interval = 5, tables = ["a"] }\n  }\n  output {\n    provider = "console"\n  }\n}\n',
    );
    expect(task?.input.config).toEqual({ interval: 5, tables: ["a"] });
  });
});

describe("HCL expressions are rejected", () => {
  test.each([
    ["a variable", "a = var.foo"],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: HCL interpolation is the subject.
    ["an interpolation", 'a = "x${var.y}"'],
    ["arithmetic", "a = 1 + 2"],
    ["a function call", 'a = upper("a")'],
    ["a for expression", 'a = [for s in ["a"] : s]'],
    ["a template directive", 'a = "%{ if true }x%{ endif }"'],
    ["a conditional", "a = true ? 1 : 2"],
    ["a negated variable", "a = -var.x"],
    ["a computed object key", "a = { (var.k) = 1 }"],
  ])("%s, with its path", async (_name, body) => {
    const [problem] = await loadProblems(taskWithInputConfig(body));
    expect(problem).toStartWith('dstream.hcl:5:1: task "t" › input › config › a');
    expect(problem).toEndWith(`: ${EXPRESSION_MESSAGE}`);
  });

  test.each([
    // biome-ignore-start lint/suspicious/noTemplateCurlyInString: HCL interpolation is the subject.
    ["an interpolated number (hcl2json would give 1)", 'a = "${1}"'],
    ["strings joined by interpolation (hcl2json would give abc)", 'a = "a${"b"}c"'],
    ["an interpolation in a heredoc", "a = <<EOT\n${1}\nEOT"],
    ["an interpolated object key", 'a = { "${"k"}" = 1 }'],
    ["an interpolation beside a template", 'a = "${"x"}{{ env \\"UNSET\\" }}"'],
    // biome-ignore-end lint/suspicious/noTemplateCurlyInString: HCL interpolation is the subject.
  ])("%s: rejected from the source, once", async (_name, body) => {
    expect(await loadProblems(taskWithInputConfig(body))).toEqual([
      `dstream.hcl:5:1: task "t" › input › config › a: ${EXPRESSION_MESSAGE}`,
    ]);
  });

  test("in a provider attribute, folded to a valid value, it is still rejected, once", async () => {
    const source =
      // biome-ignore lint/suspicious/noTemplateCurlyInString: HCL interpolation is the subject.
      'task "t" {\n  input {\n    provider = "${"counter"}"\n  }\n  output {\n    provider = "console"\n  }\n}\n';
    expect(await loadProblems(source)).toEqual([
      `dstream.hcl:3:5: task "t" › input › provider: ${EXPRESSION_MESSAGE}`,
    ]);
  });

  test("inside a list, the path names the element", async () => {
    expect(await loadProblems(taskWithInputConfig('l = ["ok", var.x]'))).toEqual([
      `dstream.hcl:5:1: task "t" › input › config › l[1]: ${EXPRESSION_MESSAGE}`,
    ]);
  });

  test("a key with a line break is quoted and escaped in the path: the error stays one line", async () => {
    expect(await loadProblems(taskWithInputConfig('o = { "a\\nb" = var.x }'))).toEqual([
      `dstream.hcl:5:1: task "t" › input › config › o › "a\\nb": ${EXPRESSION_MESSAGE}`,
    ]);
  });

  test("in a provider attribute too", async () => {
    const source =
      // biome-ignore lint/suspicious/noTemplateCurlyInString: HCL interpolation is the subject.
      'task "t" {\n  input {\n    provider_path = "${path.module}/x"\n  }\n  output {\n    provider = "console"\n  }\n}\n';
    expect(await loadProblems(source)).toEqual([
      `dstream.hcl:3:5: task "t" › input › provider_path: ${EXPRESSION_MESSAGE}`,
    ]);
  });
});
