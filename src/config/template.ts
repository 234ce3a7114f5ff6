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

/** A string's rendering: its text when `errors` is empty, else every action's problem. */
export interface RenderResult {
  text: string;
  errors: TemplateError[];
}

type Value = string | number | ZonedTime | EmptyEnv;
/**
 * An env var that is unset or empty. Go's env gives "" for both; this one remembers the name, so
 * it flows through a pipeline (`env "A" | lower | default "z"`) and an unset one is an error only
 * if nothing replaced it by the end, and that error can name the variable.
 */
interface EmptyEnv {
  variable: string;
  unset: boolean;
}

/** Renders every {{ }} action of `text`; text outside actions is kept verbatim. */
export function renderTemplate(text: string, context: TemplateContext): RenderResult {
  const errors: TemplateError[] = [];
  if (!text.includes("{{")) return { text, errors };
  let out = "";
  let index = 0;
  while (index < text.length) {
    const open = text.indexOf("{{", index);
    if (open === -1) {
      out += text.slice(index);
      break;
    }
    let literal = text.slice(index, open);
    let close: number;
    try {
      close = findActionEnd(text, open + 2);
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      errors.push(error); // nothing after an unclosed action can be read as actions
      break;
    }
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
    try {
      out += literal + evaluateAction(body, context);
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      errors.push(error); // and go on, so every unset variable of the string is named
    }
    index = close + 2;
    if (trimAfter) {
      while (index < text.length && /\s/.test(text[index] ?? "")) index++;
    }
  }
  return { text: out, errors };
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
  const value = runPipeline(parseAction(body), context);
  if (isEmptyEnv(value) && value.unset) {
    throw new TemplateError(
      `environment variable ${value.variable} is not set (use {{ env "${value.variable}" | default "..." }} to make it optional)`,
      value.variable,
    );
  }
  return display(value);
}

function isEmptyEnv(value: Value): value is EmptyEnv {
  return typeof value === "object" && "variable" in value;
}

function isTime(value: Value): value is ZonedTime {
  return typeof value === "object" && "date" in value;
}

function display(value: Value): string {
  if (isEmptyEnv(value)) return "";
  if (isTime(value)) return formatGoLayout("2006-01-02T15:04:05Z07:00", value);
  return String(value);
}

function isEmpty(value: Value): boolean {
  return isEmptyEnv(value) || value === "" || value === 0;
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

function text(name: string, value: Value | undefined): string {
  if (value === undefined) return "";
  if (isTime(value)) throw new TemplateError(`template function ${name} expects text, got a time`);
  return display(value);
}

/** An env var's name: text, never a number (`{{ env 5 }}` would read a variable named "5"). */
function variableName(name: string, value: Value | undefined): string {
  if (typeof value === "number") {
    throw new TemplateError(
      `template function ${name} takes a variable name in quotes, got the number ${value}: {{ ${name} "NAME" }}`,
    );
  }
  return text(name, value);
}

interface TemplateFunction {
  min: number;
  max: number;
  /** Whether the function itself handles an empty env value in any argument (else it flows on). */
  takesEmpty?: boolean;
  call(args: Value[], context: TemplateContext): Value;
}

const functions: Record<string, TemplateFunction> = {
  env: {
    min: 1,
    max: 1,
    call(args, context) {
      const variable = variableName("env", args[0]);
      const value = context.env[variable];
      return value ? value : { variable, unset: value === undefined };
    },
  },
  default: {
    min: 1,
    max: 2,
    takesEmpty: true,
    call(args) {
      const given = args[1];
      return given === undefined || isEmpty(given) ? (args[0] as Value) : given;
    },
  },
  required: {
    min: 1,
    max: 2,
    takesEmpty: true,
    call(args, context) {
      const first = args[0] as Value;
      if (isEmptyEnv(first)) return first; // the message or name itself came from an empty env var
      const message = text("required", first);
      const given = args[1];
      if (given === undefined) {
        // {{ required "X" }}: the env var X must be set and not empty.
        variableName("required", first);
        const value = context.env[message];
        if (!value) throw new TemplateError(`environment variable ${message} is required`, message);
        return value;
      }
      if (isEmptyEnv(given)) throw new TemplateError(message, given.variable);
      if (isEmpty(given)) throw new TemplateError(message);
      return given;
    },
  },
  now: { min: 0, max: 0, call: (_args, context) => localTime(context.now()) },
  date: {
    min: 1,
    max: 2,
    call(args, context) {
      const layout = text("date", args[0]);
      const time = args[1] ?? localTime(context.now());
      if (!isTime(time)) {
        throw new TemplateError("template function date expects a time, as from now");
      }
      return formatGoLayout(layout, time);
    },
  },
  upper: { min: 1, max: 1, call: (args) => text("upper", args[0]).toUpperCase() },
  lower: { min: 1, max: 1, call: (args) => text("lower", args[0]).toLowerCase() },
};

function callFunction(name: string, args: Value[], context: TemplateContext): Value {
  const known = Object.hasOwn(functions, name) ? functions[name] : undefined;
  if (!known) {
    throw new TemplateError(
      `unknown template function "${name}" (known: ${Object.keys(functions).join(", ")})`,
    );
  }
  if (args.length < known.min || args.length > known.max) {
    const expected = known.min === known.max ? `${known.min}` : `${known.min} to ${known.max}`;
    throw new TemplateError(
      `template function ${name} takes ${expected} argument${known.max === 1 ? "" : "s"}, got ${args.length}`,
    );
  }
  // As in Go, where an unset variable is "": `env "A" | lower` is still empty, for default to catch.
  const empty = known.takesEmpty ? undefined : args.find(isEmptyEnv);
  return empty ?? known.call(args, context);
}
