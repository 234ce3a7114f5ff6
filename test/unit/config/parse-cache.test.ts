import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../../src/config/index.ts";
import { openParseCache, parseCacheKey } from "../../../src/config/parse-cache.ts";

const folders: string[] = [];
function folder(): string {
  const path = mkdtempSync(join(tmpdir(), "dstream-parse-cache-"));
  folders.push(path);
  return path;
}
afterEach(() => {
  for (const path of folders.splice(0)) rmSync(path, { recursive: true, force: true });
});

const source =
  'task "t" {\n  input { provider = "counter" }\n  output { provider = "console" }\n}\n'.replace(
    /\{ provider = "(\w+)" \}/g,
    '{\n    provider = "$1"\n  }',
  );

describe("parse cache", () => {
  test("a second load of the same file is served from the cache and gives the same tasks", async () => {
    const cacheDir = folder();
    const work = folder();
    writeFileSync(join(work, "dstream.hcl"), source);
    const env = { DSTREAM_CACHE_DIR: cacheDir };
    const first = await loadConfig({ cwd: work, env });
    expect(readdirSync(join(cacheDir, "hcl"))).toHaveLength(1);
    const second = await loadConfig({ cwd: work, env });
    expect(second.tasks).toEqual(first.tasks);
  });

  test("a damaged entry is ignored and the file parsed again", async () => {
    const cacheDir = folder();
    const work = folder();
    writeFileSync(join(work, "dstream.hcl"), source);
    const env = { DSTREAM_CACHE_DIR: cacheDir };
    const first = await loadConfig({ cwd: work, env });
    const [entry] = readdirSync(join(cacheDir, "hcl"));
    writeFileSync(join(cacheDir, "hcl", entry ?? ""), "{not json");
    expect((await loadConfig({ cwd: work, env })).tasks).toEqual(first.tasks);
  });

  test.each([["null"], ["[1]"], ['"text"'], ["{}"], ['{"parsed":null}'], ['{"parsed":[]}']])(
    "an entry of the wrong shape (%s) is ignored and the file parsed again",
    async (content) => {
      const cacheDir = folder();
      const work = folder();
      writeFileSync(join(work, "dstream.hcl"), source);
      const env = { DSTREAM_CACHE_DIR: cacheDir };
      const first = await loadConfig({ cwd: work, env });
      const [entry] = readdirSync(join(cacheDir, "hcl"));
      writeFileSync(join(cacheDir, "hcl", entry ?? ""), content);
      expect((await loadConfig({ cwd: work, env })).tasks).toEqual(first.tasks);
    },
  );

  test("entries are named by a key over dstream's version, the parser's version and the source", async () => {
    const cacheDir = folder();
    const work = folder();
    writeFileSync(join(work, "dstream.hcl"), source);
    await loadConfig({ cwd: work, env: { DSTREAM_CACHE_DIR: cacheDir } });
    expect(readdirSync(join(cacheDir, "hcl"))).toEqual([`${parseCacheKey(source)}.json`]);
    const versions = { dstream: "1.0.0", parser: "0.24.0" };
    const keys = [
      parseCacheKey(source, versions),
      parseCacheKey(source, { ...versions, parser: "0.25.0" }),
      parseCacheKey(source, { ...versions, dstream: "1.0.1" }),
      parseCacheKey(`${source}\n`, versions),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });

  test("syntax errors are never cached", async () => {
    const cacheDir = folder();
    const work = folder();
    writeFileSync(join(work, "dstream.hcl"), 'task "t" {\n  foo bar\n}\n');
    await expect(loadConfig({ cwd: work, env: { DSTREAM_CACHE_DIR: cacheDir } })).rejects.toThrow();
    expect(() => readdirSync(join(cacheDir, "hcl"))).toThrow();
  });

  test("DSTREAM_NO_PARSE_CACHE turns it off; an unwritable folder only costs speed", () => {
    expect(openParseCache({ DSTREAM_NO_PARSE_CACHE: "1" }).get(source)).toBeUndefined();
    const cache = openParseCache({ DSTREAM_CACHE_DIR: "/proc/no-such-place" });
    cache.set(source, { task: {} });
    expect(cache.get(source)).toBeUndefined();
  });
});
