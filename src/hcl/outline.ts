// Where each attribute and block stands in the HCL source, and which names were written as blocks:
// hcl2json's JSON encodes a block and a list attribute alike, and carries no positions.
import { Scanner } from "./outline-scanner.ts";

export interface SourcePosition {
  line: number;
  column: number;
}

export interface Outline {
  /** Position of each attribute or block by its path of names and labels, in source order. */
  positions: Map<string, SourcePosition[]>;
  /** Paths (names and labels) of everything written as a block. */
  blocks: Set<string>;
  /**
   * Those paths and each of their shorter label prefixes (`input` for `input "x" { }`): whether a
   * name was written as a block, with or without labels, in one lookup.
   */
  blockPrefixes: Set<string>;
  /** Names set both as an attribute and as a block in one body: hcl2json silently keeps one. */
  mixed: { path: string[]; position: SourcePosition }[];
  /**
   * Attributes with `${...}` or `%{...}` in a string or heredoc. hcl2json folds constant ones
   * (`"${1}"` gives 1), so its JSON alone cannot show them.
   */
  interpolated: string[][];
  /** The keys of `interpolated`, for lookups. */
  interpolatedKeys: Set<string>;
  /**
   * Blocks of one type in one body whose labels extend another's (`b { }` beside `b "x" { }`):
   * hcl2json refuses them without a position.
   */
  labelConflicts: LabelConflict[];
  /** The file's own blocks, in source order, with where each starts and ends (offsets). */
  topLevelBlocks: TopLevelBlock[];
  /** True when the scan reached the end of the source (else the outline is partial). */
  complete: boolean;
}

export interface TopLevelBlock extends BlockHeader {
  type: string;
  /** Offsets in the source: the block's first character, and just past its closing brace. */
  start: number;
  end: number;
}

export interface BlockHeader {
  labels: string[];
  position: SourcePosition;
}

export interface LabelConflict {
  /** The body's path and the block type. */
  path: string[];
  /** The block written first, and the later one whose labels extend it or are extended by it. */
  first: BlockHeader;
  other: BlockHeader;
}

/** Joins a path of names into an outline key. */
export function outlineKey(path: readonly (string | number)[]): string {
  return path.filter((part) => typeof part === "string").join("\u0000");
}

/**
 * Scans source that HCL already accepted. It reads only body structure (names, labels, braces) and
 * skips expressions, strings, heredocs and comments, so it stays small; on anything unexpected it
 * stops and returns what it found, and callers treat missing entries as unknown.
 */
export function outlineHcl(source: string): Outline {
  const outline: Outline = {
    positions: new Map(),
    blocks: new Set(),
    blockPrefixes: new Set(),
    mixed: [],
    interpolated: [],
    interpolatedKeys: new Set(),
    labelConflicts: [],
    topLevelBlocks: [],
    complete: false,
  };
  const scanner = new Scanner(source);
  try {
    scanBody(scanner, [], "", outline);
    outline.complete = scanner.peek() === "";
  } catch {
    // Partial outlines only lose positions and block hints; parsing itself already succeeded.
  }
  return outline;
}

function record(outline: Outline, key: string, position: SourcePosition): void {
  const list = outline.positions.get(key);
  if (list) list.push(position);
  else outline.positions.set(key, [position]);
}

/** The outline key of a child of the body with key `key` (the file's body has key ""). */
function childKey(key: string, name: string): string {
  return key === "" ? name : `${key}\u0000${name}`;
}

/**
 * The block headers of one type in one body, indexed so that each new header finds the first
 * earlier one it clashes with in a few lookups (a file with 20,000 tasks has 20,000 of them).
 */
class HeaderIndex {
  /** The first header with exactly these labels. */
  private readonly exact = new Map<string, BlockHeader>();
  /** The first header whose labels extend these (are longer and start with them). */
  private readonly extending = new Map<string, BlockHeader>();

  /** Adds `header`; returns the first earlier header whose labels extend its or are extended by it. */
  add(header: BlockHeader): BlockHeader | undefined {
    const { labels } = header;
    // keys[count]: the first `count` labels; the last one is all of them.
    const keys: string[] = [];
    for (let count = 0; count <= labels.length; count++) {
      keys.push(JSON.stringify(labels.slice(0, count)));
    }
    const own = keys[labels.length] ?? "";
    let clash = this.extending.get(own);
    for (let count = 0; count < labels.length; count++) {
      const shorter = this.exact.get(keys[count] ?? "");
      if (shorter && (!clash || before(shorter.position, clash.position))) clash = shorter;
    }
    if (!this.exact.has(own)) this.exact.set(own, header);
    for (let count = 0; count < labels.length; count++) {
      const prefix = keys[count] ?? "";
      if (!this.extending.has(prefix)) this.extending.set(prefix, header);
    }
    return clash;
  }
}

function before(a: SourcePosition, b: SourcePosition): boolean {
  return a.line < b.line || (a.line === b.line && a.column < b.column);
}

/** Scans one body: `path` and `key` are its names and labels and their outline key. */
function scanBody(scanner: Scanner, path: string[], key: string, outline: Outline): void {
  const kinds = new Map<string, "attribute" | "block">();
  const headers = new Map<string, HeaderIndex>();
  const noteKind = (name: string, kind: "attribute" | "block", position: SourcePosition) => {
    const earlier = kinds.get(name);
    if (earlier && earlier !== kind) outline.mixed.push({ path: [...path, name], position });
    kinds.set(name, kind);
  };
  for (;;) {
    scanner.skipSpaceAndComments(true);
    const char = scanner.peek();
    if (char === "" || char === "}") {
      scanner.next();
      return;
    }
    const start = scanner.offset;
    const position = scanner.position();
    const name = scanner.readIdentifier();
    if (!name) throw new Error("unexpected character in body");
    const nameKey = childKey(key, name);
    scanner.skipSpaceAndComments(false);
    if (scanner.peek() === "=") {
      scanner.next();
      record(outline, nameKey, position);
      noteKind(name, "attribute", position);
      if (scanner.skipExpression()) {
        outline.interpolated.push([...path, name]);
        outline.interpolatedKeys.add(nameKey);
      }
      continue;
    }
    const labels: string[] = [];
    for (;;) {
      scanner.skipSpaceAndComments(false);
      const next = scanner.peek();
      if (next === "{") break;
      if (next === '"') labels.push(scanner.readQuotedLabel());
      else {
        const label = scanner.readIdentifier();
        if (!label) throw new Error("unexpected character in block header");
        labels.push(label);
      }
    }
    scanner.next();
    noteKind(name, "block", position);
    const header = { labels, position };
    let index = headers.get(name);
    if (!index) {
      index = new HeaderIndex();
      headers.set(name, index);
    }
    const clash = index.add(header);
    if (clash) outline.labelConflicts.push({ path: [...path, name], first: clash, other: header });
    // Also under each shorter label prefix, so a problem about `name` alone still finds a line.
    let blockKey = nameKey;
    record(outline, blockKey, position);
    outline.blockPrefixes.add(blockKey);
    for (const label of labels) {
      blockKey = `${blockKey}\u0000${label}`;
      record(outline, blockKey, position);
      outline.blockPrefixes.add(blockKey);
    }
    outline.blocks.add(blockKey);
    scanBody(scanner, [...path, name, ...labels], blockKey, outline);
    if (path.length === 0) {
      outline.topLevelBlocks.push({ type: name, labels, position, start, end: scanner.offset });
    }
  }
}
