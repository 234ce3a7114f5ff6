// Turns hcl2json's encoding of config values into plain JSON, once: blocks become objects (or lists
// when repeated), HCL's "$${" escapes are undone, and {{ }} templates are rendered.
import { type Outline, outlineKey } from "../hcl/index.ts";
import { renderTemplate, type TemplateContext } from "./template.ts";

export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };
export type ValuePath = (string | number)[];

export interface ValueProblem {
  path: ValuePath;
  message: string;
}

/**
 * What happens to {{ }} templates. strict: they render, and every problem is reported (an unset
 * env var too). lenient: a string whose only problems are unset env vars keeps its templates as
 * written. skip: templates are kept as written and not checked (a task the command does not use).
 */
export type TemplateMode = "strict" | "lenient" | "skip";

export interface ValueContext extends TemplateContext {
  outline: Outline;
  templates: TemplateMode;
  problems: ValueProblem[];
}

export const EXPRESSION_MESSAGE =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the message names HCL's syntax.
  "HCL expressions and ${...} interpolation are not supported here; write a literal value (dstream templates use {{ }})";

/** True when hcl2json wrote an HCL expression or interpolation: an unescaped "${" or "%{". */
function hasInterpolation(text: string): boolean {
  return /(^|[^$])\$\{|(^|[^%])%\{/.test(text.replace(/\$\$\{|%%\{/g, ""));
}

function unescapeHcl(text: string): string {
  return text.replace(/\$\$\{/g, "${").replace(/%%\{/g, "%{");
}

/** True when `path` lies in an attribute whose source interpolates: reported once, from the outline. */
function inInterpolatedAttribute(path: ValuePath, context: ValueContext): boolean {
  const { interpolatedKeys } = context.outline;
  if (interpolatedKeys.size === 0) return false;
  const names = path.filter((part) => typeof part === "string");
  for (let length = names.length; length > 0; length--) {
    if (interpolatedKeys.has(outlineKey(names.slice(0, length)))) return true;
  }
  return false;
}

/** A converted string, and whether it is final (false: kept as written, templates unrendered). */
export interface ConvertedString {
  text: string;
  rendered: boolean;
}

/** Converts one string: rejects HCL expressions, undoes escapes, renders templates. */
export function renderString(
  text: string,
  path: ValuePath,
  context: ValueContext,
): ConvertedString {
  if (inInterpolatedAttribute(path, context)) return { text, rendered: false };
  if (hasInterpolation(text)) {
    context.problems.push({ path, message: EXPRESSION_MESSAGE });
    return { text, rendered: false };
  }
  const literal = unescapeHcl(text);
  if (context.templates === "skip") return { text: literal, rendered: !literal.includes("{{") };
  const result = renderTemplate(literal, context);
  if (result.errors.length === 0) return { text: result.text, rendered: true };
  for (const error of result.errors) {
    if (context.templates === "strict" || error.missingVariable === undefined) {
      context.problems.push({ path, message: error.message });
    }
  }
  return { text: literal, rendered: false };
}

export function convertString(text: string, path: ValuePath, context: ValueContext): string {
  return renderString(text, path, context).text;
}

/** Object keys may be escaped or (wrongly) computed like values; block labels are kept as written. */
function convertKey(key: string, path: ValuePath, context: ValueContext): string {
  if (context.outline.blocks.has(outlineKey(path))) return key;
  if (hasInterpolation(key)) {
    if (!inInterpolatedAttribute(path, context)) {
      context.problems.push({ path, message: EXPRESSION_MESSAGE });
    }
    return key;
  }
  return unescapeHcl(key);
}

/** Sets `key` as an own property: `object[key] = value` would set the prototype for "__proto__". */
export function setOwn<T>(object: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(object, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** Converts a config value at `path` (names and labels from the file's root). */
export function convertValue(value: unknown, path: ValuePath, context: ValueContext): JsonValue {
  if (typeof value === "string") return convertString(value, path, context);
  if (typeof value === "number" && !Number.isFinite(value)) {
    // JSON has no Infinity: the provider would silently receive null.
    context.problems.push({ path, message: "number is too large (over about 1.8e308)" });
    return value;
  }
  if (value === null || typeof value === "number" || typeof value === "boolean") return value;
  if (Array.isArray(value)) {
    const isBlock = context.outline.blocks.has(outlineKey(path));
    if (isBlock && value.length === 1) return convertValue(value[0], path, context);
    return value.map((item, index) => convertValue(item, [...path, index], context));
  }
  if (typeof value === "object") {
    const out: Record<string, JsonValue> = {};
    for (const [key, item] of Object.entries(value)) {
      setOwn(
        out,
        convertKey(key, [...path, key], context),
        convertValue(item, [...path, key], context),
      );
    }
    return out;
  }
  return String(value);
}
