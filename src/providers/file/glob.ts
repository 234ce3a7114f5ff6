// Expands the file input's path: a plain path as is, a glob (Bun.Glob) into matching files, sorted.
import { isAbsolute, join, sep } from "node:path";
import { errorCode } from "../../errors.ts";

const globCharacters = /[*?[\]{}]/;

export function isGlob(path: string): boolean {
  return globCharacters.test(path);
}

/** The folder before the first segment holding a glob character: where the scan starts. */
function splitGlob(pattern: string): { root: string; rest: string } {
  const segments = pattern.split("/");
  const firstGlob = segments.findIndex((segment) => isGlob(segment));
  const base = segments.slice(0, firstGlob).join("/");
  const root = base === "" ? (isAbsolute(pattern) ? sep : ".") : base;
  return { root, rest: segments.slice(firstGlob).join("/") };
}

/** The files `path` names, in sorted order; throws when a glob matches nothing. */
export async function resolveFiles(path: string): Promise<string[]> {
  if (!isGlob(path)) return [path];
  const { root, rest } = splitGlob(path);
  const matches: string[] = [];
  try {
    for await (const match of new Bun.Glob(rest).scan({ cwd: root, onlyFiles: true })) {
      matches.push(root === "." ? match : join(root, match));
    }
  } catch (error) {
    // A folder that does not exist simply matches nothing.
    if (errorCode(error) !== "ENOENT") throw error;
  }
  if (matches.length === 0) throw new Error(`no file matches "${path}"`);
  return matches.sort();
}
