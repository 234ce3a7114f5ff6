// The outline's reader of HCL source: names, labels and body structure, skipping expressions,
// strings, heredocs and comments. It moves an index only; a position's line is found when asked.
import type { SourcePosition } from "./outline.ts";

// HCL identifiers are Unicode (ID_Start, ID_Continue) plus "-": `café = 1` is a valid attribute.
const identifierStart = /[\p{ID_Start}_]/u;
const identifierPart = /[\p{ID_Continue}-]/u;

const simpleEscapes: Record<string, string> = { n: "\n", r: "\r", t: "\t" };

const NEWLINE = 10;
const QUOTE = 34;
const HASH = 35;
const DOLLAR = 36;
const PERCENT = 37;
const SLASH = 47;
const STAR = 42;
const BACKSLASH = 92;
const LESS = 60;

/** True for an ASCII letter, digit, "_" or "-"; other characters need the Unicode test. */
function isAsciiIdentifierPart(code: number): boolean {
  return (
    (code >= 97 && code <= 122) ||
    (code >= 65 && code <= 90) ||
    (code >= 48 && code <= 57) ||
    code === 95 ||
    code === 45
  );
}

export class Scanner {
  private index = 0;
  /** Where each line starts; `line` is the one that held the last position asked for. */
  private readonly lineStarts: number[] = [];
  private line = 0;
  /** Set when the expression being skipped holds an interpolation or a template directive. */
  private interpolates = false;

  constructor(private readonly text: string) {
    if (text.startsWith("\uFEFF")) this.index = 1;
    this.lineStarts.push(this.index);
    for (let at = text.indexOf("\n"); at !== -1; at = text.indexOf("\n", at + 1)) {
      this.lineStarts.push(at + 1);
    }
  }

  /** Where the next character stands in the source. */
  get offset(): number {
    return this.index;
  }

  peek(offset = 0): string {
    return this.text[this.index + offset] ?? "";
  }

  next(): string {
    return this.text[this.index++] ?? "";
  }

  /** The position of the next character. Asked for in source order, so the line only moves on. */
  position(): SourcePosition {
    const starts = this.lineStarts;
    while (this.line + 1 < starts.length && (starts[this.line + 1] ?? 0) <= this.index) this.line++;
    return { line: this.line + 1, column: this.index - (starts[this.line] ?? 0) + 1 };
  }

  private code(offset = 0): number {
    return this.text.charCodeAt(this.index + offset);
  }

  readIdentifier(): string {
    if (!identifierStart.test(this.peek())) return "";
    const start = this.index;
    for (;;) {
      const code = this.code();
      if (Number.isNaN(code)) break;
      if (!isAsciiIdentifierPart(code) && (code < 128 || !identifierPart.test(this.peek()))) break;
      this.index++;
    }
    return this.text.slice(start, this.index);
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

  /** Moves to the next newline (or the end), not past it. */
  private skipToLineEnd(): void {
    const end = this.text.indexOf("\n", this.index);
    this.index = end === -1 ? Math.max(this.index, this.text.length) : end;
  }

  /** Skips blanks and comments; newlines too when `newlines` is set. */
  skipSpaceAndComments(newlines: boolean): void {
    for (;;) {
      const code = this.code();
      if (code === 32 || code === 9 || code === 13 || (newlines && code === NEWLINE)) {
        this.index++;
      } else if (code === HASH || (code === SLASH && this.code(1) === SLASH)) {
        this.skipToLineEnd();
      } else if (code === SLASH && this.code(1) === STAR) {
        const end = this.text.indexOf("*/", this.index + 2);
        // Unterminated: past the end, as HCL itself would never have accepted it.
        this.index = end === -1 ? this.text.length + 2 : end + 2;
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
      const code = this.code();
      if (Number.isNaN(code)) return this.interpolates;
      if (depth === 0 && (code === NEWLINE || code === 125)) return this.interpolates;
      if (code === QUOTE) this.skipTemplate();
      else if (code === LESS && this.code(1) === LESS) this.skipHeredoc();
      else if (
        code === HASH ||
        (code === SLASH && (this.code(1) === SLASH || this.code(1) === STAR))
      ) {
        this.skipSpaceAndComments(false);
      } else {
        if (code === 40 || code === 91 || code === 123) depth++;
        else if (code === 41 || code === 93 || code === 125) depth--;
        this.index++;
      }
    }
  }

  private skipTemplate(): void {
    this.index++;
    for (;;) {
      const code = this.code();
      if (Number.isNaN(code) || code === NEWLINE) return;
      if (code === QUOTE) {
        this.index++;
        return;
      }
      if (code === BACKSLASH) {
        this.index += 2;
      } else if (
        (code === DOLLAR || code === PERCENT) &&
        this.code(1) === code &&
        this.code(2) === 123
      ) {
        this.index += 3;
      } else if ((code === DOLLAR || code === PERCENT) && this.code(1) === 123) {
        this.interpolates = true;
        this.index += 2;
        this.skipInterpolation();
      } else {
        this.index++;
      }
    }
  }

  private skipInterpolation(): void {
    let depth = 1;
    while (depth > 0 && this.index < this.text.length) {
      const code = this.code();
      if (code === QUOTE) {
        this.skipTemplate();
        continue;
      }
      if (code === 123) depth++;
      if (code === 125) depth--;
      this.index++;
    }
  }

  private skipHeredoc(): void {
    this.index += 2;
    if (this.peek() === "-") this.index++;
    const marker = this.readIdentifier();
    this.skipToLineEnd();
    for (;;) {
      if (this.index >= this.text.length) return;
      this.index++;
      const start = this.index;
      this.skipToLineEnd();
      const line = this.text.slice(start, this.index);
      if (line.trim() === marker) return;
      // Heredocs are templates too; $${ and %%{ are their escapes.
      if (/[$%]\{/.test(line.replace(/\$\$\{|%%\{/g, ""))) this.interpolates = true;
    }
  }
}
