// Remembers HCL parse results by the source's hash, so a run or list of an unchanged file skips
// compiling the parser's wasm (~100 ms of every start). Only successful parses are stored; env
// values never are (templates render after parsing). docs/configuration.md tells users about it.
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
import parserPackage from "@cdktn/hcl2json/package.json" with { type: "json" };
import { defaultCacheDir } from "../cache-dir.ts";
import { versionInfo } from "../version.ts";

/** Enough for every config a team edits in a day; older entries are removed. */
const MAX_ENTRIES = 200;

function cacheFolder(env: Record<string, string | undefined>): string | undefined {
  if (env.DSTREAM_NO_PARSE_CACHE) return undefined;
  return join(defaultCacheDir(env), "hcl");
}

export interface ParserVersions {
  dstream: string;
  /** @cdktn/hcl2json's version: an upgrade of the embedded parser without a dstream release. */
  parser: string;
}

const currentVersions = (): ParserVersions => ({
  dstream: versionInfo().version,
  parser: parserPackage.version,
});

/**
 * An entry's name. Either version may parse differently. The versions, not a hash of the parser's
 * wasm: hashing its megabytes on every start would cost much of what the cache saves.
 */
export function parseCacheKey(source: string, versions = currentVersions()): string {
  return createHash("sha256")
    .update(`${versions.dstream}\0${versions.parser}\0`)
    .update(source)
    .digest("hex");
}

/** What an entry holds; anything else (a damaged or foreign file) is ignored. */
interface Entry {
  parsed: Record<string, unknown>;
}

function parsedOf(entry: unknown): Record<string, unknown> | undefined {
  if (typeof entry !== "object" || entry === null || !("parsed" in entry)) return undefined;
  const { parsed } = entry;
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
  return parsed as Record<string, unknown>;
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
        return parsedOf(
          JSON.parse(readFileSync(join(folder, `${parseCacheKey(source)}.json`), "utf8")),
        );
      } catch {
        return undefined;
      }
    },
    set(source, parsed) {
      // A cache that cannot be written (read-only home, full disk) only costs speed.
      try {
        mkdirSync(folder, { recursive: true });
        const path = join(folder, `${parseCacheKey(source)}.json`);
        const temp = `${path}.${process.pid}.tmp`;
        const entry: Entry = { parsed };
        writeFileSync(temp, JSON.stringify(entry));
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
