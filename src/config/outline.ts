// Where each attribute and block stands in the HCL source, and which names were written as blocks:
// hcl2json's JSON encodes a block and a list attribute alike, and carries no positions.

export interface SourcePosition {
  line: number;
  column: number;
}

export interface Outline {
  /** Position of each attribute or block by its path of names and labels, in source order. */
  positions: Map<string, SourcePosition[]>;
  /** Paths (names and labels) of everything written as a block. */
  blocks: Set<string>;
  /** Names set both as an attribute and as a block in one body: hcl2json silently keeps one. */
  mixed: { path: string[]; position: SourcePosition }[];
  /**
   * Attributes with `${...}` or `%{...}` in a string or heredoc. hcl2json folds constant ones
   * (`"${1}"` gives 1), so its JSON alone cannot show them.
   */
  interpolated: string[][];
  /**
   * Blocks of one type in one body whose labels extend another's (`b { }` beside `b "x" { }`):
   * hcl2json refuses them without a position.
   */
  labelConflicts: LabelConflict[];
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

// HCL identifiers are Unicode (ID_Start, ID_Continue) plus "-": `café = 1` is a valid attribute.
const identifierStart = /[\p{ID_Start}_]/u;
const identifierPart = /[\p{ID_Continue}-]/u;

/**
 * Scans source that HCL already accepted. It reads only body structure (names, labels, braces) and
 * skips expressions, strings, heredocs and comments, so it stays small; on anything unexpected it
 * stops and returns what it found, and callers treat missing entries as unknown.
 */
export function outlineHcl(source: string): Outline {
  const outline: Outline = {
    positions: new Map(),
    blocks: new Set(),
    mixed: [],
    interpolated: [],
    labelConflicts: [],
  };
  const scanner = new Scanner(source);
  try {
    scanBody(scanner, [], outline);
  } catch {
    // Partial outlines only lose positions and block hints; parsing itself already succeeded.
  }
  return outline;
}

function record(outline: Outline, path: string[], position: SourcePosition): void {
  const key = outlineKey(path);
  const list = outline.positions.get(key);
  if (list) list.push(position);
  else outline.positions.set(key, [position]);
}

/** True when one label list is a proper prefix of the other: hcl2json cannot nest both. */
function labelsClash(a: string[], b: string[]): boolean {
  const [shorter, longer] = a.length < b.length ? [a, b] : [b, a];
  return shorter.length < longer.length && shorter.every((label, index) => label === longer[index]);
}

function scanBody(scanner: Scanner, path: string[], outline: Outline): void {
  const kinds = new Map<string, "attribute" | "block">();
  const headers = new Map<string, BlockHeader[]>();
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
    const position = scanner.position();
    const name = scanner.readIdentifier();
    if (!name) throw new Error("unexpected character in body");
    scanner.skipSpaceAndComments(false);
    if (scanner.peek() === "=") {
      scanner.next();
      record(outline, [...path, name], position);
      noteKind(name, "attribute", position);
      if (scanner.skipExpression()) outline.interpolated.push([...path, name]);
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
    const earlier = headers.get(name) ?? [];
    const clash = earlier.find((first) => labelsClash(first.labels, labels));
    if (clash) outline.labelConflicts.push({ path: [...path, name], first: clash, other: header });
    headers.set(name, [...earlier, header]);
    const blockPath = [...path, name, ...labels];
    // Also under each shorter label prefix, so a problem about `name` alone still finds a line.
    for (let count = 0; count <= labels.length; count++) {
      record(outline, [...path, name, ...labels.slice(0, count)], position);
    }
    outline.blocks.add(outlineKey(blockPath));
    scanBody(scanner, blockPath, outline);
  }
}

const simpleEscapes: Record<string, string> = { n: "\n", r: "\r", t: "\t" };

class Scanner {
  private index = 0;
  private line = 1;
  private column = 1;
  /** Set when the expression being skipped holds an interpolation or a template directive. */
  private interpolates = false;

  constructor(private readonly text: string) {
    if (text.startsWith("\uFEFF")) this.index = 1;
  }

  peek(offset = 0): string {
    return this.text[this.index + offset] ?? "";
  }

  next(): string {
    const char = this.text[this.index] ?? "";
    this.index++;
    if (char === "\n") {
      this.line++;
      this.column = 1;
    } else {
      this.column++;
    }
    return char;
  }

