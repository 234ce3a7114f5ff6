// Renders {{ ... }} templates inside config strings, with the few Go-template/Sprig functions
// DStream users write: env, default, required, now, date, upper, lower.
import { formatGoLayout, localTime, type ZonedTime } from "./go-date.ts";

export interface TemplateContext {
  env: Record<string, string | undefined>;
  now: () => Date;
}

/** A template problem; `missingVariable` is set when only an unset env var is at fault. */
export class TemplateError extends Error {
  constructor(
    message: string,
    readonly missingVariable?: string,
  ) {
    super(message);
  }
}

type Value = string | number | ZonedTime | MissingEnv;
/** An unset env var travels down a pipeline so `default` and `required` can handle it. */
interface MissingEnv {
  missing: string;
}

type Argument = { kind: "literal"; value: string | number } | { kind: "call"; pipeline: Command[] };
/** A function call, or (first in a pipeline only) a plain operand: {{ "x" | upper }}. */
type Command = { name: string; args: Argument[] } | { operand: Argument };

/** Renders every {{ }} action of `text`; text outside actions is kept verbatim. */
export function renderTemplate(text: string, context: TemplateContext): string {
  if (!text.includes("{{")) return text;
  let out = "";
  let index = 0;
  while (index < text.length) {
    const open = text.indexOf("{{", index);
    if (open === -1) {
      out += text.slice(index);
      break;
    }
    let literal = text.slice(index, open);
    const close = findActionEnd(text, open + 2);
    let body = text.slice(open + 2, close);
    if (body.startsWith("-") && /^-\s/.test(body)) {
      literal = literal.trimEnd();
      body = body.slice(1);
    }
    let trimAfter = false;
    if (/\s-$/.test(body)) {
      trimAfter = true;
      body = body.slice(0, -1);
    }
    out += literal + evaluateAction(body, context);
    index = close + 2;
    if (trimAfter) {
      while (index < text.length && /\s/.test(text[index] ?? "")) index++;
    }
  }
  return out;
}

function findActionEnd(text: string, from: number): number {
  let index = from;
  while (index < text.length) {
    const char = text[index];
    if (char === '"' || char === "`") {
      index = skipString(text, index);
      continue;
    }
    if (char === "}" && text[index + 1] === "}") return index;
    index++;
  }
  throw new TemplateError(
    `unclosed template action "{{${text.slice(from, from + 20)}" (missing "}}")`,
  );
}

function skipString(text: string, start: number): number {
  const quote = text[start];
  let index = start + 1;
  while (index < text.length && text[index] !== quote) {
    if (quote === '"' && text[index] === "\\") index++;
    index++;
  }
  if (index >= text.length) throw new TemplateError(`unterminated string in template action`);
  return index + 1;
}

function evaluateAction(body: string, context: TemplateContext): string {
  const parser = new ActionParser(body);
  const pipeline = parser.parsePipeline();
  parser.expectEnd();
  const value = runPipeline(pipeline, context);
  if (isMissing(value)) {
    throw new TemplateError(
      `environment variable ${value.missing} is not set (use {{ env "${value.missing}" | default "..." }} to make it optional)`,
      value.missing,
    );
  }
  return display(value);
}

function isMissing(value: Value): value is MissingEnv {
  return typeof value === "object" && "missing" in value;
}

function isTime(value: Value): value is ZonedTime {
  return typeof value === "object" && "date" in value;
}

function display(value: Value): string {
  if (isMissing(value)) return "";
  if (isTime(value)) return formatGoLayout("2006-01-02T15:04:05Z07:00", value);
  return String(value);
}

function isEmpty(value: Value): boolean {
  return isMissing(value) || value === "" || value === 0;
}

function runPipeline(pipeline: Command[], context: TemplateContext): Value {
  let piped: Value | undefined;
  for (const command of pipeline) {
    if ("operand" in command) {
      if (piped !== undefined) throw new TemplateError("only a function can take a piped value");
      piped = evaluateArgument(command.operand, context);
      continue;
    }
    const args = command.args.map((arg) => evaluateArgument(arg, context));
    if (piped !== undefined) args.push(piped);
    piped = callFunction(command.name, args, context);
  }
  if (piped === undefined) throw new TemplateError("empty template action");
  return piped;
}

function evaluateArgument(argument: Argument, context: TemplateContext): Value {
  if (argument.kind === "literal") return argument.value;
  return runPipeline(argument.pipeline, context);
}

function arity(name: string, args: Value[], min: number, max: number): void {
  if (args.length < min || args.length > max) {
    const expected = min === max ? `${min}` : `${min} to ${max}`;
    throw new TemplateError(
      `template function ${name} takes ${expected} argument${max === 1 ? "" : "s"}, got ${args.length}`,
    );
  }
}

function text(name: string, value: Value | undefined): string {
  if (value === undefined) return "";
  if (isMissing(value)) {
    throw new TemplateError(`environment variable ${value.missing} is not set`, value.missing);
  }
  if (isTime(value)) throw new TemplateError(`template function ${name} expects text, got a time`);
  return String(value);
}

const functionNames = ["env", "default", "required", "now", "date", "upper", "lower"] as const;

function callFunction(name: string, args: Value[], context: TemplateContext): Value {
  switch (name) {
    case "env": {
      arity(name, args, 1, 1);
      const variable = text(name, args[0]);
      const value = context.env[variable];
      return value === undefined ? { missing: variable } : value;
    }
    case "default": {
      arity(name, args, 1, 2);
      const given = args[1];
      return given === undefined || isEmpty(given) ? (args[0] as Value) : given;
    }
    case "required": {
      arity(name, args, 1, 2);
      const message = text(name, args[0]);
      const given = args[1];
      if (given === undefined) {
        // {{ required "X" }}: the env var X must be set and not empty.
        const value = context.env[message];
        if (!value) throw new TemplateError(`environment variable ${message} is required`, message);
        return value;
      }
      if (isEmpty(given)) throw new TemplateError(message);
      return given;
    }
    case "now":
      arity(name, args, 0, 0);
      return localTime(context.now());
    case "date": {
      arity(name, args, 1, 2);
      const layout = text(name, args[0]);
      const time = args[1] ?? localTime(context.now());
      if (!isTime(time))
        throw new TemplateError("template function date expects a time, as from now");
      return formatGoLayout(layout, time);
    }
    case "upper":
      arity(name, args, 1, 1);
      return text(name, args[0]).toUpperCase();
    case "lower":
      arity(name, args, 1, 1);
      return text(name, args[0]).toLowerCase();
    default:
      throw new TemplateError(
        `unknown template function "${name}" (known: ${functionNames.join(", ")})`,
      );
  }
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
