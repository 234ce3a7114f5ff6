// Remembers HCL parse results by the source's hash, so a run or list of an unchanged file skips
// compiling the parser's wasm (~100 ms of every start). Only successful parses are stored; env
// values never are (templates render after parsing). docs/configuration.md tells users about it.
import { createHash } from "node:crypto";
import {
  chmodSync,
  lstatSync,
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

/**
 * An entry is a header line, then the parsed JSON. The header binds the entry to the exact source
 * and parser it came from, and to its own body: a read checks all three, and anything else (an
 * entry edited, truncated, renamed, or written by another version) is a miss.
 */
interface EntryHeader {
  dstream: string;
  parser: string;
  /** sha256 of the config source. */
  source: string;
  /** sha256 of the JSON after the header line. */
  parsed: string;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

function entryText(source: string, parsed: Record<string, unknown>): string {
  const body = JSON.stringify(parsed);
  const header: EntryHeader = {
    ...currentVersions(),
    source: sha256(source),
    parsed: sha256(body),
  };
  return `${JSON.stringify(header)}\n${body}`;
}

/** The parse an entry holds, if it is bound to `source` and this parser and is intact. */
function parsedOf(text: string, source: string): Record<string, unknown> | undefined {
  const split = text.indexOf("\n");
  if (split === -1) return undefined;
  const header = JSON.parse(text.slice(0, split)) as Partial<EntryHeader> | null;
  const body = text.slice(split + 1);
  const versions = currentVersions();
  if (
    header?.dstream !== versions.dstream ||
    header.parser !== versions.parser ||
    header.source !== sha256(source) ||
    header.parsed !== sha256(body)
  ) {
    return undefined;
  }
  const parsed: unknown = JSON.parse(body);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
  return parsed as Record<string, unknown>;
}

export interface ParseCache {
  get(source: string): Record<string, unknown> | undefined;
  set(source: string, parsed: Record<string, unknown>): void;
}

/**
 * Whether the cache folder is private (0700) and ours, making it so when we can (`create`: also
 * when it is missing). One that another user owns is not used: its entries could stand in for
 * any config.
 */
function privateFolder(folder: string, create: boolean): boolean {
  if (create) mkdirSync(folder, { recursive: true, mode: 0o700 });
  const stats = lstatSync(folder);
  if (!stats.isDirectory()) return false;
  if (process.platform === "win32") return true;
  if (stats.uid !== process.getuid?.()) return false;
  if ((stats.mode & 0o077) !== 0) chmodSync(folder, 0o700);
  return true;
}

export function openParseCache(env: Record<string, string | undefined>): ParseCache {
  const folder = cacheFolder(env);
  if (!folder) return { get: () => undefined, set() {} };
  return {
    get(source) {
      try {
        if (!privateFolder(folder, false)) return undefined;
        return parsedOf(
          readFileSync(join(folder, `${parseCacheKey(source)}.json`), "utf8"),
          source,
        );
      } catch {
        return undefined;
      }
    },
    set(source, parsed) {
      // A cache that cannot be written (read-only home, full disk) only costs speed.
      try {
        if (!privateFolder(folder, true)) return;
        const path = join(folder, `${parseCacheKey(source)}.json`);
        const temp = `${path}.${process.pid}.tmp`;
        writeFileSync(temp, entryText(source, parsed), { mode: 0o600 });
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
