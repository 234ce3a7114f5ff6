// HashiCorp's HCL parser below config and registry: hcl2json's JSON, or diagnostics with their
// line and column (config and the lock file word them with their own file names).
import { describe, expect, test } from "bun:test";
import { HclSyntaxError, parseHcl } from "../../../src/hcl/index.ts";

async function diagnosticsOf(source: string) {
  const error = await parseHcl(source).catch((caught: unknown) => caught);
  if (!(error instanceof HclSyntaxError)) throw new Error("expected an HclSyntaxError");
  return error.diagnostics.map(({ line, column, summary }) => ({ line, column, summary }));
}

describe("parseHcl", () => {
  test("blocks as label → [body], attributes as values", async () => {
    expect(await parseHcl('provider "r/x:1" {\n  digest = "d"\n  size = 3\n}\n')).toEqual({
      provider: { "r/x:1": [{ digest: "d", size: 3 }] },
    });
  });

  test.each([
    ['provider "x" {\n  digest = }\n', [{ line: 2, column: 12, summary: "Invalid expression" }]],
    ['provider "x" {', [{ line: 1, column: 14, summary: "Unclosed configuration block" }]],
    ["a = [\n".repeat(501), [{ line: 501, column: 5, summary: "nested deeper than 500 levels" }]],
  ])("%j: diagnostics with line and column", async (source, expected) => {
    expect(await diagnosticsOf(source)).toEqual(expected);
  });

  test("a syntax error leaves the parser usable", async () => {
    await expect(parseHcl("}")).rejects.toThrow("1:1: Argument or block definition required");
    expect(await parseHcl("a = 1")).toEqual({ a: 1 });
  });
});