  position(): SourcePosition {
    return { line: this.line, column: this.column };
  }

  readIdentifier(): string {
    if (!identifierStart.test(this.peek())) return "";
    let name = "";
    while (this.peek() !== "" && identifierPart.test(this.peek())) name += this.next();
    return name;
  }

  /** A quoted label with HCL's escapes decoded, so it matches the key hcl2json writes. */
  readQuotedLabel(): string {
    this.next();
    let label = "";
    while (this.peek() !== "" && this.peek() !== '"') {
      if (this.peek() !== "\\") {
        label += this.next();
        continue;
      }
      this.next();
      const escaped = this.next();
      const digits = escaped === "u" ? 4 : escaped === "U" ? 8 : 0;
      if (digits > 0) {
        let hex = "";
        for (let count = 0; count < digits; count++) hex += this.next();
        label += String.fromCodePoint(Number.parseInt(hex, 16));
      } else {
        label += simpleEscapes[escaped] ?? escaped;
      }
    }
    this.next();
    return label;
  }

  /** Skips blanks and comments; newlines too when `newlines` is set. */
  skipSpaceAndComments(newlines: boolean): void {
    for (;;) {
      const char = this.peek();
      if (char === " " || char === "\t" || char === "\r" || (newlines && char === "\n")) {
        this.next();
      } else if (char === "#" || (char === "/" && this.peek(1) === "/")) {
        while (this.peek() !== "" && this.peek() !== "\n") this.next();
      } else if (char === "/" && this.peek(1) === "*") {
        this.next();
        this.next();
        while (this.peek() !== "" && !(this.peek() === "*" && this.peek(1) === "/")) this.next();
        this.next();
        this.next();
      } else {
        return;
      }
    }
  }

  /**
   * Skips an attribute's expression: up to a newline or a closing brace outside brackets. True
   * when a string or heredoc in it holds `${...}` or `%{...}`.
   */
  skipExpression(): boolean {
    this.interpolates = false;
    let depth = 0;
    for (;;) {
      const char = this.peek();
      if (char === "") return this.interpolates;
      if (depth === 0 && (char === "\n" || char === "}")) return this.interpolates;
      if (char === '"') this.skipTemplate();
      else if (char === "<" && this.peek(1) === "<") this.skipHeredoc();
      else if (char === "#" || (char === "/" && (this.peek(1) === "/" || this.peek(1) === "*"))) {
        this.skipSpaceAndComments(false);
      } else {
        if (char === "(" || char === "[" || char === "{") depth++;
        if (char === ")" || char === "]" || char === "}") depth--;
        this.next();
      }
    }
  }

  private skipTemplate(): void {
    this.next();
    for (;;) {
      const char = this.peek();
      if (char === "" || char === "\n") return;
      if (char === '"') {
        this.next();
        return;
      }
      if (char === "\\") {
        this.next();
        this.next();
      } else if ((char === "$" || char === "%") && this.peek(1) === char && this.peek(2) === "{") {
        this.next();
        this.next();
        this.next();
      } else if ((char === "$" || char === "%") && this.peek(1) === "{") {
        this.interpolates = true;
        this.next();
        this.next();
        this.skipInterpolation();
      } else {
        this.next();
      }
    }
  }

  private skipInterpolation(): void {
    let depth = 1;
    while (depth > 0 && this.peek() !== "") {
      const char = this.peek();
      if (char === '"') {
        this.skipTemplate();
        continue;
      }
      if (char === "{") depth++;
      if (char === "}") depth--;
      this.next();
    }
  }

  private skipHeredoc(): void {
    this.next();
    this.next();
    if (this.peek() === "-") this.next();
    const marker = this.readIdentifier();
    while (this.peek() !== "" && this.peek() !== "\n") this.next();
    for (;;) {
      if (this.peek() === "") return;
      this.next();
      let line = "";
      while (this.peek() !== "" && this.peek() !== "\n") line += this.next();
      if (line.trim() === marker) return;
      // Heredocs are templates too; $${ and %%{ are their escapes.
      if (/[$%]\{/.test(line.replace(/\$\$\{|%%\{/g, ""))) this.interpolates = true;
    }
  }
}
