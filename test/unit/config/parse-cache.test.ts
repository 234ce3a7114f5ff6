import { afterEach, describe, expect, test } from "bun:test";
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
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

  test.each([
    ["null"],
    ["[1]"],
    ['"text"'],
    ["{}"],
    ['{"parsed":null}'],
    ['{"parsed":[]}'],
    ['{"parsed":{"task":5}}'],
    ['{"parsed":{}}'],
  ])("an entry of the wrong shape (%s) is ignored and the file parsed again", async (content) => {
    const cacheDir = folder();
    const work = folder();
    writeFileSync(join(work, "dstream.hcl"), source);
    const env = { DSTREAM_CACHE_DIR: cacheDir };
    const first = await loadConfig({ cwd: work, env });
    const [entry] = readdirSync(join(cacheDir, "hcl"));
    writeFileSync(join(cacheDir, "hcl", entry ?? ""), content);
    expect((await loadConfig({ cwd: work, env })).tasks).toEqual(first.tasks);
  });

  test("an edited entry is a miss: its provider does not replace the file's", async () => {
    const cacheDir = folder();
    const work = folder();
    writeFileSync(join(work, "dstream.hcl"), source);
    const env = { DSTREAM_CACHE_DIR: cacheDir };
    const first = await loadConfig({ cwd: work, env });
    const entry = join(cacheDir, "hcl", readdirSync(join(cacheDir, "hcl"))[0] ?? "");
    const edited = readFileSync(entry, "utf8").replace('"counter"', '"null"');
    expect(edited).not.toBe(readFileSync(entry, "utf8"));
    writeFileSync(entry, edited);
    const second = await loadConfig({ cwd: work, env });
    expect(second.tasks[0]?.input.source).toEqual({ kind: "builtin", name: "counter" });
    expect(second.tasks).toEqual(first.tasks);
  });

  test("an entry is bound to its source: one renamed to another file's key is a miss", async () => {
    const cacheDir = folder();
    const work = folder();
    const other = source
      .replace('"counter"', '"file"')
      .replace("input {", 'input {\n    config {\n      path = "x"\n    }');
    writeFileSync(join(work, "dstream.hcl"), other);
    const env = { DSTREAM_CACHE_DIR: cacheDir };
    await loadConfig({ cwd: work, env });
    const hcl = join(cacheDir, "hcl");
    renameSync(
      join(hcl, `${parseCacheKey(other)}.json`),
      join(hcl, `${parseCacheKey(source)}.json`),
    );
    writeFileSync(join(work, "dstream.hcl"), source);
    const loaded = await loadConfig({ cwd: work, env });
    expect(loaded.tasks[0]?.input.source).toEqual({ kind: "builtin", name: "counter" });
  });

  test.skipIf(process.platform === "win32")(
    "the folder is private (0700, an existing one made so) and its entries 0600",
    async () => {
      const cacheDir = folder();
      const work = folder();
      writeFileSync(join(work, "dstream.hcl"), source);
      mkdirSync(join(cacheDir, "hcl"), { mode: 0o755 });
      chmodSync(join(cacheDir, "hcl"), 0o755);
      await loadConfig({ cwd: work, env: { DSTREAM_CACHE_DIR: cacheDir } });
      expect(statSync(join(cacheDir, "hcl")).mode & 0o777).toBe(0o700);
      const [entry] = readdirSync(join(cacheDir, "hcl"));
      expect(statSync(join(cacheDir, "hcl", entry ?? "")).mode & 0o777).toBe(0o600);
    },
  );

  test.skipIf(process.getuid?.() !== 0)("a folder another user owns is not used", async () => {
    const cacheDir = folder();
    const work = folder();
    writeFileSync(join(work, "dstream.hcl"), source);
    mkdirSync(join(cacheDir, "hcl"), { mode: 0o700 });
    chownSync(join(cacheDir, "hcl"), 65534, 65534);
    await loadConfig({ cwd: work, env: { DSTREAM_CACHE_DIR: cacheDir } });
    expect(readdirSync(join(cacheDir, "hcl"))).toEqual([]);
  });

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
