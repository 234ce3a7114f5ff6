// docs/architecture.md stays true: its tree names every folder and top-level file of src/, every
// room of src/registry/ and every folder of test/, and nothing that is gone; and the import rules
// it states hold.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const repoRoot = resolve(import.meta.dir, "../../..");
const src = join(repoRoot, "src");
const doc = readFileSync(join(repoRoot, "docs/architecture.md"), "utf8");

/** The lines of the tree under `src/`. */
const tree = (/```\nsrc\/\n([\s\S]*?)\n```/.exec(doc)?.[1] ?? "").split("\n");

/** The text of the tree's `test/` entry, its continuation lines joined. */
const testEntry = /^test\/ +(.*(?:\n {14}.*)*)/m.exec(doc)?.[1]?.replace(/\n +/g, " ") ?? "";

/** The folders the `test/` entry names (`unit/`, ...); not those inside its parentheses. */
const testFolders = () =>
  [...testEntry.replace(/\([^)]*\)/g, "").matchAll(/\b([\w-]+\/)/g)].map((m) => m[1] as string);

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

  test("its tree names every top-level file of src/, and no file that is gone", () => {
    const files = (names: string[]) => names.filter((name) => !name.endsWith("/"));
    expect(files(topEntries()).length).toBeGreaterThan(0);
    expect(files(topEntries()).sort()).toEqual(files(listing(src)));
  });

  test("its tree names every room of src/registry/, and nothing else", () => {
    const rooms = listing(join(src, "registry")).filter((name) => name.endsWith("/"));
    expect(roomEntries().sort()).toEqual(rooms);
  });

  test("its test/ line names every folder of test/, and no folder that is gone", () => {
    const folders = listing(join(repoRoot, "test")).filter((name) => name.endsWith("/"));
    expect(testFolders().sort()).toEqual(folders);
  });
});

/** The .ts files of a folder of src/ (at any depth), or the one top-level file named. */
function sourceFiles(name: string): string[] {
  if (name.endsWith(".ts")) return [join(src, name)];
  return readdirSync(join(src, name), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Every relative import of the .ts files of `name` (a folder or a top-level file), from src/. */
function importsOf(name: string): { file: string; target: string }[] {
  return sourceFiles(name).flatMap((path) =>
    [...readFileSync(path, "utf8").matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)].map(
      ([, specifier]) => ({
        file: relative(src, path),
        target: relative(src, resolve(dirname(path), specifier as string)),
      }),
    ),
  );
}

interface ImportStatement {
  file: string;
  target: string;
  /** The names it imports (`a as b` counts as a). */
  names: string[];
  typeOnly: boolean;
}

/** The `import ... from` statements of the .ts files under `folder`. */
function importStatementsOf(folder: string): ImportStatement[] {
  const statement = /import\s+(type\s+)?(?:\{([^}]*)\}|[\w*\s]+)\s*from\s*"(\.{1,2}\/[^"]+)"/g;
  return sourceFiles(folder).flatMap((path) =>
    [...readFileSync(path, "utf8").matchAll(statement)].map(([, type, list, specifier]) => {
      const items = (list ?? "")
        .split(",")
        .map((item) => item.trim())
        .filter(Boolean);
      return {
        file: relative(src, path),
        target: relative(src, resolve(dirname(path), specifier as string)),
        names: items.map((item) => item.replace(/^type\s+/, "").split(/\s+as\s+/)[0] as string),
        typeOnly:
          type !== undefined ||
          (items.length > 0 && items.every((item) => item.startsWith("type "))),
      };
    }),
  );
}

/** The top-level folder of src/ a path is in ("" for a top-level file such as errors.ts). */
const layerOf = (path: string) => (path.includes("/") ? (path.split("/")[0] as string) : "");

/** The text of the doc's "## Imports" section. */
const importsSection = /## Imports\n([\s\S]*?)\n## /.exec(doc)?.[1] ?? "";

/**
 * What each layer may import, read from the section: every `a | b → c | d → e` in backquotes
 * (a chain: a and b may use c and d, which may use e), "X may use any layer", and the modules that
 * "every layer may use".
 */
function statedRules(): {
  may: Map<string, Set<string>>;
  anyLayer: Set<string>;
  everyLayer: string[];
} {
  const may = new Map<string, Set<string>>();
  for (const [, span] of importsSection.matchAll(/`([^`]*)`/g)) {
    const arrows = span as string;
    if (!arrows.includes("→")) continue;
    const steps = arrows.split("→").map((step) => step.split("|").map((x) => x.trim()));
    for (let index = 0; index + 1 < steps.length; index++) {
      for (const from of steps[index] ?? []) {
        const allowed = may.get(from) ?? new Set<string>();
        for (const to of steps[index + 1] ?? []) allowed.add(to);
        may.set(from, allowed);
      }
    }
  }
  const anyLayer = new Set(
    [...importsSection.matchAll(/\((\w+) may use any layer\)/g)].map((m) => m[1] as string),
  );
  // The item, with the lines it wraps onto (indented by two spaces).
  const everyLine = /^- every layer may use (.*(?:\n {2}\S.*)*)/m.exec(importsSection)?.[1] ?? "";
  const everyLayer = [...everyLine.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
  return { may, anyLayer, everyLayer };
}

describe("the import rules it states", () => {
  test("it states them as arrows, and names what every layer may use", () => {
    const { may, anyLayer, everyLayer } = statedRules();
    // A parse that finds nothing would let every import through.
    expect([...may.keys()].sort()).toEqual([
      "cli",
      "config",
      "providers",
      "registry",
      "relay",
      "runtime",
      "sdk",
      "state",
      "version.ts",
    ]);
    expect([...anyLayer]).toEqual(["cli"]);
    expect(everyLayer).toEqual([
      "protocol",
      "errors.ts",
      "version.ts",
      "cache-dir.ts",
      "bounded-wait.ts",
      "one-line.ts",
    ]);
  });

  test("every import across layers of src/ is one its arrows allow", () => {
    const { may, anyLayer, everyLayer } = statedRules();
    const layers = listing(src).map((name) => name.replace(/\/$/, ""));
    const wrong = layers
      .filter((layer) => !anyLayer.has(layer))
      .flatMap((layer) => importsOf(layer))
      .filter(({ file, target }) => {
        const from = layerOf(file) || file;
        const to = layerOf(target) || target;
        if (target.startsWith("..") || to === from || everyLayer.includes(to)) return false;
        return !may.get(from)?.has(to);
      });
    expect(wrong).toEqual([]);
  });

  test("runtime takes only types from config", () => {
    const wrong = importStatementsOf("runtime").filter(
      ({ target, typeOnly }) => layerOf(target) === "config" && !typeOnly,
    );
    expect(wrong).toEqual([]);
  });

  test("runtime takes from providers/ only builtinConfigProblems", () => {
    const names = importStatementsOf("runtime")
      .filter(({ target }) => layerOf(target) === "providers")
      .flatMap(({ names }) => names);
    expect([...new Set(names)]).toEqual(["builtinConfigProblems"]);
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
