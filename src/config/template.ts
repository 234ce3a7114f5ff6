// Renders {{ ... }} templates inside config strings, with the few Go-template/Sprig functions
// DStream users write: env, default, required, now, date, upper, lower.
import { formatGoLayout, localTime, type ZonedTime } from "./go-date.ts";
import {
  type Argument,
  type Command,
  parseAction,
  skipString,
  TemplateError,
} from "./template-action.ts";

export { TemplateError } from "./template-action.ts";

export interface TemplateContext {
  env: Record<string, string | undefined>;
  now: () => Date;
}

type Value = string | number | ZonedTime | MissingEnv;
/** An unset env var travels down a pipeline so `default` and `required` can handle it. */
interface MissingEnv {
  missing: string;
}

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

function evaluateAction(body: string, context: TemplateContext): string {
  const pipeline = parseAction(body);
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
