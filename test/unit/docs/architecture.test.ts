// docs/architecture.md stays true: its tree names every folder of src/ and every room of
// src/registry/, and nothing that is gone; and the import rules it states hold.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const repoRoot = resolve(import.meta.dir, "../../..");
const src = join(repoRoot, "src");
const doc = readFileSync(join(repoRoot, "docs/architecture.md"), "utf8");

/** The lines of the tree under `src/`. */
const tree = (/```\nsrc\/\n([\s\S]*?)\n```/.exec(doc)?.[1] ?? "").split("\n");

/** What the tree names directly under src/ (indented by two spaces). */
const topEntries = () => tree.flatMap((line) => /^ {2}([\w.-]+\/?)(?: |$)/.exec(line)?.[1] ?? []);

/** The rooms: the entries indented by four spaces right after `registry/`. */
function roomEntries(): string[] {
  const start = tree.findIndex((line) => line.startsWith("  registry/"));
  const rooms: string[] = [];
  for (const line of tree.slice(start + 1)) {
    if (/^ {2}\S/.test(line)) break;
    const room = /^ {4}([\w-]+\/)/.exec(line)?.[1];
    if (room) rooms.push(room);
  }
  return rooms;
}

const listing = (folder: string) =>
  readdirSync(folder, { withFileTypes: true })
    .map((entry) => (entry.isDirectory() ? `${entry.name}/` : entry.name))
    .sort();

describe("docs/architecture.md", () => {
  test("its tree names every folder of src/, and no folder that is gone", () => {
    const folders = (names: string[]) => names.filter((name) => name.endsWith("/"));
    expect(folders(topEntries()).sort()).toEqual(folders(listing(src)));
  });

  test("the top-level files it names exist", () => {
    const files = topEntries().filter((name) => !name.endsWith("/"));
    expect(files.length).toBeGreaterThan(0);
    expect(files.filter((name) => !listing(src).includes(name))).toEqual([]);
  });

  test("its tree names every room of src/registry/, and nothing else", () => {
    const rooms = listing(join(src, "registry")).filter((name) => name.endsWith("/"));
    expect(roomEntries().sort()).toEqual(rooms);
  });
});

/** Every relative import of every .ts file under `folder`, resolved from src/. */
function importsOf(folder: string): { file: string; target: string }[] {
  const found: { file: string; target: string }[] = [];
  for (const entry of readdirSync(join(src, folder), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".ts")) continue;
    const path = join(entry.parentPath, entry.name);
    const text = readFileSync(path, "utf8");
    for (const [, specifier] of text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)) {
      found.push({
        file: relative(src, path),
        target: relative(src, resolve(dirname(path), specifier as string)),
      });
    }
  }
  return found;
}

/** The top-level folder of src/ a path is in ("" for a top-level file such as errors.ts). */
const layerOf = (path: string) => (path.includes("/") ? (path.split("/")[0] as string) : "");

describe("the import rules it states", () => {
  test.each([
    ["config", ["registry", "cli", "runtime", "relay", "state"]],
    ["registry", ["config", "cli", "runtime", "relay", "state"]],
    ["hcl", ["config", "registry", "cli", "runtime", "oci"]],
    ["oci", ["config", "registry", "cli", "runtime", "hcl"]],
  ])("%s imports none of %j", (folder, forbidden) => {
    const wrong = importsOf(folder).filter(({ target }) => forbidden.includes(layerOf(target)));
    expect(wrong).toEqual([]);
  });

  test("inside registry, a room uses another only through its index.ts", () => {
    const rooms = new Set(roomEntries().map((room) => room.slice(0, -1)));
    const roomOf = (path: string) => {
      const [layer, room] = path.split("/");
      return layer === "registry" && room && rooms.has(room) ? room : undefined;
    };
    const wrong = importsOf("registry").filter(({ file, target }) => {
      const to = roomOf(target);
      return to !== undefined && to !== roomOf(file) && !target.endsWith(`${to}/index.ts`);
    });
    expect(wrong).toEqual([]);
  });
});
