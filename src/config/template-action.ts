// The syntax of one {{ }} action: a pipeline of function calls and operands, Go-template style.

/** A template problem; `missingVariable` is set when only an unset env var is at fault. */
export class TemplateError extends Error {
  constructor(
    message: string,
    readonly missingVariable?: string,
  ) {
    super(message);
  }
}

export type Argument =
  | { kind: "literal"; value: string | number }
  | { kind: "call"; pipeline: Command[] };
/** A function call, or (first in a pipeline only) a plain operand: {{ "x" | upper }}. */
export type Command = { name: string; args: Argument[] } | { operand: Argument };

/** Parses the text between {{ and }} into a pipeline. */
export function parseAction(body: string): Command[] {
  const parser = new ActionParser(body);
  const pipeline = parser.parsePipeline();
  parser.expectEnd();
  return pipeline;
}

/** The index just past the string literal that starts at `start` ("..." or `...`). */
export function skipString(text: string, start: number): number {
  const quote = text[start];
  let index = start + 1;
  while (index < text.length && text[index] !== quote) {
    if (quote === '"' && text[index] === "\\") index++;
    index++;
  }
  if (index >= text.length) throw new TemplateError(`unterminated string in template action`);
  return index + 1;
}

const MAX_NESTING = 100;

/** Parses `name arg... | name arg...`; args are "strings", `raw strings`, numbers, names, (pipelines). */
class ActionParser {
  private index = 0;
  private depth = 0;

  constructor(private readonly source: string) {}

  parsePipeline(): Command[] {
    const commands: Command[] = [this.parseCommand()];
    for (;;) {
      this.skipSpace();
      if (this.source[this.index] !== "|") return commands;
      this.index++;
      commands.push(this.parseCommand());
    }
  }

  expectEnd(): void {
    this.skipSpace();
    if (this.index < this.source.length) {
      throw this.unexpected();
    }
  }

  private parseCommand(): Command {
    this.skipSpace();
    if (/^(?:["`(]|-?\d)/.test(this.source.slice(this.index, this.index + 2))) {
      const operand = this.parseArgument();
      this.skipSpace();
      const next = this.source[this.index];
      if (next !== undefined && next !== "|" && next !== ")") {
        throw this.unexpected();
      }
      return { operand };
    }
    const name = this.readName();
    if (!name) {
      const rest = this.source.slice(this.index).trim();
      throw new TemplateError(
        rest
          ? `expected a function name in template action, found "${rest}"`
          : "empty template action",
      );
    }
    const args: Argument[] = [];
    for (;;) {
      this.skipSpace();
      const char = this.source[this.index];
      if (char === undefined || char === "|" || char === ")") return { name, args };
      args.push(this.parseArgument());
    }
  }

  private parseArgument(): Argument {
    const char = this.source[this.index];
    if (char === '"') return { kind: "literal", value: this.readQuoted() };
    if (char === "`") return { kind: "literal", value: this.readRaw() };
    if (char === "(") {
      this.index++;
      // Parsing recurses per parenthesis: bound it so no input can exhaust the stack.
      if (++this.depth > MAX_NESTING) throw new TemplateError("template action nested too deeply");
      const pipeline = this.parsePipeline();
      this.depth--;
      this.skipSpace();
      if (this.source[this.index] !== ")")
        throw new TemplateError('missing ")" in template action');
      this.index++;
      return { kind: "call", pipeline };
    }
    const number = /^-?\d+(\.\d+)?/.exec(this.source.slice(this.index));
    if (number) {
      this.index += number[0].length;
      return { kind: "literal", value: Number(number[0]) };
    }
    const name = this.readName();
    if (name) return { kind: "call", pipeline: [{ name, args: [] }] };
    throw this.unexpected();
  }

  private readName(): string {
    const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.source.slice(this.index));
    if (!match) return "";
    this.index += match[0].length;
    return match[0];
  }

  private readQuoted(): string {
    const end = skipString(this.source, this.index);
    const literal = this.source.slice(this.index, end);
    this.index = end;
    try {
      return JSON.parse(literal) as string;
    } catch {
      throw new TemplateError(`invalid string ${literal} in template action`);
    }
  }

  private readRaw(): string {
    const end = skipString(this.source, this.index);
    const value = this.source.slice(this.index + 1, end - 1);
    this.index = end;
    return value;
  }

  private unexpected(): TemplateError {
    return new TemplateError(
      `unexpected "${this.source.slice(this.index).trim()}" in template action`,
    );
  }

  private skipSpace(): void {
    while (/\s/.test(this.source[this.index] ?? "")) this.index++;
  }
}
