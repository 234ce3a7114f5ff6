// Reads the HCL subset dstream.lock.hcl is written in: `provider "ref" { digest = "..."
// platform "os/arch" { binary = "..." size = 1 } }`, with # and // comments; positions in errors.
// Hand-written because the HCL parser lives in config/, which imports registry/ (no cycle allowed).

export interface LockSyntaxBlock {
  type: string;
  label: string;
  line: number;
  attributes: Map<string, string | number>;
  blocks: LockSyntaxBlock[];
}

export class LockSyntaxError extends Error {
  constructor(
    readonly line: number,
    readonly column: number,
    message: string,
  ) {
    super(`${line}:${column}: ${message}`);
  }
}

type Token =
  | { kind: "word" | "string"; text: string; line: number; column: number }
  | { kind: "number"; value: number; line: number; column: number }
  | { kind: "{" | "}" | "=" | "end"; line: number; column: number };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const pattern =
    /(?<space>[ \t\r\n]+)|(?<comment>(?:#|\/\/)[^\n]*)|(?<word>[A-Za-z_][\w-]*)|(?<number>\d+)|"(?<string>(?:[^"\\\n]|\\.)*)"|(?<punct>[{}=])/y;
  let line = 1;
  let lineStart = 0;
  let index = 0;
  while (index < source.length) {
    pattern.lastIndex = index;
    const match = pattern.exec(source);
    const column = index - lineStart + 1;
    if (!match?.groups)
      throw new LockSyntaxError(line, column, `unexpected character "${source[index]}"`);
    const { space, word, number, string, punct } = match.groups;
    if (word !== undefined) tokens.push({ kind: "word", text: word, line, column });
    else if (number !== undefined)
      tokens.push({ kind: "number", value: Number(number), line, column });
    else if (string !== undefined) {
      tokens.push({ kind: "string", text: string.replace(/\\(.)/g, "$1"), line, column });
    } else if (punct !== undefined) tokens.push({ kind: punct as "{" | "}" | "=", line, column });
    if (space !== undefined) {
      for (let at = 0; at < space.length; at++) {
        if (space[at] === "\n") {
          line++;
          lineStart = index + at + 1;
        }
      }
    }
    index = pattern.lastIndex;
  }
  tokens.push({ kind: "end", line, column: index - lineStart + 1 });
  return tokens;
}

function describe(token: Token): string {
  if (token.kind === "end") return "the end of the file";
  if (token.kind === "word" || token.kind === "string") return `"${token.text}"`;
  if (token.kind === "number") return String(token.value);
  return `"${token.kind}"`;
}

/** Parses the whole file into its top-level blocks. */
export function parseLockSyntax(source: string): LockSyntaxBlock[] {
  const tokens = tokenize(source);
  let position = 0;
  const peek = (): Token => tokens[position] as Token;
  const fail = (expected: string): never => {
    const token = peek();
    throw new LockSyntaxError(
      token.line,
      token.column,
      `expected ${expected}, found ${describe(token)}`,
    );
  };

  const parseBody = (closing: "}" | "end"): Omit<LockSyntaxBlock, "type" | "label" | "line"> => {
    const attributes = new Map<string, string | number>();
    const blocks: LockSyntaxBlock[] = [];
    for (;;) {
      const token = peek();
      if (token.kind === closing) {
        position++;
        return { attributes, blocks };
      }
      if (token.kind !== "word")
        return fail(closing === "end" ? "a block" : 'an attribute, a block or "}"');
      position++;
      const next = peek();
      if (next.kind === "=") {
        position++;
        const value = peek();
        if (value.kind === "string") attributes.set(token.text, value.text);
        else if (value.kind === "number") attributes.set(token.text, value.value);
        else fail("a quoted string or a number");
        position++;
      } else if (next.kind === "string") {
        position++;
        if (peek().kind !== "{") fail('"{"');
        position++;
        blocks.push({ type: token.text, label: next.text, line: token.line, ...parseBody("}") });
      } else {
        fail('"=" or a quoted block label');
      }
    }
  };
  return parseBody("end").blocks;
}
