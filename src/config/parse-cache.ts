// Remembers HCL parse results by the source's hash, so a run or list of an unchanged file skips
// compiling the parser's wasm (~100 ms of every start). Only successful parses are stored.
import { createHash } from "node:crypto";
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { defaultCacheDir } from "../registry/cache.ts";
import { versionInfo } from "../version.ts";

/** Enough for every config a team edits in a day; older entries are removed. */
const MAX_ENTRIES = 200;

function cacheFolder(env: Record<string, string | undefined>): string | undefined {
  if (env.DSTREAM_NO_PARSE_CACHE) return undefined;
  return join(defaultCacheDir(env), "hcl");
}

function keyOf(source: string): string {
  // The parser ships inside dstream: a new version may parse differently.
  return createHash("sha256")
    .update(versionInfo().version)
    .update("\0")
    .update(source)
    .digest("hex");
}

export interface ParseCache {
  get(source: string): Record<string, unknown> | undefined;
  set(source: string, parsed: Record<string, unknown>): void;
}

export function openParseCache(env: Record<string, string | undefined>): ParseCache {
  const folder = cacheFolder(env);
  if (!folder) return { get: () => undefined, set() {} };
  return {
    get(source) {
      try {
        return JSON.parse(readFileSync(join(folder, `${keyOf(source)}.json`), "utf8"));
      } catch {
        return undefined;
      }
    },
    set(source, parsed) {
      // A cache that cannot be written (read-only home, full disk) only costs speed.
      try {
        mkdirSync(folder, { recursive: true });
        const path = join(folder, `${keyOf(source)}.json`);
        const temp = `${path}.${process.pid}.tmp`;
        writeFileSync(temp, JSON.stringify(parsed));
        renameSync(temp, path);
        prune(folder);
      } catch {
        // Ignored on purpose, see above.
      }
    },
  };
}

function prune(folder: string): void {
  const names = readdirSync(folder).filter((name) => name.endsWith(".json"));
  if (names.length <= MAX_ENTRIES) return;
  const byAge = names
    .map((name) => ({ name, modified: statSync(join(folder, name)).mtimeMs }))
    .sort((a, b) => a.modified - b.modified);
  for (const entry of byAge.slice(0, names.length - MAX_ENTRIES))
    unlinkSync(join(folder, entry.name));
}
