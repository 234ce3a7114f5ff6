// file provider pieces in-process: config schemas, glob expansion, the rotating appender.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { resolveFiles } from "../../../src/providers/file/glob.ts";
import { fileInputConfigSchema } from "../../../src/providers/file/input.ts";
import { fileOutputConfigSchema } from "../../../src/providers/file/output.ts";
import { RotatingFile } from "../../../src/providers/file/rotating-file.ts";
import { describeIssues } from "../../../src/sdk/index.ts";

let folder = "";
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), "dstream-file-unit-"));
});
afterEach(() => rmSync(folder, { recursive: true, force: true }));

const problems = (schema: v.GenericSchema, config: unknown) => {
  const result = v.safeParse(schema, config);
  return result.success ? "" : describeIssues(result.issues);
};

describe("config", () => {
  test("input defaults: jsonl, no follow", () => {
    expect(v.parse(fileInputConfigSchema, { path: "a" })).toEqual({
      path: "a",
      format: "jsonl",
      follow: false,
    });
  });

  test("output defaults: no rotation", () => {
    expect(v.parse(fileOutputConfigSchema, { path: "a" })).toEqual({ path: "a", rotateBytes: 0 });
  });

  test.each([
    [fileInputConfigSchema, { path: "" }, "path: must not be empty"],
    [fileInputConfigSchema, { path: "a", follow: "yes" }, "follow: must be true or false"],
    [fileInputConfigSchema, { path: "*.log", follow: true }, "follow: needs one file, not a glob"],
    [
      fileOutputConfigSchema,
      { path: "a", rotateBytes: 1.5 },
      "rotateBytes: must be a whole number",
    ],
    [
      fileOutputConfigSchema,
      { file: "a" },
      "path: is required; file: unknown setting (allowed: path, rotateBytes)",
    ],
  ])("%#: %s", (schema, config, message) => {
    expect(problems(schema as v.GenericSchema, config)).toBe(message);
  });
});

describe("resolveFiles", () => {
  test("a plain path is returned as is, even when missing (reading it reports that)", async () => {
    expect(await resolveFiles("no/such.jsonl")).toEqual(["no/such.jsonl"]);
  });

  test("a glob expands to files in sorted order, folders excluded", async () => {
    mkdirSync(join(folder, "d", "sub.jsonl"), { recursive: true });
    for (const name of ["10.jsonl", "2.jsonl", "1.jsonl"])
      writeFileSync(join(folder, "d", name), "");
    expect(await resolveFiles(join(folder, "d", "*.jsonl"))).toEqual(
      ["1.jsonl", "10.jsonl", "2.jsonl"].map((name) => join(folder, "d", name)),
    );
  });

  test("a glob that matches nothing is an error naming it", async () => {
    await expect(resolveFiles(join(folder, "*.csv"))).rejects.toThrow(
      `no file matches "${join(folder, "*.csv")}"`,
    );
  });
});

describe("RotatingFile", () => {
  const bytes = (text: string) => new TextEncoder().encode(text);

  test("appends without rotation when rotateBytes is 0", async () => {
    const path = join(folder, "out");
    const file = await RotatingFile.open(path, 0);
    await file.append(bytes("a\n"));
    await file.append(bytes("b\n"));
    await file.close();
    expect(readFileSync(path, "utf8")).toBe("a\nb\n");
    expect(readdirSync(folder)).toEqual(["out"]);
  });

  test("a line longer than rotateBytes gets a file of its own", async () => {
    const path = join(folder, "out");
    const file = await RotatingFile.open(path, 4);
    await file.append(bytes("a\nlong line\nb\n"));
    await file.close();
    expect(readFileSync(`${path}.1`, "utf8")).toBe("a\n");
    expect(readFileSync(`${path}.2`, "utf8")).toBe("long line\n");
    expect(readFileSync(path, "utf8")).toBe("b\n");
  });
});
